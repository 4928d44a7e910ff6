import t, { type Test } from 'tap'
import { ProviderUnavailableError } from '../../src/errors.js'
import { OutboundError } from '../../src/outbound/index.js'
import { verifyCheckmate } from '../../src/verify/test-management/index.js'
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

const PROJECTS = '/checkmate/api/v1/projects?orgId=7&page=1&pageSize=1'

function request(double: ProviderDouble, token: string, values: Record<string, unknown> = {}): VerifyRequest {
  return {
    provider: 'CHECKMATE',
    values: { baseUrl: `${double.origin}/checkmate`, orgId: '7', ...values },
    secrets: { authToken: token },
  }
}

/** Checkmate's project list: one page of projects and the total as a SQL count row. */
function projectsPage(count: number) {
  return {
    data: {
      projectsList:
        count === 0
          ? []
          : [
              {
                projectId: 12,
                createdByName: 'QA Lead',
                projectName: 'Mobile app',
                projectDescription: 'Release regression suite',
                orgId: 7,
                createdOn: '2025-02-11T09:30:00.000Z',
              },
            ],
      projectCount: [{ count }],
    },
  }
}

async function checkmate(t: Test, options: { timeoutMs?: number } = {}) {
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

function assertNoSecret(t: Test, value: unknown, token: string) {
  t.notMatch(JSON.stringify(value), token, 'the token appears nowhere in the output')
}

t.test('a token that can list the organisation’s projects is VALID, with the project count', async (t) => {
  const { double, context } = await checkmate(t)
  const token = testToken('cm_')
  double.on('GET', PROJECTS, { body: projectsPage(14) })

  const result = await verifyCheckmate(request(double, token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: token can read the projects of Checkmate organisation 7')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'Checkmate accepted the token' },
    { name: 'organisation-accessible', ok: true, detail: 'organisation 7 has 14 projects' },
  ])
  t.same(result.facts, { projectCount: 14, orgId: '7' })
  t.same(result.credential, { expiresAt: null, scopes: null })
  t.same(
    double.received.map((r) => `${r.method} ${r.path}`),
    [`GET ${PROJECTS}`],
  )
  t.match(double.received[0]?.headers, {
    authorization: `Bearer ${token}`,
    accept: 'application/json',
    'user-agent': 'delivr-integrations',
  })
  assertNoSecret(t, result, token)
})

t.test('a plain total is read as well, and a body without one still verifies', async (t) => {
  const { double, context } = await checkmate(t)
  double.on('GET', PROJECTS, { body: { data: { projectsList: [{ projectId: 1 }], total: 3 } } })
  const total = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(total.verdict, 'VALID')
  t.equal(total.facts.projectCount, 3)

  const { double: other, context: otherContext } = await checkmate(t)
  other.on('GET', PROJECTS, { body: { data: { projectsList: [{ projectId: 1 }] } } })
  const unknown = await verifyCheckmate(request(other, testToken('cm_')), otherContext)
  t.equal(unknown.verdict, 'VALID')
  t.same(unknown.facts, { projectCount: null, orgId: '7' })
  t.equal(unknown.checks[1]?.detail, 'organisation 7 has projects')
})

t.test('an organisation with no projects is INVALID: Checkmate answers an unknown organisation the same way', async (t) => {
  const { double, context } = await checkmate(t)
  double.on('GET', PROJECTS, { body: projectsPage(0) })
  const result = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Checkmate accepted the token but it lists no projects in organisation 7; check the organisation id')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['organisation-accessible', false],
  ])
})

t.test('a refused token is INVALID and the organisation is not checked', async (t) => {
  const { double, context } = await checkmate(t)
  const token = testToken('cm_')
  double.on('GET', PROJECTS, { status: 401, body: { error: 'Unauthorized: invalid or expired token' } })

  const result = await verifyCheckmate(request(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Checkmate refused the auth token')
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: 'Checkmate refused the token' },
    { name: 'organisation-accessible', ok: false, detail: 'not checked: the token was refused' },
  ])
  t.same(result.facts, { projectCount: null, orgId: '7' })
  t.notMatch(JSON.stringify(result), 'Unauthorized:', 'the provider body is not passed on')
  t.equal(double.received[0]?.headers.authorization, `Bearer ${token}`)
  assertNoSecret(t, result, token)
})

t.test('a token without access to the organisation (403) is INVALID', async (t) => {
  const { double, context } = await checkmate(t)
  const token = testToken('cm_')
  double.on('GET', PROJECTS, { status: 403, body: { error: 'You do not have access to this resource' } })

  const result = await verifyCheckmate(request(double, token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Checkmate accepted the token but the token has no access to organisation 7 (403)')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'Checkmate accepted the token' },
    { name: 'organisation-accessible', ok: false, detail: 'the token has no access to organisation 7 (403)' },
  ])
  t.notMatch(JSON.stringify(result), 'You do not have access', 'the provider body is not passed on')
  assertNoSecret(t, result, token)
})

