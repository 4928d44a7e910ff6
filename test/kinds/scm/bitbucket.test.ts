import t, { type Test } from 'tap'
import { verifyBitbucket } from '../../../src/kinds/scm/bitbucket.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { calls, startProviderDouble, testToken, verifyContext } from '../../helpers/provider-double.js'
import { assertNoSecret, atConfiguredApi, checksOf, verifierCases } from '../../helpers/verifier-cases.js'

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

const notFound = (message: string) => ({ status: 404, body: { type: 'error', error: { message } } })

async function bitbucket(t: Test) {
  const double = await startProviderDouble(t)
  return { double, context: verifyContext(t, { apis: { bitbucket: `${double.origin}/2.0` } }) }
}

t.test('a token with write permission on an existing branch is VALID', async (t) => {
  const { double, context } = await bitbucket(t)
  const token = testToken('ATCTT3x')
  double
    .on('GET', REPO, { headers: { 'x-oauth-scopes': 'pullrequest, repository:write' }, body: repository })
    .on('GET', PERMISSIONS, { body: permission('write') })
    .on('GET', `${REPO}/refs/branches/main`, { body: { type: 'branch', name: 'main' } })

  const result = await verifyBitbucket(request(token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: token can push to acme/mobile-app')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['repository-visible', true],
    ['can-push', true],
    ['default-branch-exists', true],
  ])
  t.equal(result.checks[2]?.detail, 'token can push to acme/mobile-app (permission: write)')
  t.same(result.facts, { fullName: 'acme/mobile-app', defaultBranch: 'main', visibility: 'private' })
  t.same(result.credential, { expiresAt: null, scopes: ['pullrequest', 'repository:write'] })
  t.same(calls(double), [`GET ${REPO}`, `GET ${PERMISSIONS}`, `GET ${REPO}/refs/branches/main`])
  for (const received of double.received) {
    t.equal(received.headers.authorization, `Bearer ${token}`)
    t.equal(received.headers['user-agent'], 'delivr-integrations')
  }
  assertNoSecret(t, result, token)
})

