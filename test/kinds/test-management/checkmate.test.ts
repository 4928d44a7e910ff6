import t from 'tap'
import { verifyCheckmate } from '../../../src/kinds/test-management/checkmate.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { testToken, type ProviderDouble } from '../../helpers/provider-double.js'
import { atUserHost, verdictCases, verifierCases, type VerdictCase } from '../../helpers/verifier-cases.js'

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

const checkmate = atUserHost({
  name: 'Checkmate',
  verify: verifyCheckmate,
  path: PROJECTS,
  token: () => testToken('cm_'),
  headers: (token) => ({ authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'delivr-integrations' }),
  request: (token, double) => request(double, token),
})

const accepted = { name: 'authenticated', ok: true, detail: 'Checkmate accepted the token' }
const noProjectsYet = { projectCount: null, orgId: '7' }

/** Checkmate answers the project list of organisation 7 with `status`: the token is accepted, the organisation out of reach. */
const noAccess = (status: number, body: unknown): Omit<VerdictCase, 'name'> => ({
  reply: { status, body },
  verdict: 'INVALID',
  message: `Checkmate accepted the token but the token has no access to organisation 7 (${status})`,
  checks: [accepted, { name: 'organisation-accessible', ok: false, detail: `the token has no access to organisation 7 (${status})` }],
})

// What Checkmate answers to the project list of organisation 7, and the verdict, message and checks that come of it,
// with the token as a bearer token on the request and nowhere in the result.
verdictCases(t, checkmate, [
  {
    name: 'a token that can list the organisation’s projects is VALID, with the project count',
    reply: { body: projectsPage(14) },
    verdict: 'VALID',
    message: 'Verified: token can read the projects of Checkmate organisation 7',
    checks: [accepted, { name: 'organisation-accessible', ok: true, detail: 'organisation 7 has 14 projects' }],
    facts: { projectCount: 14, orgId: '7' },
    credential: { expiresAt: null, scopes: null },
    calls: [`GET ${PROJECTS}`],
  },
  {
    name: 'a plain total is read as well',
    reply: { body: { data: { projectsList: [{ projectId: 1 }], total: 3 } } },
    verdict: 'VALID',
    message: 'Verified: token can read the projects of Checkmate organisation 7',
    checks: [accepted, { name: 'organisation-accessible', ok: true, detail: 'organisation 7 has 3 projects' }],
    facts: { projectCount: 3, orgId: '7' },
  },
  {
    name: 'a body without a total still verifies',
    reply: { body: { data: { projectsList: [{ projectId: 1 }] } } },
    verdict: 'VALID',
    message: 'Verified: token can read the projects of Checkmate organisation 7',
    checks: [accepted, { name: 'organisation-accessible', ok: true, detail: 'organisation 7 has projects' }],
    facts: noProjectsYet,
  },
  {
    name: 'an organisation with no projects is INVALID: Checkmate answers an unknown organisation the same way',
    reply: { body: projectsPage(0) },
    verdict: 'INVALID',
    message: 'Checkmate accepted the token but it lists no projects in organisation 7; check the organisation id',
    checks: [
      accepted,
      { name: 'organisation-accessible', ok: false, detail: 'it lists no projects in organisation 7; check the organisation id' },
    ],
  },
  {
    name: 'a refused token is INVALID and the organisation is not checked',
    reply: { status: 401, body: { error: 'Unauthorized: invalid or expired token' } },
    verdict: 'INVALID',
    message: 'Checkmate refused the auth token',
    checks: [
      { name: 'authenticated', ok: false, detail: 'Checkmate refused the token' },
      { name: 'organisation-accessible', ok: false, detail: 'not checked: the token was refused' },
    ],
    facts: noProjectsYet,
    calls: [`GET ${PROJECTS}`],
    hidden: 'Unauthorized:',
  },
  {
    name: 'a token without access to the organisation (403) is INVALID',
    ...noAccess(403, { error: 'You do not have access to this resource' }),
    hidden: 'You do not have access',
  },
  { name: 'a 404 for the organisation is INVALID too', ...noAccess(404, { error: 'Organisation not found' }) },
  {
    name: 'a sign-in page answered with 200 is INVALID: it did not answer like the Checkmate API',
    reply: { headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><title>Checkmate | Login</title></html>' },
    verdict: 'INVALID',
    message: (origin) => `${origin}/checkmate did not answer like the Checkmate API; check the URL`,
    checks: (origin) => [
      { name: 'authenticated', ok: false, detail: `${origin}/checkmate did not answer like the Checkmate API` },
      { name: 'organisation-accessible', ok: false, detail: 'not checked: the host did not answer like Checkmate' },
    ],
  },
])

verifierCases(t, checkmate, {
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
})
