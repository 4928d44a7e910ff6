import t from 'tap'
import { verifyGithub } from '../../../src/kinds/scm/github.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import {
  assertGithubHeaders,
  githubApi,
  githubRepository,
  githubSpecs,
  repositoryAccessCases,
  secondaryRateLimit,
  spentRateLimit,
} from '../../helpers/github-api.js'
import { startProviderDouble, testToken, userHost } from '../../helpers/provider-double.js'
import { assertNoSecret, checksOf, verifierCases } from '../../helpers/verifier-cases.js'

const REPO = '/repos/Acme/Mobile-App'

function request(token: string, values: Record<string, unknown> = {}): VerifyRequest {
  return {
    provider: 'GITHUB',
    values: {
      repositoryUrl: 'https://github.com/acme/mobile-app',
      githubOrganization: 'Acme',
      githubRepository: 'Mobile-App',
      defaultBranch: 'main',
      ...values,
    },
    secrets: { accessToken: token },
  }
}

const repository = (overrides: Record<string, unknown> = {}) => githubRepository('Mobile-App', overrides)

t.test('a token with push access and an existing branch is VALID, with what GitHub told', async (t) => {
  const { double, context } = await githubApi(t)
  const token = testToken('ghp_')
  double
    .on('GET', REPO, {
      headers: { 'github-authentication-token-expiration': '2031-03-04 05:06:07 UTC', 'x-oauth-scopes': 'repo, workflow' },
      body: repository(),
    })
    .on('GET', `${REPO}/branches/main`, { body: { name: 'main', protected: true } })

  const result = await verifyGithub(request(token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: token can push to Acme/Mobile-App')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['repository-visible', true],
    ['can-push', true],
    ['default-branch-exists', true],
  ])
  t.match(result.checks[2], { detail: 'token can push to Acme/Mobile-App (permission: write)' })
  t.same(result.facts, { fullName: 'Acme/Mobile-App', defaultBranch: 'main', visibility: 'private' })
  t.same(result.credential, { expiresAt: '2031-03-04T05:06:07.000Z', scopes: ['repo', 'workflow'] })
  t.same(
    double.received.map((r) => `${r.method} ${r.path}`),
    [`GET ${REPO}`, `GET ${REPO}/branches/main`],
  )
  assertGithubHeaders(t, double, token)
  assertNoSecret(t, result, token)
})

t.test('a fine-grained token without expiry headers reports no expiry and no scopes', async (t) => {
  const { double, context } = await githubApi(t)
  double.on('GET', REPO, { body: repository({ visibility: 'internal', permissions: { admin: true, push: true, pull: true } }) })
  double.on('GET', `${REPO}/branches/main`, { body: { name: 'main' } })
  const result = await verifyGithub(request(testToken('github_pat_')), context)
  t.equal(result.verdict, 'VALID')
  t.equal(result.facts.visibility, 'internal')
  t.match(result.checks[2], { detail: /permission: admin/ })
  t.same(result.credential, { expiresAt: null, scopes: null })
})

t.test('a read-only token is INVALID: it can read but not push, and the branch is not checked', async (t) => {
  const { double, context } = await githubApi(t)
  const token = testToken('ghp_')
  double.on('GET', REPO, { body: repository({ permissions: { admin: false, maintain: false, push: false, triage: false, pull: true } }) })

  const result = await verifyGithub(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The token can read Acme/Mobile-App but cannot push to it (permission: read)')
  t.same(result.checks[2], { name: 'can-push', ok: false, detail: 'token can read but not push (permission: read)' })
  t.same(result.checks[3], { name: 'default-branch-exists', ok: false, detail: 'not checked: the token cannot push' })
  t.same(checksOf(result).slice(0, 2), [
    ['authenticated', true],
    ['repository-visible', true],
  ])
  t.same(result.facts, { fullName: 'Acme/Mobile-App', defaultBranch: 'main', visibility: 'private' })
  t.equal(double.received.length, 1, 'the branch was not asked for')
  assertNoSecret(t, result, token)
})

t.test('an archived repository cannot be pushed to, whatever the permission says', async (t) => {
  const { double, context } = await githubApi(t)
  double.on('GET', REPO, { body: repository({ archived: true }) })
  const result = await verifyGithub(request(testToken('ghp_')), context)
  t.equal(result.verdict, 'INVALID')
  t.match(result.checks[2], { ok: false, detail: /archived/ })
})

t.test('a missing configured branch is INVALID and names the branch', async (t) => {
  const { double, context } = await githubApi(t)
  const token = testToken('ghp_')
  double.on('GET', REPO, { body: repository() }).on('GET', `${REPO}/branches/release/next`, {
    status: 404,
    body: { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest', status: '404' },
  })

  const result = await verifyGithub(request(token, { defaultBranch: 'release/next' }), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'Branch release/next does not exist in Acme/Mobile-App')
  t.same(result.checks[3], { name: 'default-branch-exists', ok: false, detail: 'branch release/next does not exist in Acme/Mobile-App' })
  t.equal(result.facts.defaultBranch, 'main', 'facts keep the default branch GitHub reports')
  t.equal(double.received[1]?.path, `${REPO}/branches/release/next`)
  assertNoSecret(t, result, token)
})

t.test('GitHub Enterprise: the API is /api/v3 on the repository host, called as a user target', async (t) => {
  const configured = await startProviderDouble(t)
  const { double: ghe, context } = await userHost(t, { apis: { github: configured.origin } })
  const token = testToken('ghp_')
  ghe
    .on('GET', '/api/v3/repos/Acme/Mobile-App', { body: repository({ visibility: 'internal' }) })
    .on('GET', '/api/v3/repos/Acme/Mobile-App/branches/main', { body: { name: 'main' } })

  const result = await verifyGithub(request(token, { repositoryUrl: `https://localhost:${ghe.port}/acme/mobile-app` }), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.facts.visibility, 'internal')
  t.same(
    ghe.received.map((r) => r.path),
    ['/api/v3/repos/Acme/Mobile-App', '/api/v3/repos/Acme/Mobile-App/branches/main'],
  )
  assertGithubHeaders(t, ghe, token)
  t.equal(configured.received.length, 0, 'the configured github.com API was not called')
  assertNoSecret(t, result, token)
})

const specs = githubSpecs(verifyGithub, REPO, (token, repositoryUrl) => request(token, repositoryUrl ? { repositoryUrl } : {}))

// GitHub refuses the token or the repository at the first call: the same results as for GitHub Actions.
repositoryAccessCases(t, specs.github, {
  repository: 'Acme/Mobile-App',
  later: ['can-push', 'default-branch-exists'],
  noFacts: { fullName: null, defaultBranch: null, visibility: null },
})

verifierCases(t, specs.github, {
  timeout: true,
  crossOriginRedirect: { status: 302, decoy: { body: repository() } },
  rateLimited: [spentRateLimit, secondaryRateLimit],
  noVerdict: [
    { title: 'a server error', reply: { status: 500, body: 'upstream exploded' }, message: 'GitHub answered 500; try again later' },
    {
      title: 'a server error on the branch call',
      reply: { status: 502, body: '' },
      script: ({ double }, reply) => double.on('GET', REPO, { body: repository() }).on('GET', `${REPO}/branches/main`, reply),
      requests: 2,
      message: 'GitHub answered 502; try again later',
    },
  ],
  missingSecret: { message: 'No access token was given' },
})

verifierCases(t, specs.enterprise, { notAllowListed: { hostname: 'ghe.example.test' } })
