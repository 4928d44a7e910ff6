import t, { type Test } from 'tap'
import { ProviderUnavailableError } from '../../src/errors.js'
import { OutboundError } from '../../src/outbound/index.js'
import { verifyJenkins } from '../../src/verify/cicd/index.js'
import type { VerificationResult, VerifyRequest } from '../../src/verify/types.js'
import {
  loopbackLookup,
  rejection,
  startProviderDouble,
  testToken,
  verifyContext,
  type ProviderDouble,
} from '../helpers/provider-double.js'
import { localhostCertificate } from '../helpers/tls.js'

const API = '/jenkins/api/json?tree=mode,nodeDescription,jobs[name]'
const USER = 'ci-bot'

function request(double: ProviderDouble, token: string, values: Record<string, unknown> = {}): VerifyRequest {
  return {
    provider: 'JENKINS',
    values: { hostUrl: `${double.origin}/jenkins`, username: USER, ...values },
    secrets: { apiToken: token },
  }
}

const jenkinsHeaders = { 'x-jenkins': '2.462.3', 'x-hudson': '1.395', 'x-jenkins-session': '5f1c9a2e' }

const root = {
  _class: 'hudson.model.Hudson',
  mode: 'NORMAL',
  nodeDescription: "the Jenkins controller's built-in node",
  jobs: [
    { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: 'mobile-release' },
    { _class: 'com.cloudbees.hudson.plugins.folder.Folder', name: 'apps' },
    { _class: 'hudson.model.FreeStyleProject', name: 'nightly' },
  ],
}

/** Jenkins' refusal of a user lacking a permission: an HTML page plus headers naming who asked and what was missing. */
function forbidden(actingAs: string) {
  return {
    status: 403,
    headers: {
      ...jenkinsHeaders,
      'content-type': 'text/html;charset=utf-8',
      'x-you-are-authenticated-as': actingAs,
      'x-you-are-in-group-disabled': 'JENKINS-39402: use -Dhudson.security.AccessDeniedException2.REPORT_GROUP_HEADERS=true',
      'x-required-permission': 'hudson.model.Hudson.Read',
      'x-permission-implied-by': 'hudson.model.Hudson.Administer',
    },
    body: `<html><body><h2>Access Denied</h2><p>${actingAs} is missing the Overall/Read permission</p></body></html>`,
  }
}

async function jenkins(t: Test, options: { timeoutMs?: number } = {}) {
  const tls = await localhostCertificate()
  const double = await startProviderDouble(t, { tls, hostname: 'localhost' })
  const context = verifyContext(t, {
    allowedHosts: [`localhost:${double.port}`],
    ca: [tls.cert],
    lookup: loopbackLookup('localhost'),
    ...options,
  })
  return { double, context }
}

function checksOf(result: VerificationResult) {
  return result.checks.map(({ name, ok }) => [name, ok])
}

function basicCredentials(header: string | undefined): string | undefined {
  const match = /^Basic (.+)$/.exec(header ?? '')
  return match?.[1] === undefined ? undefined : Buffer.from(match[1], 'base64').toString('utf8')
}

function assertNoSecret(t: Test, value: unknown, token: string) {
  const text = JSON.stringify(value)
  t.notMatch(text, token, 'the token appears nowhere in the output')
  t.notMatch(text, Buffer.from(`${USER}:${token}`).toString('base64'), 'nor does the encoded Basic credential')
}

t.test('a user who can read Jenkins is VALID, with the version and job count Jenkins reports', async (t) => {
  const { double, context } = await jenkins(t)
  const token = testToken('11')
  double.on('GET', API, { headers: jenkinsHeaders, body: root })

  const result = await verifyJenkins(request(double, token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, `Verified: ci-bot can read Jenkins at ${double.origin}/jenkins`)
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'Jenkins 2.462.3 accepted the API token of ci-bot' },
    { name: 'api-readable', ok: true, detail: 'the API is readable; 3 top-level jobs' },
  ])
  t.same(result.facts, { jenkinsVersion: '2.462.3', jobCount: 3, url: `${double.origin}/jenkins` })
  t.same(result.credential, { expiresAt: null, scopes: null })
  t.same(
    double.received.map((r) => `${r.method} ${r.path}`),
    [`GET ${API}`],
  )
  const [received] = double.received
  t.equal(basicCredentials(received?.headers.authorization), `${USER}:${token}`, 'Basic credentials decode to user:apiToken')
  t.equal(received?.headers.accept, 'application/json')
  t.equal(received?.headers['user-agent'], 'delivr-integrations')
  assertNoSecret(t, result, token)
})

