import type { Test } from 'tap'
import type { VerificationResult, Verifier, VerifyRequest } from '../../src/verification/types.js'
import { testToken, type Reply } from './provider-double.js'
import {
  atConfiguredApi,
  atUserHost,
  notChecked,
  verdictCases,
  type RateLimit,
  type VerdictCase,
  type VerifierSpec,
} from './verifier-cases.js'

/** The repository `GET /repos/Acme/{name}` answers with: private, default branch main, and a token that can push. */
export function githubRepository(name: string, overrides: Record<string, unknown> = {}) {
  return {
    id: 1296269,
    name,
    full_name: `Acme/${name}`,
    private: true,
    visibility: 'private',
    default_branch: 'main',
    archived: false,
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    ...overrides,
  }
}

/** The headers GitHub answers a classic token with: when it expires and what it may do. */
export const classicTokenHeaders = {
  'github-authentication-token-expiration': '2031-03-04 05:06:07 UTC',
  'x-oauth-scopes': 'repo, workflow',
}

/** What a verifier reads from `classicTokenHeaders`. */
export const classicTokenCredential = { expiresAt: '2031-03-04T05:06:07.000Z', scopes: ['repo', 'workflow'] }

const documentation = 'https://docs.github.com/rest'

/** GitHub's 401 for a token it does not accept. */
export const badCredentials: Reply = { status: 401, body: { message: 'Bad credentials', documentation_url: documentation, status: '401' } }

/** GitHub's 401 for a token that has expired: only the message tells it apart. */
export const tokenExpired: Reply = { status: 401, body: { message: 'Token expired', documentation_url: documentation, status: '401' } }

/** GitHub's 404 for what does not exist or what the token may not see. */
export const notFound: Reply = { status: 404, body: { message: 'Not Found', documentation_url: documentation, status: '404' } }

/** GitHub's 403 when the organization enforces SAML single sign-on and the token is not authorized for it. */
export const samlRequired: Reply = {
  status: 403,
  headers: {
    'x-github-sso': 'required; url=https://github.com/orgs/acme/sso?authorization_request=XYZ',
    'x-ratelimit-remaining': '4999',
  },
  body: {
    message: 'Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.',
  },
}

/** GitHub's primary rate limit, spent: a 403 with no requests remaining and the reset two minutes away. */
export const spentRateLimit: RateLimit = {
  title: 'a spent rate limit (403 with no requests remaining)',
  reply: () => ({
    status: 403,
    headers: {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 120),
    },
    body: { message: 'API rate limit exceeded for user ID 1.' },
  }),
  retryAfter: [118, 121],
}

/** GitHub's secondary rate limit: a 429 with Retry-After. */
export const secondaryRateLimit: RateLimit = {
  title: 'a 429 with Retry-After',
  reply: { status: 429, headers: { 'retry-after': '42' }, body: { message: 'You have exceeded a secondary rate limit.' } },
  retryAfter: 42,
}

/** What every request to the GitHub REST API carries: the token as a bearer token, and GitHub's media type and API version. */
export function githubHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'delivr-integrations',
  }
}

/**
 * A verifier that reads `path` of the GitHub REST API: at the configured github.com API, and at GitHub Enterprise,
 * `/api/v3` on a repository host the tenant gives. `request` takes the repository URL, github.com's when none is given.
 */
export function githubSpecs(
  verify: Verifier,
  path: string,
  request: (token: string, repositoryUrl?: string) => VerifyRequest,
): { github: VerifierSpec; enterprise: VerifierSpec } {
  const token = () => testToken('ghp_')
  return {
    github: atConfiguredApi({
      name: 'GitHub',
      verify,
      path,
      token,
      headers: githubHeaders,
      apis: (origin) => ({ github: origin }),
      request: (secret) => request(secret),
    }),
    enterprise: atUserHost({
      name: 'GitHub',
      label: 'GitHub Enterprise',
      verify,
      path: `/api/v3${path}`,
      token,
      headers: githubHeaders,
      request: (secret, double) => request(secret, `${double.origin}/acme/mobile-app`),
      configured: 'github',
    }),
  }
}

/** What a verifier that starts with GitHub's repository-access checks (authenticated, repository-visible) has of its own. */
export interface RepositoryAccessVerifier {
  /** The repository as the request names it, before GitHub does, e.g. `Acme/Mobile-App`. */
  repository: string
  /** The verifier's checks after `authenticated` and `repository-visible`. */
  later: string[]
  /** The facts of a result for which GitHub told nothing. */
  noFacts: VerificationResult['facts']
}

/**
 * The answers to the first call, for the repository, that end verification in src/verification/repository-access.ts:
 * the same verdict, message and checks for every verifier that starts there, and nothing asked after the first call.
 */
export function repositoryAccessCases(t: Test, spec: VerifierSpec, verifier: RepositoryAccessVerifier): void {
  const { repository, later } = verifier
  /** GitHub refused the token: authentication failed, and `why` nothing else was checked. */
  const refused = (detail: string, why: string) => [
    { name: 'authenticated', ok: false, detail },
    ...notChecked(why, 'repository-visible', ...later),
  ]
  /** GitHub accepted the token but did not show the repository: `detail` says why. */
  const invisible = (detail: string) => [
    { name: 'authenticated', ok: true, detail: 'GitHub accepted the token' },
    { name: 'repository-visible', ok: false, detail },
    ...notChecked('the repository is not visible', ...later),
  ]
  const rows: VerdictCase[] = [
    {
      name: 'a refused token is INVALID and nothing after authentication is checked',
      reply: badCredentials,
      verdict: 'INVALID',
      message: 'GitHub refused the access token',
      checks: refused('GitHub refused the token', 'the token was refused'),
      hidden: 'Bad credentials',
    },
    {
      name: 'a token GitHub says has expired is EXPIRED',
      reply: tokenExpired,
      verdict: 'EXPIRED',
      message: 'GitHub says the access token has expired',
      checks: refused('GitHub says the token has expired', 'the token has expired'),
    },
    {
      name: 'a repository GitHub answers 404 for is INVALID: not found or not visible',
      reply: notFound,
      verdict: 'INVALID',
      message: `Repository ${repository} was not found or the token cannot see it`,
      checks: invisible('repository not found or the token cannot see it'),
    },
    {
      name: 'a 403 for SAML single sign-on is INVALID with a safe explanation',
      reply: samlRequired,
      verdict: 'INVALID',
      message: `GitHub refused access to ${repository}: the organization requires the token to be authorized for SAML single sign-on`,
      checks: invisible(
        'GitHub refused access to the repository: the organization requires the token to be authorized for SAML single sign-on',
      ),
      hidden: /authorization_request|SAML enforcement|Personal Access token access/,
    },
  ]
  const nothingLearnt = { facts: verifier.noFacts, credential: { expiresAt: null, scopes: null }, calls: [`GET ${spec.path}`] }
  verdictCases(
    t,
    spec,
    rows.map((row) => ({ ...row, ...nothingLearnt })),
  )
}
