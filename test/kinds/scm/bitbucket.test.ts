import t from 'tap'
import { verifyBitbucket } from '../../../src/kinds/scm/bitbucket.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { testToken, type ProviderDouble, type Reply } from '../../helpers/provider-double.js'
import { atConfiguredApi, notChecked, verdictCases, verifierCases } from '../../helpers/verifier-cases.js'

const REPO = '/2.0/repositories/acme/mobile-app'
const PERMISSIONS = `/2.0/user/permissions/repositories?q=${encodeURIComponent('repository.full_name="acme/mobile-app"')}`

function request(token: string, values: Record<string, unknown> = {}): VerifyRequest {
  return {
    provider: 'BITBUCKET',
    values: { repositoryUrl: 'https://bitbucket.org/acme/mobile-app', defaultBranch: 'main', ...values },
    secrets: { accessToken: token },
  }
}

const repository = {
  type: 'repository',
  full_name: 'acme/mobile-app',
  name: 'Mobile App',
  slug: 'mobile-app',
  is_private: true,
  mainbranch: { type: 'branch', name: 'main' },
  workspace: { type: 'workspace', slug: 'acme' },
}

function permission(level: string) {
  return {
    pagelen: 10,
    page: 1,
    size: 1,
    values: [
      {
        type: 'repository_permission',
        permission: level,
        repository: { type: 'repository', full_name: 'acme/mobile-app', name: 'Mobile App' },
        user: { type: 'user', display_name: 'Delivr Bot' },
      },
    ],
  }
}

const notFound = (message: string): Reply => ({ status: 404, body: { type: 'error', error: { message } } })

const bitbucket = atConfiguredApi({
  name: 'Bitbucket',
  verify: verifyBitbucket,
  path: REPO,
  token: () => testToken('ATCTT3x'),
  headers: (token) => ({ authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'delivr-integrations' }),
  apis: (origin) => ({ bitbucket: `${origin}/2.0` }),
  request: (token) => request(token),
})

const BRANCH = `${REPO}/refs/branches/main`
const publicRepository = { ...repository, is_private: false }
const permissionDenied = { status: 403, body: { type: 'error', error: { message: 'Access denied' } } }
const accepted = { name: 'authenticated', ok: true, detail: 'Bitbucket accepted the token' }
const seen = (visibility: string) => ({ name: 'repository-visible', ok: true, detail: `token can see acme/mobile-app (${visibility})` })
const facts = (visibility: string) => ({ fullName: 'acme/mobile-app', defaultBranch: 'main', visibility })

/** Scripts Bitbucket's answers for the repository, the token's permission on it and, when it gets that far, the main branch. */
const answers = (repo: Reply, permissions: Reply) => (double: ProviderDouble) =>
  double
    .on('GET', REPO, repo)
    .on('GET', PERMISSIONS, permissions)
    .on('GET', BRANCH, { body: { type: 'branch', name: 'main' } })

/** The checks of a token that may push (`how` says why) to the branch, which exists. */
const pushes = (how: string) => [
  accepted,
  seen('private'),
  { name: 'can-push', ok: true, detail: `token can push to acme/mobile-app (${how})` },
  { name: 'default-branch-exists', ok: true, detail: 'branch main exists' },
]

/** The checks of a token that can see the public repository but has only `permission` on it. */
const readsOnly = (permission: string) => [
  accepted,
  seen('public'),
  { name: 'can-push', ok: false, detail: `token can read but not push (permission: ${permission})` },
  ...notChecked('the token cannot push', 'default-branch-exists'),
]

