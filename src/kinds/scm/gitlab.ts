import { parseRepositoryUrl } from './repository-url.js'
import {
  booleanAt,
  numberAt,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  toIsoInstant,
  USER_AGENT,
  valueAt,
  type JsonObject,
} from '../../verification/provider-http.js'
import type { Verifier } from '../../verification/types.js'
import {
  accessToken,
  branchToCheck,
  checkBranch,
  ScmVerification,
  toVisibility,
  type RefusalReader,
} from '../../verification/repository-access.js'

const PROVIDER = 'GitLab'
const DEVELOPER = 30
const ROLES: ReadonlyArray<[number, string]> = [
  [50, 'owner'],
  [40, 'maintainer'],
  [30, 'developer'],
  [20, 'reporter'],
  [15, 'planner'],
  [10, 'guest'],
  [5, 'minimal access'],
]

/** The higher of direct project membership and membership through the group. */
function accessLevel(project: JsonObject): number {
  const direct = numberAt(project, 'permissions', 'project_access', 'access_level') ?? 0
  const group = numberAt(project, 'permissions', 'group_access', 'access_level') ?? 0
  return Math.max(direct, group)
}

function roleName(level: number): string {
  return ROLES.find(([min]) => level >= min)?.[1] ?? 'none'
}

/** GitLab answers an expired token with 401 `invalid_token` and a description saying so. */
function saysExpired(body: JsonObject): boolean {
  return [stringAt(body, 'error_description'), stringAt(body, 'message')].some((text) => text !== undefined && /expired/i.test(text))
}

function forbiddenReason(body: JsonObject): string {
  return stringAt(body, 'error') === 'insufficient_scope'
    ? 'the token lacks the api or read_api scope'
    : 'the token is not allowed to read it (403)'
}

const REFUSALS: RefusalReader = {
  expired: (res) => saysExpired(readJsonObject(res)),
  forbidden: (res) => forbiddenReason(readJsonObject(res)),
}

export const verifyGitlab: Verifier = async (request, context) => {
  const url = parseRepositoryUrl(String(request.values.repositoryUrl), 'GITLAB')
  const projectPath = url.segments.join('/')
  const check = new ScmVerification(PROVIDER, projectPath)
  const token = accessToken(request)
  if (token === undefined) {
    check.noToken()
    return check.result()
  }
  const get = (path: string) =>
    context.http.request({
      url: `${url.origin}/api/v4${path}`,
      headers: { 'PRIVATE-TOKEN': token, Accept: 'application/json', 'User-Agent': USER_AGENT },
      target: 'user',
      secretOrigin: url.origin,
    })

  const project = `/projects/${encodeURIComponent(projectPath)}`
  const res = await get(project)
  const body = check.readRepository(res, REFUSALS)
  // A refused token is not asked about itself; an accepted one is, whatever it may see.
  if (res.status === 401) return check.result()
  if (body) {
    check.visible({
      fullName: stringAt(body, 'path_with_namespace') ?? null,
      defaultBranch: stringAt(body, 'default_branch') ?? null,
      visibility: toVisibility(stringAt(body, 'visibility')),
    })
    const level = accessLevel(body)
    if (booleanAt(body, 'archived')) check.archived()
    else if (level >= DEVELOPER) check.canPush(`role: ${roleName(level)}`)
    else check.cannotPush(roleName(level))
  }

  if (!check.failed) {
    await checkBranch(check, branchToCheck(request, check.facts.defaultBranch), (branch) =>
      get(`${project}/repository/branches/${encodeURIComponent(branch)}`),
    )
  }

  // Only personal, project and group access tokens can describe themselves; others get 401/403/404.
  const self = await get('/personal_access_tokens/self')
  if (![401, 403, 404].includes(self.status)) throwIfUnavailable(PROVIDER, self)
  if (self.status === 200) {
    const info = readJsonObject(self)
    const scopes = valueAt(info, 'scopes')
    check.credential.expiresAt = toIsoInstant(stringAt(info, 'expires_at'))
    check.credential.scopes = Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : null
  }
  return check.result()
}
