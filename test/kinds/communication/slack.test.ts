import t, { type Test } from 'tap'
import { verifySlack } from '../../../src/kinds/communication/slack.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { startProviderDouble, testToken, verifyContext } from '../../helpers/provider-double.js'
import { assertNoSecret, atConfiguredApi, checksOf, verifierCases } from '../../helpers/verifier-cases.js'

const AUTH_TEST = '/api/auth.test'

function request(token: string): VerifyRequest {
  return { provider: 'SLACK', values: {}, secrets: { botToken: token } }
}

const identity = {
  ok: true,
  url: 'https://acme-mobile.slack.com/',
  team: 'Acme Mobile',
  user: 'delivr',
  team_id: 'T0123ABCD',
  user_id: 'U0456EFGH',
  bot_id: 'B0789IJKL',
  is_enterprise_install: false,
}

const SCOPES = 'chat:write,channels:read,groups:read'

/** Slack answers errors with HTTP 200 and `ok: false`, and no scope header. */
const slackError = (error: string, extra: Record<string, unknown> = {}) => ({ body: { ok: false, error, ...extra } })

async function slack(t: Test) {
  const double = await startProviderDouble(t)
  return { double, context: verifyContext(t, { apis: { slack: `${double.origin}/api` } }) }
}

const noFacts = { teamId: null, team: null, workspaceUrl: null, botUserId: null }

t.test('a bot token with chat:write is VALID, with the workspace Slack answered for', async (t) => {
  const { double, context } = await slack(t)
  const token = testToken('xoxb-')
  double.on('POST', AUTH_TEST, { headers: { 'x-oauth-scopes': SCOPES, 'x-accepted-oauth-scopes': '' }, body: identity })

  const result = await verifySlack(request(token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: the bot can post to Acme Mobile')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'Slack accepted the token for Acme Mobile' },
    { name: 'is-bot-token', ok: true, detail: 'the token belongs to a bot user' },
    { name: 'can-post-messages', ok: true, detail: 'scope chat:write granted' },
  ])
  t.same(result.facts, { teamId: 'T0123ABCD', team: 'Acme Mobile', workspaceUrl: 'https://acme-mobile.slack.com/', botUserId: 'U0456EFGH' })
  t.same(result.credential, { expiresAt: null, scopes: ['chat:write', 'channels:read', 'groups:read'] })
  t.equal(double.received.length, 1)
  const [sent] = double.received
  t.equal(sent?.method, 'POST')
  t.equal(sent?.path, AUTH_TEST)
  t.equal(sent?.headers.authorization, `Bearer ${token}`, 'the token travels as a bearer token')
  t.equal(sent?.headers['content-type'], 'application/x-www-form-urlencoded')
  t.equal(sent?.headers['user-agent'], 'delivr-integrations')
  t.equal(sent?.headers['content-length'], '0', 'the body is empty')
  assertNoSecret(t, result, token)
})

t.test('without a scope header the post check passes and says scopes were not reported', async (t) => {
  const { double, context } = await slack(t)
  double.on('POST', AUTH_TEST, { body: identity })
  const result = await verifySlack(request(testToken('xoxb-')), context)
  t.equal(result.verdict, 'VALID')
  t.same(result.checks[2], { name: 'can-post-messages', ok: true, detail: 'scopes not reported' })
  t.same(result.credential, { expiresAt: null, scopes: null })
})

t.test('a bot token without chat:write is INVALID: it cannot post messages', async (t) => {
  const { double, context } = await slack(t)
  const token = testToken('xoxb-')
  double.on('POST', AUTH_TEST, { headers: { 'x-oauth-scopes': 'channels:read,users:read' }, body: identity })

  const result = await verifySlack(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The bot token lacks the chat:write scope, so it cannot post messages')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['is-bot-token', true],
    ['can-post-messages', false],
  ])
  t.equal(result.checks[2]?.detail, 'the token lacks the chat:write scope')
  t.equal(result.facts.teamId, 'T0123ABCD', 'what Slack told is kept')
  t.same(result.credential.scopes, ['channels:read', 'users:read'])
  assertNoSecret(t, result, token)
})

t.test('a token Slack accepts without a bot is INVALID and posting is not checked', async (t) => {
  const { double, context } = await slack(t)
  const { bot_id: _bot, ...withoutBot } = identity
  double.on('POST', AUTH_TEST, { headers: { 'x-oauth-scopes': SCOPES }, body: withoutBot })
  const result = await verifySlack(request(testToken('xoxb-')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Slack accepted the token but it does not belong to a bot')
  t.same(result.checks.slice(1), [
    { name: 'is-bot-token', ok: false, detail: 'Slack did not report a bot for the token' },
    { name: 'can-post-messages', ok: false, detail: 'not checked: the token is not a bot token' },
  ])
})

t.test('a token that is not a bot token is INVALID and never sent', async (t) => {
  const { double, context } = await slack(t)
  const token = testToken('xoxp-')

  const result = await verifySlack(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The token is not a bot token: Slack bot tokens start with xoxb-')
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: 'not checked: the token is not a bot token' },
    { name: 'is-bot-token', ok: false, detail: 'the token is not a bot token: bot tokens start with xoxb-' },
    { name: 'can-post-messages', ok: false, detail: 'not checked: the token is not a bot token' },
  ])
  t.same(result.facts, noFacts)
  t.equal(double.received.length, 0, 'Slack was not called')
  t.equal(double.connections, 0)
  assertNoSecret(t, result, token)
})

