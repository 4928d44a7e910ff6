import t from 'tap'
import { verifyGithubActions } from '../../../src/kinds/ci-cd/github-actions.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import {
  assertGithubHeaders,
  githubApi,
  githubRepository,
  githubSpecs,
  notFound,
  repositoryAccessCases,
  secondaryRateLimit,
  spentRateLimit,
} from '../../helpers/github-api.js'
import { calls, startProviderDouble, testToken, userHost, type Route } from '../../helpers/provider-double.js'
import { assertNoSecret, checksOf, verifierCases, type VerifierTarget } from '../../helpers/verifier-cases.js'

const REPO = '/repos/acme/mobile-app'
const WORKFLOWS = `${REPO}/actions/workflows`

function request(token: string, repositoryUrl = 'https://github.com/acme/mobile-app'): VerifyRequest {
  return { provider: 'GITHUB_ACTIONS', values: { repositoryUrl }, secrets: { accessToken: token } }
}

const repository = (overrides: Record<string, unknown> = {}) => githubRepository('mobile-app', overrides)

function workflow(id: number, name: string, file: string) {
  return {
    id,
    node_id: `W_kwDOA${id}`,
    name,
    path: `.github/workflows/${file}`,
    state: 'active',
    created_at: '2024-01-08T23:48:37.000-08:00',
    updated_at: '2024-01-08T23:50:21.000-08:00',
    url: `https://api.github.com/repos/Acme/mobile-app/actions/workflows/${id}`,
    html_url: `https://github.com/Acme/mobile-app/blob/main/.github/workflows/${file}`,
    badge_url: `https://github.com/Acme/mobile-app/workflows/${encodeURIComponent(name)}/badge.svg`,
  }
}

const workflows = {
  total_count: 2,
  workflows: [workflow(161335, 'Release', 'release.yml'), workflow(269289, 'CI', 'ci.yml')],
}

t.test('a token with write access that can list workflows is VALID, with the workflows GitHub listed', async (t) => {
  const { double, context } = await githubApi(t)
  const token = testToken('ghp_')
  double
    .on('GET', REPO, {
      headers: { 'github-authentication-token-expiration': '2031-03-04 05:06:07 UTC', 'x-oauth-scopes': 'repo, workflow' },
      body: repository(),
    })
    .on('GET', WORKFLOWS, { body: workflows })

  const result = await verifyGithubActions(request(token), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: token can read and dispatch workflows in Acme/mobile-app')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'GitHub accepted the token' },
    { name: 'repository-visible', ok: true, detail: 'token can see Acme/mobile-app' },
    { name: 'workflows-readable', ok: true, detail: 'token can list the 2 workflows of Acme/mobile-app' },
    { name: 'can-dispatch', ok: true, detail: 'token can dispatch workflows (permission: write)' },
  ])
  t.same(result.facts, {
    fullName: 'Acme/mobile-app',
    workflowCount: 2,
    workflows: '.github/workflows/release.yml, .github/workflows/ci.yml',
  })
  t.same(result.credential, { expiresAt: '2031-03-04T05:06:07.000Z', scopes: ['repo', 'workflow'] })
  t.same(calls(double), [`GET ${REPO}`, `GET ${WORKFLOWS}`])
  assertGithubHeaders(t, double, token)
  assertNoSecret(t, result, token)
})

t.test('at most ten workflow paths are listed; the count is GitHub’s total', async (t) => {
  const { double, context } = await githubApi(t)
  const many = Array.from({ length: 12 }, (_, i) => workflow(1000 + i, `Job ${i}`, `job-${i}.yml`))
  double
    .on('GET', REPO, { body: repository({ permissions: { admin: true, maintain: true, push: true, triage: true, pull: true } }) })
    .on('GET', WORKFLOWS, { body: { total_count: 42, workflows: many } })
  const result = await verifyGithubActions(request(testToken('github_pat_')), context)
  t.equal(result.verdict, 'VALID')
  t.equal(result.facts.workflowCount, 42)
  t.equal(String(result.facts.workflows).split(', ').length, 10)
  t.match(result.checks[3], { detail: 'token can dispatch workflows (permission: admin)' })
  t.same(result.credential, { expiresAt: null, scopes: null }, 'a fine-grained token reports neither')
})

t.test('a read-only token is INVALID: it can list workflows but not dispatch them', async (t) => {
  const { double, context } = await githubApi(t)
  const token = testToken('ghp_')
  double
    .on('GET', REPO, { body: repository({ permissions: { admin: false, maintain: false, push: false, triage: false, pull: true } }) })
    .on('GET', WORKFLOWS, { body: workflows })

  const result = await verifyGithubActions(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The token cannot dispatch workflows in Acme/mobile-app: dispatching needs write access (permission: read)')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['repository-visible', true],
    ['workflows-readable', true],
    ['can-dispatch', false],
  ])
  t.equal(result.facts.workflowCount, 2, 'what was learnt is still reported')
  assertNoSecret(t, result, token)
})

t.test('an archived repository cannot dispatch, whatever the permission says', async (t) => {
  const { double, context } = await githubApi(t)
  double.on('GET', REPO, { body: repository({ archived: true }) }).on('GET', WORKFLOWS, { body: workflows })
  const result = await verifyGithubActions(request(testToken('ghp_')), context)
  t.equal(result.verdict, 'INVALID')
  t.same(result.checks[3], { name: 'can-dispatch', ok: false, detail: 'the repository is archived' })
})

