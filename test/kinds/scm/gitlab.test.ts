import t from 'tap'
import { verifyGitlab } from '../../../src/kinds/scm/gitlab.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { calls, testToken, userHost, type ProviderDouble, type Reply } from '../../helpers/provider-double.js'
import { assertNoSecret, atUserHost, checksOf, notChecked, verdictCases, verifierCases } from '../../helpers/verifier-cases.js'

const PROJECT = '/api/v4/projects/acme%2Fmobile%2Fapp'
const SELF = '/api/v4/personal_access_tokens/self'
const BRANCH = `${PROJECT}/repository/branches/main`

function request(double: ProviderDouble, token: string, values: Record<string, unknown> = {}): VerifyRequest {
  return {
    provider: 'GITLAB',
    values: { repositoryUrl: `${double.origin}/acme/mobile/app`, defaultBranch: 'main', ...values },
    secrets: { accessToken: token },
  }
}

function project(
  permissions: Record<string, unknown> = { project_access: { access_level: 30, notification_level: 3 }, group_access: null },
  overrides: Record<string, unknown> = {},
) {
  return {
    id: 42,
    name: 'app',
    path_with_namespace: 'acme/mobile/app',
    default_branch: 'main',
    visibility: 'internal',
    archived: false,
    permissions,
    ...overrides,
  }
}

const tokenInfo = {
  id: 7,
  name: 'delivr',
  revoked: false,
  created_at: '2025-01-15T10:00:00.000Z',
  scopes: ['api', 'write_repository'],
  user_id: 3,
  last_used_at: null,
  active: true,
  expires_at: '2031-01-15',
}

t.test('a developer token on an existing branch is VALID, with expiry and scopes from the token itself', async (t) => {
  const { double, context } = await userHost(t)
  const token = testToken('glpat-')
  double
    .on('GET', PROJECT, { body: project() })
    .on('GET', BRANCH, { body: { name: 'main', protected: true, default: true } })
    .on('GET', SELF, { body: tokenInfo })

  const result = await verifyGitlab(request(double, token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: token can push to acme/mobile/app')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['repository-visible', true],
    ['can-push', true],
    ['default-branch-exists', true],
  ])
  t.equal(result.checks[2]?.detail, 'token can push to acme/mobile/app (role: developer)')
  t.same(result.facts, { fullName: 'acme/mobile/app', defaultBranch: 'main', visibility: 'internal' })
  t.same(result.credential, { expiresAt: '2031-01-15T00:00:00.000Z', scopes: ['api', 'write_repository'] })
  t.same(calls(double), [`GET ${PROJECT}`, `GET ${BRANCH}`, `GET ${SELF}`])
  for (const received of double.received) {
    t.equal(received.headers['private-token'], token, 'the token travels in PRIVATE-TOKEN')
    t.notOk('authorization' in received.headers)
    t.equal(received.headers['user-agent'], 'delivr-integrations')
  }
  assertNoSecret(t, result, token)
})

const gitlab = atUserHost({
  name: 'GitLab',
  verify: verifyGitlab,
  path: PROJECT,
  token: () => testToken('glpat-'),
  headers: (token) => ({ 'private-token': token, accept: 'application/json', 'user-agent': 'delivr-integrations' }),
  request: (token, double) => request(double, token),
})

const refused = [
  { name: 'authenticated', ok: false, detail: 'GitLab refused the token' },
  ...notChecked('the token was refused', 'repository-visible', 'can-push', 'default-branch-exists'),
]
const accepted = { name: 'authenticated', ok: true, detail: 'GitLab accepted the token' }
const seen = (visibility: string) => ({ name: 'repository-visible', ok: true, detail: `token can see acme/mobile/app (${visibility})` })
const branchExists = { name: 'default-branch-exists', ok: true, detail: 'branch main exists' }
const selfUnknown = { status: 404, body: { message: '404 Not Found' } }

/** Scripts GitLab's answers for the project, its main branch (which exists) and the token asked about itself. */
const answers = (project: Reply, self: Reply) => (double: ProviderDouble) =>
  double
    .on('GET', PROJECT, project)
    .on('GET', BRANCH, { body: { name: 'main' } })
    .on('GET', SELF, self)

/** The checks of a token that can see the project but has only `role` on it. */
const readsOnly = (visibility: string, role: string) => [
  accepted,
  seen(visibility),
  { name: 'can-push', ok: false, detail: `token can read but not push (permission: ${role})` },
  ...notChecked('the token cannot push', 'default-branch-exists'),
]

