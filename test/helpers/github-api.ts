import type { Verifier, VerifyRequest } from '../../src/verification/types.js'
import { testToken, type Reply } from './provider-double.js'
import { atConfiguredApi, atUserHost, type RateLimit, type VerifierSpec } from './verifier-cases.js'

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
      apis: (origin) => ({ github: origin }),
      request: (secret) => request(secret),
    }),
    enterprise: atUserHost({
      name: 'GitHub',
      label: 'GitHub Enterprise',
      verify,
      path: `/api/v3${path}`,
      token,
      request: (secret, double) => request(secret, `${double.origin}/acme/mobile-app`),
      configured: 'github',
    }),
  }
}
