import { parseRepositoryUrl } from './repository-url.js'
import type { OutboundResponse } from '../../outbound/index.js'
import {
  booleanAt,
  parseScopes,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  valueAt,
} from '../../verification/provider-http.js'
import type { Verifier } from '../../verification/types.js'
import {
  accessToken,
  branchPath,
  branchToCheck,
  checkBranch,
  ScmVerification,
  type RefusalReader,
} from '../../verification/repository-access.js'

const PROVIDER = 'Bitbucket'

const REFUSALS: RefusalReader = {
  expired: (res) => /expired/i.test(stringAt(readJsonObject(res), 'error', 'message') ?? ''),
  forbidden: () => 'the token may lack the repository read scope (403)',
}
const PUSH_PERMISSIONS = new Set(['write', 'admin'])
const PUSH_SCOPES = new Set(['repository:write', 'repository:admin'])

/** `values[].permission` of /user/permissions/repositories for this repository, or 'none'. */
function permissionFrom(res: OutboundResponse, fullName: string): string {
  const values = valueAt(readJsonObject(res), 'values')
  const entries: unknown[] = Array.isArray(values) ? values : []
  const entry = entries.find((e) => stringAt(e, 'repository', 'full_name')?.toLowerCase() === fullName.toLowerCase()) ?? entries[0]
  return stringAt(entry, 'permission') ?? 'none'
}

export const verifyBitbucket: Verifier = async (request, context) => {
  const url = parseRepositoryUrl(String(request.values.repositoryUrl), 'BITBUCKET')
  const [workspace = '', slug = ''] = url.segments
  const check = new ScmVerification(PROVIDER, `${workspace}/${slug}`)
  const token = accessToken(request)
  if (token === undefined) {
    check.noToken()
    return check.result()
  }
  const get = (path: string) =>
    context.http.request({
      url: `${context.apis.bitbucket}${path}`,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'User-Agent': USER_AGENT },
      target: 'configured',
    })

  const repoPath = `/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}`
  const res = await get(repoPath)
  const body = check.readRepository(res, REFUSALS)
  if (res.status !== 401) check.credential.scopes = parseScopes(res.headers['x-oauth-scopes'])
  if (!body) return check.result()

  const isPrivate = booleanAt(body, 'is_private')
  const fullName = stringAt(body, 'full_name') ?? `${workspace}/${slug}`
  check.visible({
    fullName,
    defaultBranch: stringAt(body, 'mainbranch', 'name') ?? null,
    visibility: isPrivate === undefined ? null : isPrivate ? 'private' : 'public',
  })

  const query = encodeURIComponent(`repository.full_name="${fullName}"`)
  const permissions = await get(`/user/permissions/repositories?q=${query}`)
  throwIfUnavailable(PROVIDER, permissions)
  // Access tokens stand for a repository, project or workspace rather than a user; their scopes say what they may do.
  const pushScope = check.credential.scopes?.find((scope) => PUSH_SCOPES.has(scope))
  if (permissions.status === 200) {
    const permission = permissionFrom(permissions, fullName)
    if (PUSH_PERMISSIONS.has(permission)) check.canPush(`permission: ${permission}`)
    else check.cannotPush(permission)
  } else if (pushScope) check.canPush(`scope: ${pushScope}`)
  else check.permissionUnknown(`Bitbucket did not report the token's permission (${permissions.status})`)
  if (check.failed) return check.result()

  await checkBranch(check, branchToCheck(request, check.facts.defaultBranch), (branch) =>
    get(`${repoPath}/refs/branches/${branchPath(branch)}`),
  )
  return check.result()
}
