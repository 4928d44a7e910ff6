import t from 'tap'
import { verifyCheckmate } from '../../../src/kinds/test-management/checkmate.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { testToken, userHost, type ProviderDouble } from '../../helpers/provider-double.js'
import { assertNoSecret, atUserHost, checksOf, verifierCases } from '../../helpers/verifier-cases.js'

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

t.test('a token that can list the organisation’s projects is VALID, with the project count', async (t) => {
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
  double.on('GET', PROJECTS, { body: { data: { projectsList: [{ projectId: 1 }], total: 3 } } })
  const total = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(total.verdict, 'VALID')
  t.equal(total.facts.projectCount, 3)

  const { double: other, context: otherContext } = await userHost(t)
  other.on('GET', PROJECTS, { body: { data: { projectsList: [{ projectId: 1 }] } } })
  const unknown = await verifyCheckmate(request(other, testToken('cm_')), otherContext)
  t.equal(unknown.verdict, 'VALID')
  t.same(unknown.facts, { projectCount: null, orgId: '7' })
  t.equal(unknown.checks[1]?.detail, 'organisation 7 has projects')
})

t.test('an organisation with no projects is INVALID: Checkmate answers an unknown organisation the same way', async (t) => {
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
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
  const { double, context } = await userHost(t)
  double.on('GET', PROJECTS, { status: 404, body: { error: 'Organisation not found' } })
  const result = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(result.verdict, 'INVALID')
  t.match(result.checks[1], { ok: false, detail: /organisation 7 \(404\)/ })
})

t.test('a sign-in page answered with 200 is INVALID: it did not answer like the Checkmate API', async (t) => {
  const { double, context } = await userHost(t)
  double.on('GET', PROJECTS, {
    headers: { 'content-type': 'text/html' },
    body: '<!DOCTYPE html><html><title>Checkmate | Login</title></html>',
  })
  const result = await verifyCheckmate(request(double, testToken('cm_')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, `${double.origin}/checkmate did not answer like the Checkmate API; check the URL`)
  t.same(result.checks[1], { name: 'organisation-accessible', ok: false, detail: 'not checked: the host did not answer like Checkmate' })
})

verifierCases(
  t,
  atUserHost({
    name: 'Checkmate',
    verify: verifyCheckmate,
    path: PROJECTS,
    token: () => testToken('cm_'),
    request: (token, double) => request(double, token),
  }),
  {
    timeout: true,
    crossOriginRedirect: { status: 307, decoy: { body: projectsPage(3) } },
    notAllowListed: { hostname: 'checkmate.acme.test' },
    rateLimited: [
      {
        title: 'a 429 with Retry-After',
        reply: { status: 429, headers: { 'retry-after': '15' }, body: { error: 'Too many requests' } },
        retryAfter: 15,
      },
    ],
    noVerdict: [
      {
        title: 'a server error',
        reply: { status: 500, body: { error: 'Internal Server Error' } },
        message: 'Checkmate answered 500; try again later',
      },
    ],
    missingSecret: { message: 'No auth token was given' },
  },
)
