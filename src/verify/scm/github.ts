import { parseRepositoryUrl } from '../../kinds/scm/repository-url.js'
import type { OutboundRequest } from '../../outbound/index.js'
import {
  booleanAt,
  isJsonObject,
  parseScopes,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  toIsoInstant,
  USER_AGENT,
  valueAt,
  type JsonObject,
} from '../provider-http.js'
import type { Verifier, VerifyContext, VerifyRequest } from '../types.js'
import { accessToken, branchPath, branchToCheck, checkBranch, ScmVerification, toVisibility } from './scm-verification.js'

const PROVIDER = 'GitHub'
const GITHUB_HOSTS = new Set(['github.com', 'www.github.com'])

interface GithubRepository {
  owner: string
  repo: string
  /** The API base without trailing slash. */
  base: string
  target: OutboundRequest['target']
  secretOrigin: string | undefined
}

/** github.com goes to the configured API; any other host is GitHub Enterprise Server, a user target. */
function locate(request: VerifyRequest, apis: VerifyContext['apis']): GithubRepository {
  const url = parseRepositoryUrl(String(request.values.repositoryUrl), 'GITHUB')
  const [urlOwner = '', urlRepo = ''] = url.segments
  const named = (field: string, fallback: string) => {
    const value = request.values[field]
    return typeof value === 'string' && value !== '' ? value : fallback
  }
  const where = GITHUB_HOSTS.has(new URL(url.origin).hostname)
    ? { base: apis.github, target: 'configured' as const, secretOrigin: undefined }
    : { base: `${url.origin}/api/v3`, target: 'user' as const, secretOrigin: url.origin }
  return { owner: named('githubOrganization', urlOwner), repo: named('githubRepository', urlRepo), ...where }
}

/** GitHub's role names; maintain and admin include push. */
function permissionOf(body: JsonObject): { role: string; push: boolean } | undefined {
  const granted = valueAt(body, 'permissions')
  if (!isJsonObject(granted)) return undefined
  const has = (name: string) => granted[name] === true
  const role = has('admin')
    ? 'admin'
    : has('maintain')
      ? 'maintain'
      : has('push')
        ? 'write'
        : has('triage')
          ? 'triage'
          : has('pull')
            ? 'read'
            : 'none'
  return { role, push: has('admin') || has('maintain') || has('push') }
}

function forbiddenReason(headers: Record<string, string>): string {
  return headers['x-github-sso']?.startsWith('required')
    ? 'the organization requires the token to be authorized for SAML single sign-on'
    : 'the token is not allowed to read it (403)'
}

export const verifyGithub: Verifier = async (request, context) => {
  const where = locate(request, context.apis)
  const check = new ScmVerification(PROVIDER, `${where.owner}/${where.repo}`)
  const token = accessToken(request)
  if (token === undefined) {
    check.noToken()
    return check.result()
  }
  const get = (path: string) =>
    context.http.request({
      url: `${where.base}${path}`,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': USER_AGENT,
      },
      target: where.target,
      secretOrigin: where.secretOrigin,
    })

  const repoPath = `/repos/${encodeURIComponent(where.owner)}/${encodeURIComponent(where.repo)}`
  const res = await get(repoPath)
  throwIfUnavailable(PROVIDER, res)
  if (res.status === 401) {
    check.refused(/expired/i.test(stringAt(readJsonObject(res), 'message') ?? ''))
    return check.result()
  }
  check.authenticated()
  check.credential.expiresAt = toIsoInstant(res.headers['github-authentication-token-expiration'])
  check.credential.scopes = parseScopes(res.headers['x-oauth-scopes'])
  if (res.status === 404) check.notVisible()
  else if (res.status === 403) check.forbidden(forbiddenReason(res.headers))
  else if (res.status !== 200) throw providerError(PROVIDER, res)
  if (check.failed) return check.result()

  const body = readJsonObject(res)
  const isPrivate = booleanAt(body, 'private')
  const visibility = toVisibility(stringAt(body, 'visibility')) ?? (isPrivate === undefined ? null : isPrivate ? 'private' : 'public')
  check.visible({ fullName: stringAt(body, 'full_name') ?? null, defaultBranch: stringAt(body, 'default_branch') ?? null, visibility })
  const permission = permissionOf(body)
  if (booleanAt(body, 'archived')) check.archived()
  else if (!permission) check.permissionUnknown('GitHub did not report the permissions of the token')
  else if (permission.push) check.canPush(`permission: ${permission.role}`)
  else check.cannotPush(permission.role)
  if (check.failed) return check.result()

  await checkBranch(check, branchToCheck(request, check.facts.defaultBranch), (branch) => get(`${repoPath}/branches/${branchPath(branch)}`))
  return check.result()
}

// Shared with the GitHub Actions verifier, which calls the same API for the same repository.
export { locate as locateGithubRepository, permissionOf as githubPermission, forbiddenReason as githubForbiddenReason }
