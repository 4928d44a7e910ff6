import t from 'tap'
import { verifyGithub } from '../../../src/kinds/scm/github.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import {
  classicTokenCredential,
  classicTokenHeaders,
  githubRepository,
  githubSpecs,
  repositoryAccessCases,
  secondaryRateLimit,
  spentRateLimit,
} from '../../helpers/github-api.js'
import { testToken, type ProviderDouble, type Reply } from '../../helpers/provider-double.js'
import { notChecked, verdictCases, verifierCases } from '../../helpers/verifier-cases.js'

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

const specs = githubSpecs(verifyGithub, REPO, (token, repositoryUrl) => request(token, repositoryUrl ? { repositoryUrl } : {}))

const BRANCH = `${REPO}/branches/main`
const readOnly = { admin: false, maintain: false, push: false, triage: false, pull: true }
const accepted = { name: 'authenticated', ok: true, detail: 'GitHub accepted the token' }
const seen = (visibility: string) => ({ name: 'repository-visible', ok: true, detail: `token can see Acme/Mobile-App (${visibility})` })
const canPush = (role: string) => ({ name: 'can-push', ok: true, detail: `token can push to Acme/Mobile-App (permission: ${role})` })
const branchExists = { name: 'default-branch-exists', ok: true, detail: 'branch main exists' }
const facts = { fullName: 'Acme/Mobile-App', defaultBranch: 'main', visibility: 'private' }

/** Scripts GitHub's answer for the repository and, when it gets that far, for the branch. */
const answers =
  (repo: Reply, branch: Reply = { body: { name: 'main', protected: true } }) =>
  (double: ProviderDouble) =>
    double.on('GET', REPO, repo).on('GET', BRANCH, branch)

// What GitHub answers for the repository and its branch, and the verdict, message and checks that come of it; every
// request carries the token as a bearer token with GitHub's headers, and no result the token.
verdictCases(t, specs.github, [
  {
    name: 'a token with push access and an existing branch is VALID, with what GitHub told',
    script: answers({ headers: classicTokenHeaders, body: repository() }),
    verdict: 'VALID',
    message: 'Verified: token can push to Acme/Mobile-App',
    checks: [accepted, seen('private'), canPush('write'), branchExists],
    facts,
    credential: classicTokenCredential,
    calls: [`GET ${REPO}`, `GET ${BRANCH}`],
  },
  {
    name: 'a fine-grained token without expiry headers reports no expiry and no scopes',
    secret: () => testToken('github_pat_'),
    script: answers(
      { body: repository({ visibility: 'internal', permissions: { admin: true, push: true, pull: true } }) },
      { body: { name: 'main' } },
    ),
    verdict: 'VALID',
    message: 'Verified: token can push to Acme/Mobile-App',
    checks: [accepted, seen('internal'), canPush('admin'), branchExists],
    facts: { ...facts, visibility: 'internal' },
    credential: { expiresAt: null, scopes: null },
  },
  {
    name: 'a read-only token is INVALID: it can read but not push, and the branch is not checked',
    script: answers({ body: repository({ permissions: readOnly }) }),
    verdict: 'INVALID',
    message: 'The token can read Acme/Mobile-App but cannot push to it (permission: read)',
    checks: [
      accepted,
      seen('private'),
      { name: 'can-push', ok: false, detail: 'token can read but not push (permission: read)' },
      ...notChecked('the token cannot push', 'default-branch-exists'),
    ],
    facts,
    calls: [`GET ${REPO}`],
  },
  {
    name: 'an archived repository cannot be pushed to, whatever the permission says',
    script: answers({ body: repository({ archived: true }) }),
    verdict: 'INVALID',
    message: 'Acme/Mobile-App is archived, so the token cannot push to it',
    checks: [
      accepted,
      seen('private'),
      { name: 'can-push', ok: false, detail: 'Acme/Mobile-App is archived, so nothing can be pushed to it' },
      ...notChecked('the repository is archived', 'default-branch-exists'),
    ],
  },
  {
    name: 'a missing configured branch is INVALID and names the branch',
    values: { defaultBranch: 'release/next' },
    script: (double) =>
      double.on('GET', REPO, { body: repository() }).on('GET', `${REPO}/branches/release/next`, {
        status: 404,
        body: { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest', status: '404' },
      }),
    verdict: 'INVALID',
    message: 'Branch release/next does not exist in Acme/Mobile-App',
    checks: [
      accepted,
      seen('private'),
      canPush('write'),
      { name: 'default-branch-exists', ok: false, detail: 'branch release/next does not exist in Acme/Mobile-App' },
    ],
    // Facts keep the default branch GitHub reports.
    facts,
    calls: [`GET ${REPO}`, `GET ${REPO}/branches/release/next`],
  },
])

// GitHub Enterprise: the same API at /api/v3 on the repository host, called as a user target; github.com receives nothing.
verdictCases(t, specs.enterprise, [
  {
    name: 'GitHub Enterprise: the API is /api/v3 on the repository host, called as a user target',
    script: (double) =>
      double
        .on('GET', `/api/v3${REPO}`, { body: repository({ visibility: 'internal' }) })
        .on('GET', `/api/v3${BRANCH}`, { body: { name: 'main' } }),
    verdict: 'VALID',
    message: 'Verified: token can push to Acme/Mobile-App',
    checks: [accepted, seen('internal'), canPush('write'), branchExists],
    facts: { ...facts, visibility: 'internal' },
    calls: [`GET /api/v3${REPO}`, `GET /api/v3${BRANCH}`],
  },
])

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