// What GitLab answers for the project, its branch and the token itself, and the verdict, message and checks that come
// of it; a token GitLab accepted is asked about itself whatever else failed. Every request carries the token in
// PRIVATE-TOKEN, and neither GitLab's text nor the token appears in the result.
verdictCases(t, gitlab, [
  {
    name: 'maintainer access through the group counts, and a token that cannot describe itself is fine',
    script: answers({ body: project({ project_access: null, group_access: { access_level: 40, notification_level: 3 } }) }, selfUnknown),
    verdict: 'VALID',
    message: 'Verified: token can push to acme/mobile/app',
    checks: [
      accepted,
      seen('internal'),
      { name: 'can-push', ok: true, detail: 'token can push to acme/mobile/app (role: maintainer)' },
      branchExists,
    ],
    credential: { expiresAt: null, scopes: null },
  },
  {
    name: 'a reporter token is INVALID: it can read but not push',
    script: answers(
      { body: project({ project_access: { access_level: 20, notification_level: 3 }, group_access: null }) },
      { body: tokenInfo },
    ),
    verdict: 'INVALID',
    message: 'The token can read acme/mobile/app but cannot push to it (permission: reporter)',
    checks: readsOnly('internal', 'reporter'),
    credential: { expiresAt: '2031-01-15T00:00:00.000Z', scopes: ['api', 'write_repository'] },
    // No branch call; the token still describes itself.
    calls: [`GET ${PROJECT}`, `GET ${SELF}`],
  },
  {
    name: 'a public project the token is no member of reads as permission none',
    script: answers({ body: project({ project_access: null, group_access: null }, { visibility: 'public' }) }, selfUnknown),
    verdict: 'INVALID',
    message: 'The token can read acme/mobile/app but cannot push to it (permission: none)',
    checks: readsOnly('public', 'none'),
    facts: { fullName: 'acme/mobile/app', defaultBranch: 'main', visibility: 'public' },
  },
  {
    name: 'a missing branch is INVALID; the branch name is sent URL-encoded',
    values: { defaultBranch: 'release/2.x' },
    script: (double) =>
      double
        .on('GET', PROJECT, { body: project() })
        .on('GET', `${PROJECT}/repository/branches/release%2F2.x`, { status: 404, body: { message: '404 Branch Not Found' } })
        .on('GET', SELF, { body: tokenInfo }),
    verdict: 'INVALID',
    message: 'Branch release/2.x does not exist in acme/mobile/app',
    checks: [
      accepted,
      seen('internal'),
      { name: 'can-push', ok: true, detail: 'token can push to acme/mobile/app (role: developer)' },
      { name: 'default-branch-exists', ok: false, detail: 'branch release/2.x does not exist in acme/mobile/app' },
    ],
    calls: [`GET ${PROJECT}`, `GET ${PROJECT}/repository/branches/release%2F2.x`, `GET ${SELF}`],
  },
  {
    name: 'a refused token is INVALID and the token is not asked about itself',
    reply: { status: 401, body: { message: '401 Unauthorized' } },
    verdict: 'INVALID',
    message: 'GitLab refused the access token',
    checks: refused,
    calls: [`GET ${PROJECT}`],
  },
  {
    name: 'a token GitLab calls expired is EXPIRED',
    reply: {
      status: 401,
      headers: {
        'www-authenticate': 'Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired."',
      },
      body: { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' },
    },
    verdict: 'EXPIRED',
    message: 'GitLab says the access token has expired',
    checks: [
      { name: 'authenticated', ok: false, detail: 'GitLab says the token has expired' },
      ...notChecked('the token has expired', 'repository-visible', 'can-push', 'default-branch-exists'),
    ],
    hidden: 're-authorization',
  },
  {
    name: 'a revoked token is INVALID, not EXPIRED',
    reply: {
      status: 401,
      body: { error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize from the user.' },
    },
    verdict: 'INVALID',
    message: 'GitLab refused the access token',
    checks: refused,
  },
  {
    name: 'a project GitLab answers 404 for is INVALID: not found or not visible',
    reply: { status: 404, body: { message: '404 Project Not Found' } },
    script: (double) => double.on('GET', SELF, { body: tokenInfo }),
    verdict: 'INVALID',
    message: 'Repository acme/mobile/app was not found or the token cannot see it',
    checks: [
      accepted,
      { name: 'repository-visible', ok: false, detail: 'repository not found or the token cannot see it' },
      ...notChecked('the repository is not visible', 'can-push', 'default-branch-exists'),
    ],
    facts: { fullName: null, defaultBranch: null, visibility: null },
    calls: [`GET ${PROJECT}`, `GET ${SELF}`],
  },
  {
    name: 'a token without an API scope is INVALID and says which scope is missing',
    reply: {
      status: 403,
      body: {
        error: 'insufficient_scope',
        error_description: 'The request requires higher privileges than provided by the access token.',
        scope: 'api read_api',
      },
    },
    verdict: 'INVALID',
    message: 'GitLab refused access to acme/mobile/app: the token lacks the api or read_api scope',
    checks: [
      accepted,
      {
        name: 'repository-visible',
        ok: false,
        detail: 'GitLab refused access to the repository: the token lacks the api or read_api scope',
      },
      ...notChecked('the repository is not visible', 'can-push', 'default-branch-exists'),
    ],
  },
])

verifierCases(t, gitlab, {
  timeout: true,
  crossOriginRedirect: { status: 302, decoy: { body: project() } },
  notAllowListed: { hostname: 'gitlab.example.test', allowedHosts: ['localhost:443'], decoy: { body: project() } },
  rateLimited: [
    {
      title: 'a 429 with Retry-After and RateLimit headers',
      reply: () => {
        const reset = Math.floor(Date.now() / 1000) + 30
        return {
          status: 429,
          headers: {
            'retry-after': '30',
            'ratelimit-limit': '2000',
            'ratelimit-observed': '2001',
            'ratelimit-remaining': '0',
            'ratelimit-reset': String(reset),
            'ratelimit-resettime': new Date(reset * 1000).toUTCString(),
          },
          body: 'Retry later',
        }
      },
      retryAfter: 30,
    },
  ],
  noVerdict: [
    {
      title: 'a server error',
      reply: { status: 500, body: { message: '500 Internal Server Error' } },
      message: 'GitLab answered 500; try again later',
    },
  ],
})
