import t, { type Test } from 'tap'
import { verifyJenkins } from '../../../src/kinds/ci-cd/jenkins.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { testToken, userHost, type ProviderDouble } from '../../helpers/provider-double.js'
import { assertNoSecret as assertNoToken, atUserHost, checksOf, verifierCases } from '../../helpers/verifier-cases.js'

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

function basicCredentials(header: string | undefined): string | undefined {
  const match = /^Basic (.+)$/.exec(header ?? '')
  return match?.[1] === undefined ? undefined : Buffer.from(match[1], 'base64').toString('utf8')
}

/** The Basic credential the API token travels in. */
const basicCredential = (token: string) => Buffer.from(`${USER}:${token}`).toString('base64')

function assertNoSecret(t: Test, value: unknown, token: string) {
  assertNoToken(t, value, token, basicCredential(token))
}

t.test('a user who can read Jenkins is VALID, with the version and job count Jenkins reports', async (t) => {
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
  double.on('GET', API, { body: { _class: 'hudson.model.Hudson', mode: 'EXCLUSIVE', jobs: [] } })
  const result = await verifyJenkins(request(double, testToken('11'), { hostUrl: `${double.origin}/jenkins/` }), context)
  t.equal(result.verdict, 'VALID')
  t.same(result.facts, { jenkinsVersion: null, jobCount: 0, url: `${double.origin}/jenkins` })
})

t.test('a refused user name or API token is INVALID and the API is not checked', async (t) => {
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
  double.on('GET', API, { body: { status: 'ok', version: '1.0' } })
  const json = await verifyJenkins(request(double, testToken('11')), context)
  t.equal(json.verdict, 'INVALID')
  t.match(json.checks[0], { ok: false, detail: /did not answer like a Jenkins API/ })

  const { double: wrongPath, context: wrongContext } = await userHost(t)
  const notFound = await verifyJenkins(request(wrongPath, testToken('11')), wrongContext)
  t.equal(notFound.verdict, 'INVALID')
  t.match(notFound.checks[0], { ok: false, detail: /did not answer like a Jenkins API \(answered 404\)/ })
})

verifierCases(
  t,
  atUserHost({
    name: 'Jenkins',
    verify: verifyJenkins,
    path: API,
    token: () => testToken('11'),
    encoded: (token) => [basicCredential(token)],
    request: (token, double) => request(double, token),
  }),
  {
    timeout: true,
    crossOriginRedirect: { status: 302, decoy: { headers: jenkinsHeaders, body: root } },
    notAllowListed: { hostname: 'ci.acme.test', allowedHosts: ['localhost:443'], decoy: { headers: jenkinsHeaders, body: root } },
    rateLimited: [
      {
        title: 'a 429 with Retry-After',
        reply: { status: 429, headers: { 'retry-after': '20' }, body: 'Too Many Requests' },
        retryAfter: 20,
      },
    ],
    noVerdict: [
      {
        title: 'a Jenkins that is starting up (503)',
        reply: {
          status: 503,
          headers: { ...jenkinsHeaders, 'content-type': 'text/html;charset=utf-8' },
          body: '<html><body>Please wait while Jenkins is getting ready to work…</body></html>',
        },
        message: 'Jenkins answered 503; try again later',
      },
    ],
    missingSecret: {
      message: 'No API token was given',
      checks: [
        { name: 'authenticated', ok: false, detail: 'no API token was given' },
        { name: 'api-readable', ok: false, detail: 'not checked: no API token was given' },
      ],
    },
  },
)