t.test('a repository without workflows is VALID with a count of zero', async (t) => {
  const { double, context } = await githubApi(t)
  double.on('GET', REPO, { body: repository() }).on('GET', WORKFLOWS, { body: { total_count: 0, workflows: [] } })
  const result = await verifyGithubActions(request(testToken('ghp_')), context)
  t.equal(result.verdict, 'VALID')
  t.same(result.facts, { fullName: 'Acme/mobile-app', workflowCount: 0, workflows: '' })
})

t.test('a repository answer without permissions cannot tell whether the token may dispatch: INVALID', async (t) => {
  const { double, context } = await githubApi(t)
  const { permissions: _omitted, ...withoutPermissions } = repository()
  double.on('GET', REPO, { body: withoutPermissions }).on('GET', WORKFLOWS, { body: workflows })
  const result = await verifyGithubActions(request(testToken('ghp_')), context)
  t.equal(result.verdict, 'INVALID')
  t.same(result.checks[3], { name: 'can-dispatch', ok: false, detail: 'GitHub did not report the permissions of the token' })
})

t.test('a token without Actions read access is INVALID and dispatch is not checked', async (t) => {
  const { double, context } = await githubApi(t)
  const token = testToken('github_pat_')
  double.on('GET', REPO, { body: repository() }).on('GET', WORKFLOWS, {
    status: 403,
    headers: { 'x-accepted-github-permissions': 'actions=read', 'x-ratelimit-remaining': '4998' },
    body: {
      message: 'Resource not accessible by personal access token',
      documentation_url: 'https://docs.github.com/rest/actions/workflows#list-repository-workflows',
      status: '403',
    },
  })

  const result = await verifyGithubActions(request(token), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The token cannot read the Actions workflows of Acme/mobile-app; it needs read access to Actions')
  t.same(result.checks.slice(2), [
    { name: 'workflows-readable', ok: false, detail: 'GitHub refused to list the workflows (403); the token needs read access to Actions' },
    { name: 'can-dispatch', ok: false, detail: 'not checked: the workflows are not readable' },
  ])
  t.notMatch(JSON.stringify(result), 'Resource not accessible', 'the provider body is not passed on')
  assertGithubHeaders(t, double, token)
  assertNoSecret(t, result, token)
})

t.test('a 404 on the workflow list is INVALID too', async (t) => {
  const { double, context } = await githubApi(t)
  double.on('GET', REPO, { body: repository() }).on('GET', WORKFLOWS, notFound)
  const result = await verifyGithubActions(request(testToken('ghp_')), context)
  t.equal(result.verdict, 'INVALID')
  t.match(result.checks[2], { ok: false, detail: /\(404\)/ })
})

t.test('GitHub Enterprise: /api/v3 on the repository host, called as a user target', async (t) => {
  const configured = await startProviderDouble(t)
  const { double: ghe, context } = await userHost(t, { apis: { github: configured.origin } })
  const token = testToken('ghp_')
  ghe.on('GET', `/api/v3${REPO}`, { body: repository() }).on('GET', `/api/v3${WORKFLOWS}`, { body: workflows })

  const result = await verifyGithubActions(request(token, `https://localhost:${ghe.port}/acme/mobile-app`), context)

  t.equal(result.verdict, 'VALID')
  t.same(calls(ghe), [`GET /api/v3${REPO}`, `GET /api/v3${WORKFLOWS}`])
  assertGithubHeaders(t, ghe, token)
  t.equal(configured.received.length, 0, 'the configured github.com API was not called')
  assertNoSecret(t, result, token)
})

const specs = githubSpecs(verifyGithubActions, REPO, request)

// GitHub refuses the token or the repository at the first call: the same results as for the GitHub source-control verifier.
repositoryAccessCases(t, specs.github, {
  repository: 'acme/mobile-app',
  later: ['workflows-readable', 'can-dispatch'],
  noFacts: { fullName: null, workflowCount: null, workflows: null },
})

/** Scripts `reply` as the answer to the workflow list, after the repository. */
const atWorkflows = {
  script: ({ double }: VerifierTarget, reply: Route) => double.on('GET', REPO, { body: repository() }).on('GET', WORKFLOWS, reply),
  requests: 2,
}

verifierCases(t, specs.github, {
  timeout: true,
  crossOriginRedirect: { status: 301, decoy: { body: repository() } },
  rateLimited: [
    { ...spentRateLimit, ...atWorkflows, title: 'a spent rate limit on the workflow list (403 with no requests remaining)' },
    secondaryRateLimit,
  ],
  noVerdict: [
    {
      ...atWorkflows,
      title: 'a server error on the workflow list',
      reply: { status: 502, body: '' },
      message: 'GitHub answered 502; try again later',
    },
  ],
  missingSecret: { message: 'No access token was given' },
})

verifierCases(t, specs.enterprise, {
  crossOriginRedirect: { status: 302, decoy: { body: repository() } },
  notAllowListed: { hostname: 'ghe.acme.test' },
})
