import t from 'tap'
import { verifyGithubActions } from '../../../src/kinds/ci-cd/github-actions.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import {
  classicTokenCredential,
  classicTokenHeaders,
  githubRepository,
  githubSpecs,
  notFound,
  repositoryAccessCases,
  secondaryRateLimit,
  spentRateLimit,
} from '../../helpers/github-api.js'
import { testToken, type ProviderDouble, type Reply, type Route } from '../../helpers/provider-double.js'
import { notChecked, verdictCases, verifierCases, type VerifierTarget } from '../../helpers/verifier-cases.js'

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

const { permissions: _omitted, ...withoutPermissions } = repository()

const specs = githubSpecs(verifyGithubActions, REPO, request)

const accepted = { name: 'authenticated', ok: true, detail: 'GitHub accepted the token' }
const seen = { name: 'repository-visible', ok: true, detail: 'token can see Acme/mobile-app' }
const listed = (count: number) => ({
  name: 'workflows-readable',
  ok: true,
  detail: `token can list the ${count} workflows of Acme/mobile-app`,
})
const facts = { fullName: 'Acme/mobile-app', workflowCount: 2, workflows: '.github/workflows/release.yml, .github/workflows/ci.yml' }
const many = Array.from({ length: 12 }, (_, i) => workflow(1000 + i, `Job ${i}`, `job-${i}.yml`))

/** Scripts GitHub's answer for the repository and, when it gets that far, for its workflow list. */
const answers =
  (repo: Reply, list: Reply = { body: workflows }) =>
  (double: ProviderDouble) =>
    double.on('GET', REPO, repo).on('GET', WORKFLOWS, list)

const dispatches = (role: string) => ({ name: 'can-dispatch', ok: true, detail: `token can dispatch workflows (permission: ${role})` })

/** GitHub refuses the workflow list with `status`: INVALID, and dispatch is not checked. */
const workflowsRefused = (status: number) => ({
  verdict: 'INVALID' as const,
  message: 'The token cannot read the Actions workflows of Acme/mobile-app; it needs read access to Actions',
  checks: [
    accepted,
    seen,
    {
      name: 'workflows-readable',
      ok: false,
      detail: `GitHub refused to list the workflows (${status}); the token needs read access to Actions`,
    },
    ...notChecked('the workflows are not readable', 'can-dispatch'),
  ],
})

/** A token whose workflows GitHub lists but that may not dispatch them, and why. */
const cannotDispatch = (detail: string) => [accepted, seen, listed(2), { name: 'can-dispatch', ok: false, detail }]

// What GitHub answers for the repository and its workflow list, and the verdict, message and checks that come of it;
// every request carries the token as a bearer token with GitHub's headers, and no result the token.
verdictCases(t, specs.github, [
  {
    name: 'a token with write access that can list workflows is VALID, with the workflows GitHub listed',
    script: answers({ headers: classicTokenHeaders, body: repository() }),
    verdict: 'VALID',
    message: 'Verified: token can read and dispatch workflows in Acme/mobile-app',
    checks: [accepted, seen, listed(2), dispatches('write')],
    facts,
    credential: classicTokenCredential,
    calls: [`GET ${REPO}`, `GET ${WORKFLOWS}`],
  },
  {
    name: 'at most ten workflow paths are listed; the count is GitHub’s total',
    // A fine-grained token reports neither expiry nor scopes.
    secret: () => testToken('github_pat_'),
    script: answers(
      { body: repository({ permissions: { admin: true, maintain: true, push: true, triage: true, pull: true } }) },
      { body: { total_count: 42, workflows: many } },
    ),
    verdict: 'VALID',
    message: 'Verified: token can read and dispatch workflows in Acme/mobile-app',
    checks: [accepted, seen, listed(42), dispatches('admin')],
    facts: {
      fullName: 'Acme/mobile-app',
      workflowCount: 42,
      workflows: many
        .slice(0, 10)
        .map((w) => w.path)
        .join(', '),
    },
    credential: { expiresAt: null, scopes: null },
  },
  {
    name: 'a read-only token is INVALID: it can list workflows but not dispatch them',
    script: answers({ body: repository({ permissions: { admin: false, maintain: false, push: false, triage: false, pull: true } }) }),
    verdict: 'INVALID',
    message: 'The token cannot dispatch workflows in Acme/mobile-app: dispatching needs write access (permission: read)',
    checks: cannotDispatch('dispatching needs write access (permission: read)'),
    // What was learnt is still reported.
    facts,
  },
  {
    name: 'an archived repository cannot dispatch, whatever the permission says',
    script: answers({ body: repository({ archived: true }) }),
    verdict: 'INVALID',
    message: 'The token cannot dispatch workflows in Acme/mobile-app: the repository is archived',
    checks: cannotDispatch('the repository is archived'),
  },
  {
    name: 'a repository without workflows is VALID with a count of zero',
    script: answers({ body: repository() }, { body: { total_count: 0, workflows: [] } }),
    verdict: 'VALID',
    message: 'Verified: token can read and dispatch workflows in Acme/mobile-app',
    checks: [accepted, seen, listed(0), dispatches('write')],
    facts: { fullName: 'Acme/mobile-app', workflowCount: 0, workflows: '' },
  },
  {
    name: 'a repository answer without permissions cannot tell whether the token may dispatch: INVALID',
    script: answers({ body: withoutPermissions }),
    verdict: 'INVALID',
    message: 'The token cannot dispatch workflows in Acme/mobile-app: GitHub did not report the permissions of the token',
    checks: cannotDispatch('GitHub did not report the permissions of the token'),
  },
  {
    name: 'a token without Actions read access is INVALID and dispatch is not checked',
    secret: () => testToken('github_pat_'),
    script: answers(
      { body: repository() },
      {
        status: 403,
        headers: { 'x-accepted-github-permissions': 'actions=read', 'x-ratelimit-remaining': '4998' },
        body: {
          message: 'Resource not accessible by personal access token',
          documentation_url: 'https://docs.github.com/rest/actions/workflows#list-repository-workflows',
          status: '403',
        },
      },
    ),
    ...workflowsRefused(403),
    calls: [`GET ${REPO}`, `GET ${WORKFLOWS}`],
    hidden: 'Resource not accessible',
  },
  {
    name: 'a 404 on the workflow list is INVALID too',
    script: answers({ body: repository() }, notFound),
    ...workflowsRefused(404),
  },
])

// GitHub Enterprise: the same API at /api/v3 on the repository host, called as a user target; github.com receives nothing.
verdictCases(t, specs.enterprise, [
  {
    name: 'GitHub Enterprise: /api/v3 on the repository host, called as a user target',
    script: (double) => double.on('GET', `/api/v3${REPO}`, { body: repository() }).on('GET', `/api/v3${WORKFLOWS}`, { body: workflows }),
    verdict: 'VALID',
    message: 'Verified: token can read and dispatch workflows in Acme/mobile-app',
    checks: [accepted, seen, listed(2), dispatches('write')],
    facts,
    calls: [`GET /api/v3${REPO}`, `GET /api/v3${WORKFLOWS}`],
  },
])

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
