import type { OutboundRequest, OutboundResponse } from '../outbound/index.js'
import { isJsonObject, parseScopes, readJsonObject, stringAt, toIsoInstant, USER_AGENT, valueAt, type JsonObject } from './provider-http.js'
import type { RefusalReader } from './repository-access.js'
import type { VerificationResult, VerifyContext } from './types.js'

export interface GithubRepository {
  owner: string
  repo: string
  /** The API base without trailing slash. */
  base: string
  target: OutboundRequest['target']
  secretOrigin: string | undefined
  /** `/repos/{owner}/{repo}`, encoded. */
  path: string
}

/**
 * Calls a path of the GitHub REST API on that repository's host (github.com's configured API, or GitHub Enterprise
 * Server's, a user target) with a bearer token: an access token, an installation token or an App JWT. A body is sent as JSON.
 */
export function githubRequest(context: VerifyContext, where: GithubRepository, token: string, path: string, body?: unknown) {
  return context.http.request({
    url: `${where.base}${path}`,
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': USER_AGENT,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    target: where.target,
    secretOrigin: where.secretOrigin,
  })
}

/** GETs a path of the GitHub REST API for that repository's host, with the token. */
export function githubGetter(context: VerifyContext, where: GithubRepository, token: string) {
  return (path: string): Promise<OutboundResponse> => githubRequest(context, where, token, path)
}

/** GitHub says a 401 token expired in its message; otherwise the token was refused. */
export function githubTokenExpired(res: OutboundResponse): boolean {
  return /expired/i.test(stringAt(readJsonObject(res), 'message') ?? '')
}

/** Expiry and scopes, from the headers GitHub sends with every authenticated answer. */
export function githubCredential(headers: Record<string, string>): VerificationResult['credential'] {
  return { expiresAt: toIsoInstant(headers['github-authentication-token-expiration']), scopes: parseScopes(headers['x-oauth-scopes']) }
}

/** GitHub's role names; maintain and admin include push. */
export function githubPermission(body: JsonObject): { role: string; push: boolean } | undefined {
  const granted = valueAt(body, 'permissions')
  if (!isJsonObject(granted)) return undefined
  const has = (name: string) => granted[name] === true
  const role = ['admin', 'maintain', 'push', 'triage', 'pull'].find(has) ?? 'none'
  const names: Record<string, string> = { push: 'write', pull: 'read' }
  return { role: names[role] ?? role, push: has('admin') || has('maintain') || has('push') }
}

export function githubForbiddenReason(headers: Record<string, string>): string {
  return headers['x-github-sso']?.startsWith('required')
    ? 'the organization requires the token to be authorized for SAML single sign-on'
    : 'the token is not allowed to read it (403)'
}

/** How GitHub says a token expired (401) or why it may not read a repository (403). */
export const GITHUB_REFUSALS: RefusalReader = {
  expired: githubTokenExpired,
  forbidden: (res) => githubForbiddenReason(res.headers),
}
