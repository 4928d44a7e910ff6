import t, { type Test } from 'tap'
import { verifyJira } from '../../../src/kinds/project-management/jira.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { calls, testToken, userHost, type ProviderDouble } from '../../helpers/provider-double.js'
import { assertNoSecret as assertNoToken, atUserHost, checksOf, verifierCases } from '../../helpers/verifier-cases.js'

const CLOUD_MYSELF = '/rest/api/3/myself'
const SERVER_MYSELF = '/rest/api/2/myself'
const EMAIL = 'release-bot@acme.example'

function cloud(double: ProviderDouble, token: string, values: Record<string, unknown> = {}): VerifyRequest {
  return { provider: 'JIRA', values: { baseUrl: double.origin, jiraType: 'CLOUD', email: EMAIL, ...values }, secrets: { apiToken: token } }
}

function server(baseUrl: string, token: string, jiraType = 'SERVER'): VerifyRequest {
  return { provider: 'JIRA', values: { baseUrl, jiraType }, secrets: { apiToken: token } }
}

const cloudUser = {
  self: 'https://acme.atlassian.net/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5',
  accountId: '5b10ac8d82e05b22cc7d4ef5',
  accountType: 'atlassian',
  emailAddress: EMAIL,
  displayName: 'Release Bot',
  active: true,
  timeZone: 'Europe/Berlin',
  locale: 'en_US',
  groups: { size: 3, items: [] },
  applicationRoles: { size: 1, items: [] },
}

const serverUser = {
  self: 'https://jira.acme.example/rest/api/2/user?username=release-bot',
  key: 'JIRAUSER10100',
  name: 'release-bot',
  emailAddress: EMAIL,
  displayName: 'Release Bot',
  active: true,
  deleted: false,
  timeZone: 'Europe/Berlin',
  locale: 'en_US',
}

/** Jira's answer to bad credentials: the Seraph filter's header and a JSON error body. */
function unauthorized(reason = 'AUTHENTICATED_FAILED') {
  return {
    status: 401,
    headers: { 'x-seraph-loginreason': reason, 'www-authenticate': 'OAuth realm="https%3A%2F%2Facme.atlassian.net"' },
    body: { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} },
  }
}

/** The Basic credential a Cloud API token travels in. */
const basicCredential = (token: string) => Buffer.from(`${EMAIL}:${token}`).toString('base64')

function assertNoSecret(t: Test, value: unknown, token: string) {
  assertNoToken(t, value, token, basicCredential(token))
}

t.test('Cloud: an API token for an active account is VALID and goes as Basic email:token to /rest/api/3', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('ATATT3x')
  double.on('GET', CLOUD_MYSELF, { body: cloudUser })

  const result = await verifyJira(cloud(double, token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: signed in to Jira as Release Bot')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'Jira accepted the credentials for Release Bot' },
    { name: 'account-active', ok: true, detail: 'the account is active' },
  ])
  t.same(result.facts, { displayName: 'Release Bot', accountId: '5b10ac8d82e05b22cc7d4ef5' })
  t.same(result.credential, { expiresAt: null, scopes: null })
  t.same(calls(double), [`GET ${CLOUD_MYSELF}`])
  const sent = double.received[0]?.headers
  t.equal(sent?.authorization, `Basic ${basicCredential(token)}`)
  const basic = String(sent?.authorization).replace(/^Basic /, '')
  t.equal(Buffer.from(basic, 'base64').toString('utf8'), `${EMAIL}:${token}`, 'Basic decodes to email:apiToken')
  t.equal(sent?.accept, 'application/json')
  t.equal(sent?.['user-agent'], 'delivr-integrations')
  assertNoSecret(t, result, token)
})

t.test('Server: a personal access token goes as Bearer to /rest/api/2 under the base path, and key is the account id', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('NjM')
  double.on('GET', `/jira${SERVER_MYSELF}`, { body: serverUser })

  const result = await verifyJira(server(`${double.origin}/jira`, token), context)

  t.equal(result.verdict, 'VALID')
  t.same(result.facts, { displayName: 'Release Bot', accountId: 'JIRAUSER10100' })
  t.same(calls(double), [`GET /jira${SERVER_MYSELF}`])
  t.equal(double.received[0]?.headers.authorization, `Bearer ${token}`)
  t.equal(double.received[0]?.headers.accept, 'application/json')
  assertNoSecret(t, result, token)
})

t.test('Data Center is asked like Server, and an old Server without key is named by name', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('NjM')
  const { key: _key, ...withoutKey } = serverUser
  double.on('GET', SERVER_MYSELF, { body: withoutKey })
  const result = await verifyJira(server(double.origin, token, 'DATA_CENTER'), context)
  t.equal(result.verdict, 'VALID')
  t.equal(result.facts.accountId, 'release-bot')
  t.equal(double.received[0]?.headers.authorization, `Bearer ${token}`)
})

t.test('a deactivated account is INVALID', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('ATATT3x')
  double.on('GET', CLOUD_MYSELF, { body: { ...cloudUser, active: false } })

  const result = await verifyJira(cloud(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The Jira account of Release Bot is deactivated')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['account-active', false],
  ])
  t.equal(result.checks[1]?.detail, 'the account is deactivated')
  t.same(result.facts, { displayName: 'Release Bot', accountId: '5b10ac8d82e05b22cc7d4ef5' })
  assertNoSecret(t, result, token)
})

