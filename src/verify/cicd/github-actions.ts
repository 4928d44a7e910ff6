import { booleanAt, CheckList, numberAt, providerError, readJsonObject, stringAt, throwIfUnavailable, valueAt } from '../provider-http.js'
import {
  githubCredential,
  githubForbiddenReason,
  githubGetter,
  githubPermission,
  githubTokenExpired,
  locateGithubRepository,
} from '../github-api.js'
import { accessToken } from '../scm/scm-verification.js'
import type { VerificationResult, Verifier } from '../types.js'

const PROVIDER = 'GitHub'
const CHECKS = ['authenticated', 'repository-visible', 'workflows-readable', 'can-dispatch'] as const
const LISTED_WORKFLOWS = 10

/** Workflow file paths, e.g. `.github/workflows/release.yml`, in the order GitHub lists them. */
function workflowPaths(body: unknown): string[] {
  const workflows = valueAt(body, 'workflows')
  if (!Array.isArray(workflows)) return []
  return workflows.map((workflow) => stringAt(workflow, 'path')).filter((path): path is string => path !== undefined)
}

export const verifyGithubActions: Verifier = async (request, context) => {
  const where = locateGithubRepository(request, context.apis)
  let repository = `${where.owner}/${where.repo}`
  const checks = new CheckList(CHECKS)
  const facts: Record<string, string | number | null> = { fullName: null, workflowCount: null, workflows: null }
  const credential: VerificationResult['credential'] = { expiresAt: null, scopes: null }
  const result = () => checks.result(`Verified: token can read and dispatch workflows in ${repository}`, { facts, credential })

  const token = accessToken(request)
  if (token === undefined) {
    checks.fail('authenticated', {
      detail: 'no access token was given',
      message: 'No access token was given',
      skipped: 'no access token was given',
    })
    return result()
  }
  const get = githubGetter(context, where, token)
  const repoPath = where.path
  const res = await get(repoPath)
  throwIfUnavailable(PROVIDER, res)
  if (res.status === 401) {
    const expired = githubTokenExpired(res)
    checks.fail('authenticated', {
      detail: expired ? 'GitHub says the token has expired' : 'GitHub refused the token',
      message: expired ? 'GitHub says the access token has expired' : 'GitHub refused the access token',
      skipped: expired ? 'the token has expired' : 'the token was refused',
      verdict: expired ? 'EXPIRED' : 'INVALID',
    })
    return result()
  }
  checks.pass('authenticated', 'GitHub accepted the token')
  Object.assign(credential, githubCredential(res.headers))
  if (res.status === 404) {
    checks.fail('repository-visible', {
      detail: 'repository not found or the token cannot see it',
      message: `Repository ${repository} was not found or the token cannot see it`,
      skipped: 'the repository is not visible',
    })
    return result()
  }
  if (res.status === 403) {
    const reason = githubForbiddenReason(res.headers)
    checks.fail('repository-visible', {
      detail: `GitHub refused access to the repository: ${reason}`,
      message: `GitHub refused access to ${repository}: ${reason}`,
      skipped: 'the repository is not visible',
    })
    return result()
  }
  if (res.status !== 200) throw providerError(PROVIDER, res)

  const repo = readJsonObject(res)
  repository = stringAt(repo, 'full_name') ?? repository
  facts.fullName = stringAt(repo, 'full_name') ?? null
  checks.pass('repository-visible', `token can see ${repository}`)

  const listed = await get(`${repoPath}/actions/workflows`)
  throwIfUnavailable(PROVIDER, listed)
  if (listed.status === 403 || listed.status === 404) {
    checks.fail('workflows-readable', {
      detail: `GitHub refused to list the workflows (${listed.status}); the token needs read access to Actions`,
      message: `The token cannot read the Actions workflows of ${repository}; it needs read access to Actions`,
      skipped: 'the workflows are not readable',
    })
    return result()
  }
  if (listed.status !== 200) throw providerError(PROVIDER, listed)
  const workflows = readJsonObject(listed)
  const paths = workflowPaths(workflows)
  facts.workflowCount = numberAt(workflows, 'total_count') ?? paths.length
  facts.workflows = paths.slice(0, LISTED_WORKFLOWS).join(', ')
  checks.pass('workflows-readable', `token can list the ${facts.workflowCount} workflows of ${repository}`)

  // Dispatching needs write access; GitHub reports the role, not what a fine-grained token was granted.
  const permission = githubPermission(repo)
  const cannotDispatch = (detail: string) =>
    checks.fail('can-dispatch', {
      detail,
      message: `The token cannot dispatch workflows in ${repository}: ${detail}`,
      skipped: 'workflows cannot be dispatched',
    })
  if (booleanAt(repo, 'archived')) cannotDispatch('the repository is archived')
  else if (!permission) cannotDispatch('GitHub did not report the permissions of the token')
  else if (!permission.push) cannotDispatch(`dispatching needs write access (permission: ${permission.role})`)
  else checks.pass('can-dispatch', `token can dispatch workflows (permission: ${permission.role})`)
  return result()
}