t.test('a trailing slash on the URL and a Jenkins without jobs or version header still verify', async (t) => {
  const { double, context } = await jenkins(t)
  double.on('GET', API, { body: { _class: 'hudson.model.Hudson', mode: 'EXCLUSIVE', jobs: [] } })
  const result = await verifyJenkins(request(double, testToken('11'), { hostUrl: `${double.origin}/jenkins/` }), context)
  t.equal(result.verdict, 'VALID')
  t.same(result.facts, { jenkinsVersion: null, jobCount: 0, url: `${double.origin}/jenkins` })
})

t.test('a refused user name or API token is INVALID and the API is not checked', async (t) => {
  const { double, context } = await jenkins(t)
  const token = testToken('11')
  double.on('GET', API, {
    status: 401,
    headers: { ...jenkinsHeaders, 'www-authenticate': 'Basic realm="Jenkins"', 'content-type': 'text/html;charset=utf-8' },
    body: '<html><body><h2>HTTP ERROR 401 Invalid password/token for user: ci-bot</h2></body></html>',
  })

  const result = await verifyJenkins(request(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jenkins refused the user name or API token')
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: 'Jenkins refused the user name or API token of ci-bot' },
    { name: 'api-readable', ok: false, detail: 'not checked: the credentials were refused' },
  ])
  t.same(result.facts, { jenkinsVersion: null, jobCount: null, url: `${double.origin}/jenkins` })
  t.notMatch(JSON.stringify(result), 'Invalid password', 'the provider body is not passed on')
  t.equal(basicCredentials(double.received[0]?.headers.authorization), `${USER}:${token}`)
  assertNoSecret(t, result, token)
})