t.test('an expired token is EXPIRED', async (t) => {
  const { double, context } = await slack(t)
  const token = testToken('xoxb-')
  double.on('POST', AUTH_TEST, slackError('token_expired'))

  const result = await verifySlack(request(token), context)

  t.equal(result.verdict, 'EXPIRED')
  t.equal(result.message, 'Slack says the bot token has expired')
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: 'Slack says the token has expired' },
    { name: 'is-bot-token', ok: false, detail: 'not checked: the token has expired' },
    { name: 'can-post-messages', ok: false, detail: 'not checked: the token has expired' },
  ])
  t.same(result.facts, noFacts)
  assertNoSecret(t, result, token)
})

const refusals: Array<[string, string]> = [
  ['invalid_auth', 'Slack refused the bot token: the token is not recognised (invalid_auth)'],
  ['not_authed', 'Slack refused the bot token: no token reached Slack (not_authed)'],
  ['account_inactive', 'Slack refused the bot token: the bot user or its workspace has been deactivated (account_inactive)'],
  ['token_revoked', 'Slack refused the bot token: the token has been revoked (token_revoked)'],
  ['no_permission', 'Slack refused the bot token: the token has no permission to call this method (no_permission)'],
  ['missing_scope', 'Slack refused the bot token: the token lacks a scope this method needs (missing_scope)'],
  ['team_access_not_granted', 'Slack refused the bot token: error team_access_not_granted'],
]

for (const [error, message] of refusals) {
  t.test(`${error} is INVALID and says why`, async (t) => {
    const { double, context } = await slack(t)
    const token = testToken('xoxb-')
    double.on('POST', AUTH_TEST, slackError(error))

    const result = await verifySlack(request(token), context)

    t.equal(result.verdict, 'INVALID')
    t.equal(result.message, message)
    t.same(checksOf(result), [
      ['authenticated', false],
      ['is-bot-token', false],
      ['can-post-messages', false],
    ])
    t.equal(result.checks[1]?.detail, 'not checked: the token was refused')
    t.same(result.credential, { expiresAt: null, scopes: null })
    assertNoSecret(t, result, token)
  })
}

t.test('missing_scope names the scopes Slack says are needed', async (t) => {
  const { double, context } = await slack(t)
  double.on('POST', AUTH_TEST, slackError('missing_scope', { needed: 'chat:write,users:read', provided: 'channels:read' }))
  const result = await verifySlack(request(testToken('xoxb-')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Slack refused the bot token: the token lacks the scope chat:write, users:read (missing_scope)')
})

t.test('an error code that is not an identifier is not passed on', async (t) => {
  const { double, context } = await slack(t)
  double.on('POST', AUTH_TEST, slackError('<html>Something odd</html>'))
  const result = await verifySlack(request(testToken('xoxb-')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Slack refused the bot token: no reason was given')
  t.notMatch(JSON.stringify(result), 'Something odd')
})

verifierCases(
  t,
  atConfiguredApi({
    name: 'Slack',
    verify: verifySlack,
    method: 'POST',
    path: AUTH_TEST,
    token: () => testToken('xoxb-'),
    apis: (origin) => ({ slack: `${origin}/api` }),
    request: (token) => request(token),
  }),
  {
    timeout: true,
    crossOriginRedirect: { status: 307, decoy: { body: identity } },
    rateLimited: [
      {
        title: 'HTTP 429 with Retry-After',
        reply: { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } },
        retryAfter: 30,
      },
      {
        title: 'ok:false ratelimited on HTTP 200',
        reply: { headers: { 'retry-after': '5' }, body: { ok: false, error: 'ratelimited' } },
        retryAfter: 5,
      },
    ],
    noVerdict: [
      { title: 'a server error', reply: { status: 503, body: 'upstream unavailable' }, message: 'Slack answered 503; try again later' },
      ...['fatal_error', 'internal_error', 'service_unavailable'].map((error) => ({
        title: `ok:false ${error}`,
        reply: slackError(error),
        message: `Slack reported ${error}; try again later`,
      })),
      {
        title: 'an answer that is not the Slack Web API',
        reply: { headers: { 'content-type': 'text/html' }, body: '<html><body>Welcome</body></html>' },
        message: 'Slack did not answer like the Slack Web API; no verdict could be given',
      },
      {
        title: 'an unexpected status',
        reply: { status: 404, body: { message: 'Not Found' } },
        message: 'Slack answered 404; no verdict could be given',
      },
    ],
    missingSecret: { message: 'No bot token was given' },
  },
)