t.test('a 404 for the organisation is INVALID too', async (t) => {
  const { double, context } = await checkmate(t)
  double.on('GET', PROJECTS, { status: 404, body: { error: 'Organisation not found' } })
  const result = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(result.verdict, 'INVALID')
  t.match(result.checks[1], { ok: false, detail: /organisation 7 \(404\)/ })
})

t.test('a sign-in page answered with 200 is INVALID: it did not answer like the Checkmate API', async (t) => {
  const { double, context } = await checkmate(t)
  double.on('GET', PROJECTS, {
    headers: { 'content-type': 'text/html' },
    body: '<!DOCTYPE html><html><title>Checkmate | Login</title></html>',
  })
  const result = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, `${double.origin}/checkmate did not answer like the Checkmate API; check the URL`)
  t.same(result.checks[1], { name: 'organisation-accessible', ok: false, detail: 'not checked: the host did not answer like Checkmate' })
})

t.test('a rate-limited Checkmate is a 503 carrying its Retry-After', async (t) => {
  const { double, context } = await checkmate(t)
  const token = testToken('cm_')
  double.on('GET', PROJECTS, { status: 429, headers: { 'retry-after': '15' }, body: { error: 'Too many requests' } })
  const err = await rejection(verifyCheckmate(request(double, token), context))
  t.type(err, ProviderUnavailableError)
  const unavailable = err as ProviderUnavailableError
  t.equal(unavailable.code, 'PROVIDER_RATE_LIMITED')
  t.same(unavailable.headers, { 'retry-after': '15' })
  t.equal(unavailable.message, 'Checkmate rate limit reached; retry after 15 seconds')
  assertNoSecret(t, unavailable.message, token)
})

t.test('a Checkmate server error gives no verdict', async (t) => {
  const { double, context } = await checkmate(t)
  double.on('GET', PROJECTS, { status: 500, body: { error: 'Internal Server Error' } })
  const err = (await rejection(verifyCheckmate(request(double, testToken('cm_')), context))) as ProviderUnavailableError
  t.type(err, ProviderUnavailableError)
  t.equal(err.code, 'PROVIDER_ERROR')
  t.equal(err.message, 'Checkmate answered 500; try again later')
})

t.test('a Checkmate that never answers times out with OutboundError TIMEOUT', async (t) => {
  const { double, context } = await checkmate(t, { timeoutMs: 300 })
  double.on('GET', PROJECTS, 'hang')
  const err = await rejection(verifyCheckmate(request(double, testToken('cm_')), context))
  t.type(err, OutboundError)
  t.equal((err as OutboundError).code, 'TIMEOUT')
})

t.test('a redirect to another origin is refused and the token never reaches it', async (t) => {
  const tls = await localhostCertificate()
  const a = await startProviderDouble(t, { tls, hostname: 'localhost' })
  const b = await startProviderDouble(t, { tls, hostname: 'localhost' })
  a.on('GET', PROJECTS, { status: 307, headers: { location: `${b.origin}${PROJECTS}` } })
  b.on('GET', PROJECTS, { body: projectsPage(3) })
  const context = verifyContext(t, {
    allowedHosts: [`localhost:${a.port}`, `localhost:${b.port}`],
    ca: [tls.cert],
    lookup: loopbackLookup('localhost'),
  })

  const err = await rejection(verifyCheckmate(request(a, testToken('cm_')), context))

  t.type(err, OutboundError)
  t.equal((err as OutboundError).code, 'REDIRECT_REFUSED')
  t.equal(a.received.length, 1)
  t.equal(b.received.length, 0, 'the other origin received nothing')
  t.equal(b.connections, 0)
})

t.test('a Checkmate host that resolves to loopback and is not allow-listed is refused before anything is sent', async (t) => {
  const tls = await localhostCertificate()
  const double = await startProviderDouble(t, { tls, hostname: 'checkmate.acme.test' })
  const context = verifyContext(t, { ca: [tls.cert], lookup: loopbackLookup('checkmate.acme.test') })
  const err = await rejection(verifyCheckmate(request(double, testToken('cm_')), context))
  t.type(err, OutboundError)
  t.equal((err as OutboundError).code, 'ADDRESS_REFUSED')
  t.equal(double.connections, 0)
})

t.test('without a stored token nothing is sent and the result is INVALID', async (t) => {
  const { double, context } = await checkmate(t)
  const result = await verifyCheckmate({ ...request(double, ''), secrets: {} }, context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'No auth token was given')
  t.equal(double.received.length, 0)
})