t.test('a read-only token is INVALID: it can read but not push', async (t) => {
  const { double, context } = await bitbucket(t)
  const token = testToken('ATCTT3x')
  double.on('GET', REPO, { body: { ...repository, is_private: false } }).on('GET', PERMISSIONS, { body: permission('read') })

  const result = await verifyBitbucket(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The token can read acme/mobile-app but cannot push to it (permission: read)')
  t.same(result.checks[2], { name: 'can-push', ok: false, detail: 'token can read but not push (permission: read)' })
  t.same(result.checks[3], { name: 'default-branch-exists', ok: false, detail: 'not checked: the token cannot push' })
  t.equal(result.facts.visibility, 'public')
  t.same(calls(double), [`GET ${REPO}`, `GET ${PERMISSIONS}`], 'the branch was not asked for')
  assertNoSecret(t, result, token)
})

t.test('a public repository with no permission entry reads as permission none', async (t) => {
  const { double, context } = await bitbucket(t)
  double
    .on('GET', REPO, { body: { ...repository, is_private: false } })
    .on('GET', PERMISSIONS, { body: { pagelen: 10, values: [], page: 1, size: 0 } })
  const result = await verifyBitbucket(request(testToken('ATCTT3x')), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.checks[2]?.detail, 'token can read but not push (permission: none)')
})

t.test('an access token that cannot list user permissions can push by its repository:write scope', async (t) => {
  const { double, context } = await bitbucket(t)
  double
    .on('GET', REPO, { headers: { 'x-oauth-scopes': 'repository:write', 'x-credential-type': 'repo_access_token' }, body: repository })
    .on('GET', PERMISSIONS, { status: 403, body: { type: 'error', error: { message: 'Access denied' } } })
    .on('GET', `${REPO}/refs/branches/main`, { body: { type: 'branch', name: 'main' } })
  const result = await verifyBitbucket(request(testToken('ATCTT3x')), context)
  t.equal(result.verdict, 'VALID')
  t.equal(result.checks[2]?.detail, 'token can push to acme/mobile-app (scope: repository:write)')
})

t.test('without a permission answer or a write scope, push access is unknown and the result INVALID', async (t) => {
  const { double, context } = await bitbucket(t)
  double
    .on('GET', REPO, { headers: { 'x-oauth-scopes': 'repository' }, body: repository })
    .on('GET', PERMISSIONS, { status: 403, body: { type: 'error', error: { message: 'Access denied' } } })
  const result = await verifyBitbucket(request(testToken('ATCTT3x')), context)
  t.equal(result.verdict, 'INVALID')
  t.same(result.checks[2], {
    name: 'can-push',
    ok: false,
    detail: "could not tell whether the token can push: Bitbucket did not report the token's permission (403)",
  })
})

t.test('a missing branch is INVALID and names the branch', async (t) => {
  const { double, context } = await bitbucket(t)
  const token = testToken('ATCTT3x')
  double
    .on('GET', REPO, { body: repository })
    .on('GET', PERMISSIONS, { body: permission('admin') })
    .on('GET', `${REPO}/refs/branches/develop`, notFound('develop not found'))

  const result = await verifyBitbucket(request(token, { defaultBranch: 'develop' }), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Branch develop does not exist in acme/mobile-app')
  t.same(result.checks[3], { name: 'default-branch-exists', ok: false, detail: 'branch develop does not exist in acme/mobile-app' })
  t.equal(result.facts.defaultBranch, 'main')
  assertNoSecret(t, result, token)
})

t.test('a refused token is INVALID and nothing after authentication is checked', async (t) => {
  const { double, context } = await bitbucket(t)
  const token = testToken('ATCTT3x')
  double.on('GET', REPO, {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="Bitbucket.org HTTP"' },
    body: { type: 'error', error: { message: 'Token is invalid or not supported for this endpoint.' } },
  })

  const result = await verifyBitbucket(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Bitbucket refused the access token')
  t.same(
    result.checks.map((c) => c.detail),
    [
      'Bitbucket refused the token',
      'not checked: the token was refused',
      'not checked: the token was refused',
      'not checked: the token was refused',
    ],
  )
  t.same(calls(double), [`GET ${REPO}`])
  assertNoSecret(t, result, token)
})

t.test('a token Bitbucket calls expired is EXPIRED', async (t) => {
  const { double, context } = await bitbucket(t)
  const token = testToken('ATCTT3x')
  double.on('GET', REPO, { status: 401, body: { type: 'error', error: { message: 'Access token expired.' } } })
  const result = await verifyBitbucket(request(token), context)
  t.equal(result.verdict, 'EXPIRED')
  t.equal(result.message, 'Bitbucket says the access token has expired')
  t.same(result.credential, { expiresAt: null, scopes: null })
  assertNoSecret(t, result, token)
})

t.test('a repository Bitbucket answers 404 for is INVALID: not found or not visible', async (t) => {
  const { double, context } = await bitbucket(t)
  const token = testToken('ATCTT3x')
  double.on('GET', REPO, notFound('You may not have access to this repository or it no longer exists in this workspace.'))

  const result = await verifyBitbucket(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Repository acme/mobile-app was not found or the token cannot see it')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['repository-visible', false],
    ['can-push', false],
    ['default-branch-exists', false],
  ])
  t.same(calls(double), [`GET ${REPO}`])
  assertNoSecret(t, result, token)
})

verifierCases(
  t,
  atConfiguredApi({
    name: 'Bitbucket',
    verify: verifyBitbucket,
    path: REPO,
    token: () => testToken('ATCTT3x'),
    apis: (origin) => ({ bitbucket: `${origin}/2.0` }),
    request: (token) => request(token),
  }),
  {
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
  },
)
