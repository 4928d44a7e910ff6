import t, { type Test } from 'tap'
import { verifyJenkins } from '../../../src/kinds/ci-cd/jenkins.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { testToken, userHost, type ProviderDouble } from '../../helpers/provider-double.js'
import { assertNoSecret as assertNoToken, atUserHost, verdictCases, verifierCases } from '../../helpers/verifier-cases.js'

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

const jenkins = atUserHost({
  name: 'Jenkins',
  verify: verifyJenkins,
  path: API,
  token: () => testToken('11'),
  encoded: (token) => [basicCredential(token)],
  headers: (token) => ({
    authorization: `Basic ${basicCredential(token)}`,
    accept: 'application/json',
    'user-agent': 'delivr-integrations',
  }),
  request: (token, double) => request(double, token),
})

const refused = [
  { name: 'authenticated', ok: false, detail: 'Jenkins refused the user name or API token of ci-bot' },
  { name: 'api-readable', ok: false, detail: 'not checked: the credentials were refused' },
]

/** What a host at `origin` that answers, but not like Jenkins' API, is told. */
const notJenkins = (origin: string) =>
  `${origin}/jenkins did not answer like a Jenkins API; check the URL and any sign-in proxy in front of Jenkins`
const notJenkinsChecks = (why: string) => (origin: string) => [
  { name: 'authenticated', ok: false, detail: `${origin}/jenkins did not answer like a Jenkins API (${why})` },
  { name: 'api-readable', ok: false, detail: 'not checked: the host did not answer like Jenkins' },
]

const SIGN_IN = '/oauth2/sign_in?rd=%2Fjenkins%2Fapi%2Fjson'

// Jenkins refuses the credentials, or the host answers but not as Jenkins: each row's verdict, message and checks,
// the Basic credential on every request, and neither the provider's text nor any form of the token in the result.
verdictCases(t, jenkins, [
  {
    name: 'a refused user name or API token is INVALID and the API is not checked',
    reply: {
      status: 401,
      headers: { ...jenkinsHeaders, 'www-authenticate': 'Basic realm="Jenkins"', 'content-type': 'text/html;charset=utf-8' },
      body: '<html><body><h2>HTTP ERROR 401 Invalid password/token for user: ci-bot</h2></body></html>',
    },
    verdict: 'INVALID',
    message: 'Jenkins refused the user name or API token',
    checks: refused,
    facts: (origin) => ({ jenkinsVersion: null, jobCount: null, url: `${origin}/jenkins` }),
    calls: [`GET ${API}`],
    hidden: 'Invalid password',
  },
  {
    name: 'a 403 Jenkins answers as anonymous means the credentials were not applied: INVALID',
    reply: forbidden('anonymous'),
    verdict: 'INVALID',
    message: 'Jenkins refused the user name or API token',
    checks: refused,
  },
  {
    name: 'a user without Overall/Read is INVALID: authenticated, but the API is not readable',
    reply: forbidden(USER),
    verdict: 'INVALID',
    message: 'Jenkins accepted ci-bot but the user lacks the Overall/Read permission',
    checks: [
      { name: 'authenticated', ok: true, detail: 'Jenkins accepted the API token of ci-bot' },
      { name: 'api-readable', ok: false, detail: 'ci-bot lacks the Overall/Read permission' },
    ],
    hidden: /Access Denied|JENKINS-39402/,
  },
  {
    name: 'a sign-in page behind a same-origin redirect is INVALID: it did not answer like a Jenkins API',
    reply: { status: 302, headers: { location: SIGN_IN } },
    script: (double) =>
      double.on('GET', SIGN_IN, {
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<!DOCTYPE html><html><head><title>Sign In</title></head><body><form method="POST">…</form></body></html>',
      }),
    verdict: 'INVALID',
    message: notJenkins,
    checks: notJenkinsChecks('answered 200 without the Jenkins JSON'),
    // The same-origin redirect was followed.
    calls: [`GET ${API}`, `GET ${SIGN_IN}`],
  },
  {
    name: 'JSON that is not Jenkins’ root object is not Jenkins: INVALID',
    reply: { body: { status: 'ok', version: '1.0' } },
    verdict: 'INVALID',
    message: notJenkins,
    checks: notJenkinsChecks('answered 200 without the Jenkins JSON'),
  },
  {
    name: 'a 404 at the API path is not Jenkins either: INVALID',
    verdict: 'INVALID',
    message: notJenkins,
    checks: notJenkinsChecks('answered 404'),
  },
])

verifierCases(t, jenkins, {
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
})
