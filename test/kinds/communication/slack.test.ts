import t from 'tap'
import { verifySlack } from '../../../src/kinds/communication/slack.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { testToken, type Reply } from '../../helpers/provider-double.js'
import { atConfiguredApi, notChecked, verdictCases, verifierCases, type VerdictCase } from '../../helpers/verifier-cases.js'

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
const slackError = (error: string, extra: Record<string, unknown> = {}): Reply => ({ body: { ok: false, error, ...extra } })

const slack = atConfiguredApi({
  name: 'Slack',
  verify: verifySlack,
  method: 'POST',
  path: AUTH_TEST,
  token: () => testToken('xoxb-'),
  // auth.test is posted as an empty form, with the token as a bearer token.
  headers: (token) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': '0',
    'user-agent': 'delivr-integrations',
  }),
  apis: (origin) => ({ slack: `${origin}/api` }),
  request: (token) => request(token),
})

const noFacts = { teamId: null, team: null, workspaceUrl: null, botUserId: null }
const facts = { teamId: 'T0123ABCD', team: 'Acme Mobile', workspaceUrl: 'https://acme-mobile.slack.com/', botUserId: 'U0456EFGH' }
const accepted = { name: 'authenticated', ok: true, detail: 'Slack accepted the token for Acme Mobile' }
const isBot = { name: 'is-bot-token', ok: true, detail: 'the token belongs to a bot user' }
const { bot_id: _bot, ...withoutBot } = identity

/** A refusal Slack answers with `ok: false`: INVALID, with the reason in the message, and nothing else checked. */
function refused(name: string, reply: Reply, reason: string): VerdictCase {
  return {
    name,
    reply,
    verdict: 'INVALID',
    message: `Slack refused the bot token: ${reason}`,
    checks: [
      { name: 'authenticated', ok: false, detail: `Slack refused the token: ${reason}` },
      ...notChecked('the token was refused', 'is-bot-token', 'can-post-messages'),
    ],
    facts: noFacts,
    credential: { expiresAt: null, scopes: null },
  }
}

const refusals: Array<[string, string]> = [
  ['invalid_auth', 'the token is not recognised (invalid_auth)'],
  ['not_authed', 'no token reached Slack (not_authed)'],
  ['account_inactive', 'the bot user or its workspace has been deactivated (account_inactive)'],
  ['token_revoked', 'the token has been revoked (token_revoked)'],
  ['no_permission', 'the token has no permission to call this method (no_permission)'],
  ['missing_scope', 'the token lacks a scope this method needs (missing_scope)'],
  ['team_access_not_granted', 'error team_access_not_granted'],
]

// What Slack's auth.test answers, and the verdict, message and checks that come of it; the token is posted as
// the spec says and appears in no result.
verdictCases(t, slack, [
  {
    name: 'a bot token with chat:write is VALID, with the workspace Slack answered for',
    reply: { headers: { 'x-oauth-scopes': SCOPES, 'x-accepted-oauth-scopes': '' }, body: identity },
    verdict: 'VALID',
    message: 'Verified: the bot can post to Acme Mobile',
    checks: [accepted, isBot, { name: 'can-post-messages', ok: true, detail: 'scope chat:write granted' }],
    facts,
    credential: { expiresAt: null, scopes: ['chat:write', 'channels:read', 'groups:read'] },
    calls: [`POST ${AUTH_TEST}`],
  },
  {
    name: 'without a scope header the post check passes and says scopes were not reported',
    reply: { body: identity },
    verdict: 'VALID',
    message: 'Verified: the bot can post to Acme Mobile',
    checks: [accepted, isBot, { name: 'can-post-messages', ok: true, detail: 'scopes not reported' }],
    credential: { expiresAt: null, scopes: null },
  },
  {
    name: 'a bot token without chat:write is INVALID: it cannot post messages',
    reply: { headers: { 'x-oauth-scopes': 'channels:read,users:read' }, body: identity },
    verdict: 'INVALID',
    message: 'The bot token lacks the chat:write scope, so it cannot post messages',
    checks: [accepted, isBot, { name: 'can-post-messages', ok: false, detail: 'the token lacks the chat:write scope' }],
    // What Slack told is kept.
    facts,
    credential: { expiresAt: null, scopes: ['channels:read', 'users:read'] },
  },
  {
    name: 'a token Slack accepts without a bot is INVALID and posting is not checked',
    reply: { headers: { 'x-oauth-scopes': SCOPES }, body: withoutBot },
    verdict: 'INVALID',
    message: 'Slack accepted the token but it does not belong to a bot',
    checks: [
      accepted,
      { name: 'is-bot-token', ok: false, detail: 'Slack did not report a bot for the token' },
      ...notChecked('the token is not a bot token', 'can-post-messages'),
    ],
  },
  {
    name: 'a token that is not a bot token is INVALID and never sent',
    secret: () => testToken('xoxp-'),
    verdict: 'INVALID',
    message: 'The token is not a bot token: Slack bot tokens start with xoxb-',
    checks: [
      ...notChecked('the token is not a bot token', 'authenticated'),
      { name: 'is-bot-token', ok: false, detail: 'the token is not a bot token: bot tokens start with xoxb-' },
      ...notChecked('the token is not a bot token', 'can-post-messages'),
    ],
    facts: noFacts,
    calls: [],
  },
  {
    name: 'an expired token is EXPIRED',
    reply: slackError('token_expired'),
    verdict: 'EXPIRED',
    message: 'Slack says the bot token has expired',
    checks: [
      { name: 'authenticated', ok: false, detail: 'Slack says the token has expired' },
      ...notChecked('the token has expired', 'is-bot-token', 'can-post-messages'),
    ],
    facts: noFacts,
  },
  ...refusals.map(([error, reason]) => refused(`${error} is INVALID and says why`, slackError(error), reason)),
  refused(
    'missing_scope names the scopes Slack says are needed',
    slackError('missing_scope', { needed: 'chat:write,users:read', provided: 'channels:read' }),
    'the token lacks the scope chat:write, users:read (missing_scope)',
  ),
  {
    ...refused('an error code that is not an identifier is not passed on', slackError('<html>Something odd</html>'), 'no reason was given'),
    hidden: 'Something odd',
  },
])

verifierCases(t, slack, {
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
})
