import { GITHUB_REFUSALS, githubCredential, githubGetter, githubPermission } from '../../verification/github-api.js'
import { locateGithubRepository } from './github-repository.js'
import { booleanAt, stringAt } from '../../verification/provider-http.js'
import type { Verifier } from '../../verification/types.js'
import { githubAccess, installationPermission } from '../../verification/github-app.js'
import { branchPath, branchToCheck, checkBranch, ScmVerification, toVisibility } from '../../verification/repository-access.js'

const PROVIDER = 'GitHub'

export const verifyGithub: Verifier = async (request, context) => {
  const where = locateGithubRepository(request, context.apis)
  const check = new ScmVerification(PROVIDER, `${where.owner}/${where.repo}`)
  const access = await githubAccess(request, context, where, check, { contents: 'write' })
  if (!access) return check.result()
  const get = githubGetter(context, where, access.token)
  const repoPath = where.path
  const res = await get(repoPath)
  const body = check.readRepository(res, GITHUB_REFUSALS)
  if (res.status !== 401) Object.assign(check.credential, githubCredential(res.headers))
  if (!body) return check.result()

  const isPrivate = booleanAt(body, 'private')
  const visibility = toVisibility(stringAt(body, 'visibility')) ?? (isPrivate === undefined ? null : isPrivate ? 'private' : 'public')
  check.visible({ fullName: stringAt(body, 'full_name') ?? null, defaultBranch: stringAt(body, 'default_branch') ?? null, visibility })
  const permission = access.granted ? installationPermission(access.granted, 'contents') : githubPermission(body)
  if (booleanAt(body, 'archived')) check.archived()
  else if (!permission) check.permissionUnknown('GitHub did not report the permissions of the token')
  else if (permission.push) check.canPush(`permission: ${permission.role}`)
  else check.cannotPush(permission.role)
  if (check.failed) return check.result()

  await checkBranch(check, branchToCheck(request, check.facts.defaultBranch), (branch) => get(`${repoPath}/branches/${branchPath(branch)}`))
  return check.result()
}