// What Bitbucket answers for the repository, the token's permission on it and the branch, and the verdict, message
// and checks that come of it; every request carries the token as a bearer token, and no result the token.
verdictCases(t, bitbucket, [
  {
    name: 'a token with write permission on an existing branch is VALID',
    script: answers({ headers: { 'x-oauth-scopes': 'pullrequest, repository:write' }, body: repository }, { body: permission('write') }),
    verdict: 'VALID',
    message: 'Verified: token can push to acme/mobile-app',
    checks: pushes('permission: write'),
    facts: facts('private'),
    credential: { expiresAt: null, scopes: ['pullrequest', 'repository:write'] },
    calls: [`GET ${REPO}`, `GET ${PERMISSIONS}`, `GET ${BRANCH}`],
  },
  {
    name: 'a read-only token is INVALID: it can read but not push',
    script: answers({ body: publicRepository }, { body: permission('read') }),
    verdict: 'INVALID',
    message: 'The token can read acme/mobile-app but cannot push to it (permission: read)',
    checks: readsOnly('read'),
    facts: facts('public'),
    // The branch was not asked for.
    calls: [`GET ${REPO}`, `GET ${PERMISSIONS}`],
  },
  {
    name: 'a public repository with no permission entry reads as permission none',
    script: answers({ body: publicRepository }, { body: { pagelen: 10, values: [], page: 1, size: 0 } }),
    verdict: 'INVALID',
    message: 'The token can read acme/mobile-app but cannot push to it (permission: none)',
    checks: readsOnly('none'),
  },
  {
    name: 'an access token that cannot list user permissions can push by its repository:write scope',
    script: answers(
      { headers: { 'x-oauth-scopes': 'repository:write', 'x-credential-type': 'repo_access_token' }, body: repository },
      permissionDenied,
    ),
    verdict: 'VALID',
    message: 'Verified: token can push to acme/mobile-app',
    checks: pushes('scope: repository:write'),
  },
  {
    name: 'without a permission answer or a write scope, push access is unknown and the result INVALID',
    script: answers({ headers: { 'x-oauth-scopes': 'repository' }, body: repository }, permissionDenied),
    verdict: 'INVALID',
    message: "Could not tell whether the token can push to acme/mobile-app: Bitbucket did not report the token's permission (403)",
    checks: [
      accepted,
      seen('private'),
      {
        name: 'can-push',
        ok: false,
        detail: "could not tell whether the token can push: Bitbucket did not report the token's permission (403)",
      },
      ...notChecked('push access is not known', 'default-branch-exists'),
    ],
  },
  {
    name: 'a missing branch is INVALID and names the branch',
    values: { defaultBranch: 'develop' },
    script: (double) =>
      double
        .on('GET', REPO, { body: repository })
        .on('GET', PERMISSIONS, { body: permission('admin') })
        .on('GET', `${REPO}/refs/branches/develop`, notFound('develop not found')),
    verdict: 'INVALID',
    message: 'Branch develop does not exist in acme/mobile-app',
    checks: [
      accepted,
      seen('private'),
      { name: 'can-push', ok: true, detail: 'token can push to acme/mobile-app (permission: admin)' },
      { name: 'default-branch-exists', ok: false, detail: 'branch develop does not exist in acme/mobile-app' },
    ],
    // Facts keep the main branch Bitbucket reports.
    facts: facts('private'),
  },
  {
    name: 'a refused token is INVALID and nothing after authentication is checked',
    reply: {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="Bitbucket.org HTTP"' },
      body: { type: 'error', error: { message: 'Token is invalid or not supported for this endpoint.' } },
    },
    verdict: 'INVALID',
    message: 'Bitbucket refused the access token',
    checks: [
      { name: 'authenticated', ok: false, detail: 'Bitbucket refused the token' },
      ...notChecked('the token was refused', 'repository-visible', 'can-push', 'default-branch-exists'),
    ],
    calls: [`GET ${REPO}`],
  },
  {
    name: 'a token Bitbucket calls expired is EXPIRED',
    reply: { status: 401, body: { type: 'error', error: { message: 'Access token expired.' } } },
    verdict: 'EXPIRED',
    message: 'Bitbucket says the access token has expired',
    checks: [
      { name: 'authenticated', ok: false, detail: 'Bitbucket says the token has expired' },
      ...notChecked('the token has expired', 'repository-visible', 'can-push', 'default-branch-exists'),
    ],
    credential: { expiresAt: null, scopes: null },
  },
  {
    name: 'a repository Bitbucket answers 404 for is INVALID: not found or not visible',
    reply: notFound('You may not have access to this repository or it no longer exists in this workspace.'),
    verdict: 'INVALID',
    message: 'Repository acme/mobile-app was not found or the token cannot see it',
    checks: [
      accepted,
      { name: 'repository-visible', ok: false, detail: 'repository not found or the token cannot see it' },
      ...notChecked('the repository is not visible', 'can-push', 'default-branch-exists'),
    ],
    calls: [`GET ${REPO}`],
  },
])

verifierCases(t, bitbucket, {
  timeout: true,
  crossOriginRedirect: { status: 301, decoy: { body: repository } },
  rateLimited: [
    {
      title: 'a 429 with Retry-After',
      reply: { status: 429, headers: { 'retry-after': '15' }, body: 'Rate limit for this resource has been exceeded' },
      retryAfter: 15,
    },
    {
      title: 'a 429 on the permission call without Retry-After',
      reply: { status: 429, body: '' },
      script: ({ double }, reply) => double.on('GET', REPO, { body: repository }).on('GET', PERMISSIONS, reply),
      requests: 2,
    },
  ],
  noVerdict: [
    {
      title: 'a server error',
      reply: { status: 500, body: { type: 'error', error: { message: 'Something went wrong' } } },
      message: 'Bitbucket answered 500; try again later',
    },
  ],
})