t.test('an account Jira does not say is active is not VALID', async (t) => {
  const { double, context } = await userHost(t)
  const { active: _active, ...withoutActive } = cloudUser
  double.on('GET', CLOUD_MYSELF, { body: withoutActive })
  const result = await verifyJira(cloud(double, testToken('ATATT3x')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.checks[1]?.detail, 'Jira did not say whether the account is active')
})

t.test('Cloud: refused credentials (401 AUTHENTICATED_FAILED) are INVALID', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('ATATT3x')
  double.on('GET', CLOUD_MYSELF, unauthorized())

  const result = await verifyJira(cloud(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jira refused the credentials: the email or API token is wrong, or the token was revoked (401)')
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: result.message },
    { name: 'account-active', ok: false, detail: 'not checked: the credentials were refused' },
  ])
  t.same(result.facts, { displayName: null, accountId: null })
  t.notMatch(JSON.stringify(result), 'You are not authenticated', 'the provider body is not passed on')
  assertNoSecret(t, result, token)
})

t.test('Server: a refused personal access token is INVALID', async (t) => {
  const { double, context } = await userHost(t)
  double.on('GET', SERVER_MYSELF, { status: 401, body: '' })
  const result = await verifyJira(server(double.origin, testToken('NjM')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jira refused the credentials: the personal access token is wrong, expired or revoked (401)')
})

t.test('AUTHENTICATION_DENIED means a CAPTCHA is required, and the message says so', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('ATATT3x')
  double.on('GET', CLOUD_MYSELF, unauthorized('AUTHENTICATION_DENIED'))
  const result = await verifyJira(cloud(double, token), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(
    result.message,
    'Jira refused the credentials: the account must solve a CAPTCHA after failed sign-ins; sign in to Jira in a browser once, then verify again',
  )
  assertNoSecret(t, result, token)
})

t.test('a 403 is INVALID', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('ATATT3x')
  double.on('GET', CLOUD_MYSELF, { status: 403, body: { errorMessages: ['Forbidden'], errors: {} } })
  const result = await verifyJira(cloud(double, token), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jira refused the credentials: the account is not allowed to use the REST API (403)')
  assertNoSecret(t, result, token)
})

t.test('a 200 that is not Jira JSON (a login page) is INVALID: not the Jira REST API', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('ATATT3x')
  double.on('GET', CLOUD_MYSELF, {
    headers: { 'content-type': 'text/html;charset=UTF-8' },
    body: '<!DOCTYPE html><html><head><title>Log in - Jira</title></head><body>Log in</body></html>',
  })

  const result = await verifyJira(cloud(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, `The server at ${double.origin} did not answer like the Jira REST API (200); check the base URL and Jira type`)
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: 'the server did not answer like the Jira REST API (200)' },
    { name: 'account-active', ok: false, detail: 'not checked: the server did not answer like Jira' },
  ])
  t.notMatch(JSON.stringify(result), 'Log in')
  assertNoSecret(t, result, token)
})

t.test('a 404 for /myself is INVALID: the base URL is not Jira', async (t) => {
  const { double, context } = await userHost(t)
  const result = await verifyJira(server(double.origin, testToken('NjM')), context)
  t.equal(result.verdict, 'INVALID')
  t.match(result.message, /did not answer like the Jira REST API \(404\)/)
  t.same(calls(double), [`GET ${SERVER_MYSELF}`])
})

t.test('Cloud without an email is INVALID and nothing is sent', async (t) => {
  const { double, context } = await userHost(t)
  const result = await verifyJira(cloud(double, testToken('ATATT3x'), { email: null }), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jira Cloud needs the email of the Atlassian account')
  t.equal(double.received.length, 0)
})

verifierCases(
  t,
  atUserHost({
    name: 'Jira',
    verify: verifyJira,
    path: CLOUD_MYSELF,
    token: () => testToken('ATATT3x'),
    encoded: (token) => [basicCredential(token)],
    request: (token, double) => cloud(double, token),
  }),
  {
    timeout: true,
    crossOriginRedirect: { status: 302, decoy: { body: cloudUser } },
    notAllowListed: { hostname: 'jira.example.test', allowedHosts: ['localhost:443'], decoy: { body: cloudUser } },
    rateLimited: [
      {
        title: 'a 429 with Retry-After',
        reply: {
          status: 429,
          headers: {
            'retry-after': '17',
            'x-ratelimit-limit': '350',
            'x-ratelimit-remaining': '0',
            'ratelimit-reason': 'jira-burst-based',
          },
          body: '',
        },
        retryAfter: 17,
      },
    ],
    noVerdict: [
      {
        title: 'a server error',
        reply: { status: 500, body: { errorMessages: ['Internal server error'] } },
        message: 'Jira answered 500; try again later',
      },
      {
        title: 'an unexpected status',
        reply: { status: 400, body: { errorMessages: ['Bad request'] } },
        message: 'Jira answered 400; no verdict could be given',
      },
    ],
    missingSecret: { message: 'No API token was given' },
  },
)