t.test('a 403 Jenkins answers as anonymous means the credentials were not applied: INVALID', async (t) => {
  const { double, context } = await jenkins(t)
  double.on('GET', API, forbidden('anonymous'))
  const result = await verifyJenkins(request(double, testToken('11')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jenkins refused the user name or API token')
  t.same(checksOf(result), [
    ['authenticated', false],
    ['api-readable', false],
  ])
})

t.test('a user without Overall/Read is INVALID: authenticated, but the API is not readable', async (t) => {
  const { double, context } = await jenkins(t)
  const token = testToken('11')
  double.on('GET', API, forbidden(USER))

  const result = await verifyJenkins(request(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Jenkins accepted ci-bot but the user lacks the Overall/Read permission')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'Jenkins accepted the API token of ci-bot' },
    { name: 'api-readable', ok: false, detail: 'ci-bot lacks the Overall/Read permission' },
  ])
  t.notMatch(JSON.stringify(result), /Access Denied|JENKINS-39402/, 'the provider body and headers are not passed on')
  assertNoSecret(t, result, token)
})

t.test('a sign-in page behind a same-origin redirect is INVALID: it did not answer like a Jenkins API', async (t) => {
  const { double, context } = await jenkins(t)
  const token = testToken('11')
  double
    .on('GET', API, { status: 302, headers: { location: '/oauth2/sign_in?rd=%2Fjenkins%2Fapi%2Fjson' } })
    .on('GET', '/oauth2/sign_in?rd=%2Fjenkins%2Fapi%2Fjson', {
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: '<!DOCTYPE html><html><head><title>Sign In</title></head><body><form method="POST">…</form></body></html>',
    })

  const result = await verifyJenkins(request(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(
    result.message,
    `${double.origin}/jenkins did not answer like a Jenkins API; check the URL and any sign-in proxy in front of Jenkins`,
  )
  t.same(result.checks, [
    {
      name: 'authenticated',
      ok: false,
      detail: `${double.origin}/jenkins did not answer like a Jenkins API (answered 200 without the Jenkins JSON)`,
    },
    { name: 'api-readable', ok: false, detail: 'not checked: the host did not answer like Jenkins' },
  ])
  t.equal(double.received.length, 2, 'the same-origin redirect was followed')
  assertNoSecret(t, result, token)
})

t.test('JSON that is not Jenkins’ root object and a 404 at the API path are not Jenkins either', async (t) => {
  const { double, context } = await jenkins(t)
  double.on('GET', API, { body: { status: 'ok', version: '1.0' } })
  const json = await verifyJenkins(request(double, testToken('11')), context)
  t.equal(json.verdict, 'INVALID')
  t.match(json.checks[0], { ok: false, detail: /did not answer like a Jenkins API/ })

  const { double: wrongPath, context: wrongContext } = await jenkins(t)
  const notFound = await verifyJenkins(request(wrongPath, testToken('11')), wrongContext)
  t.equal(notFound.verdict, 'INVALID')
  t.match(notFound.checks[0], { ok: false, detail: /did not answer like a Jenkins API \(answered 404\)/ })
})

t.test('a rate-limited Jenkins (429) is a 503 carrying its Retry-After', async (t) => {
  const { double, context } = await jenkins(t)
  const token = testToken('11')
  double.on('GET', API, { status: 429, headers: { 'retry-after': '20' }, body: 'Too Many Requests' })
  const err = await rejection(verifyJenkins(request(double, token), context))
  t.type(err, ProviderUnavailableError)
  const unavailable = err as ProviderUnavailableError
  t.equal(unavailable.code, 'PROVIDER_RATE_LIMITED')
  t.same(unavailable.headers, { 'retry-after': '20' })
  t.equal(unavailable.message, 'Jenkins rate limit reached; retry after 20 seconds')
  assertNoSecret(t, unavailable.message, token)
})

t.test('a Jenkins that is starting up (503) gives no verdict', async (t) => {
  const { double, context } = await jenkins(t)
  double.on('GET', API, {
    status: 503,
    headers: { ...jenkinsHeaders, 'content-type': 'text/html;charset=utf-8' },
    body: '<html><body>Please wait while Jenkins is getting ready to work…</body></html>',
  })
  const err = (await rejection(verifyJenkins(request(double, testToken('11')), context))) as ProviderUnavailableError
  t.type(err, ProviderUnavailableError)
  t.equal(err.statusCode, 503)
  t.equal(err.code, 'PROVIDER_ERROR')
  t.equal(err.message, 'Jenkins answered 503; try again later')
})

t.test('a Jenkins that never answers times out with OutboundError TIMEOUT', async (t) => {
  const { double, context } = await jenkins(t, { timeoutMs: 300 })
  double.on('GET', API, 'hang')
  const err = await rejection(verifyJenkins(request(double, testToken('11')), context))
  t.type(err, OutboundError)
  t.equal((err as OutboundError).code, 'TIMEOUT')
  t.equal(double.received.length, 1)
})

t.test('a redirect to another origin is refused and the credentials never reach it', async (t) => {
  const tls = await localhostCertificate()
  const a = await startProviderDouble(t, { tls, hostname: 'localhost' })
  const b = await startProviderDouble(t, { tls, hostname: 'localhost' })
  a.on('GET', API, { status: 302, headers: { location: `${b.origin}${API}` } })
  b.on('GET', API, { headers: jenkinsHeaders, body: root })
  const context = verifyContext(t, {
    allowedHosts: [`localhost:${a.port}`, `localhost:${b.port}`],
    ca: [tls.cert],
    lookup: loopbackLookup('localhost'),
  })

  const err = await rejection(verifyJenkins(request(a, testToken('11')), context))

  t.type(err, OutboundError)
  t.equal((err as OutboundError).code, 'REDIRECT_REFUSED')
  t.equal(a.received.length, 1)
  t.equal(b.received.length, 0, 'the other origin received nothing')
  t.equal(b.connections, 0)
})

t.test('a Jenkins host that resolves to loopback and is not allow-listed is refused before anything is sent', async (t) => {
  const tls = await localhostCertificate()
  const double = await startProviderDouble(t, { tls, hostname: 'ci.acme.test' })
  double.on('GET', API, { headers: jenkinsHeaders, body: root })
  const context = verifyContext(t, { allowedHosts: ['localhost:443'], ca: [tls.cert], lookup: loopbackLookup('ci.acme.test') })

  const err = await rejection(verifyJenkins(request(double, testToken('11')), context))

  t.type(err, OutboundError)
  t.equal((err as OutboundError).code, 'ADDRESS_REFUSED')
  t.equal(double.connections, 0)
  t.equal(double.received.length, 0)
})

t.test('without a stored API token nothing is sent and the result is INVALID', async (t) => {
  const { double, context } = await jenkins(t)
  const result = await verifyJenkins({ ...request(double, ''), secrets: {} }, context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'No API token was given')
  t.same(result.checks[1], { name: 'api-readable', ok: false, detail: 'not checked: no API token was given' })
  t.equal(double.received.length, 0)
})
