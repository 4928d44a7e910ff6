import {
  booleanAt,
  CheckList,
  numberAt,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  valueAt,
} from '../../verification/provider-http.js'
import { GITHUB_REFUSALS, githubCredential, githubGetter, githubPermission } from '../../verification/github-api.js'
import { locateGithubRepository } from '../scm/github-repository.js'
import { RepositoryAccess } from '../../verification/repository-access.js'
import { githubAccess, installationPermission } from '../../verification/github-app.js'
import type { VerificationResult, Verifier } from '../../verification/types.js'

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
  const checks = new CheckList(CHECKS)
  const access = new RepositoryAccess(checks, PROVIDER, `${where.owner}/${where.repo}`)
  const facts: Record<string, string | number | null> = { fullName: null, workflowCount: null, workflows: null }
  const credential: VerificationResult['credential'] = { expiresAt: null, scopes: null }
  const result = () => checks.result(`Verified: token can read and dispatch workflows in ${access.repository}`, { facts, credential })

  const reading = await githubAccess(request, context, where, access, { actions: 'write' })
  if (!reading) return result()
  const get = githubGetter(context, where, reading.token)
  const repoPath = where.path
  const res = await get(repoPath)
  const repo = access.readRepository(res, GITHUB_REFUSALS)
  if (res.status !== 401) Object.assign(credential, githubCredential(res.headers))
  if (!repo) return result()
  const fullName = stringAt(repo, 'full_name') ?? null
  facts.fullName = fullName
  access.seen(fullName)
  const repository = access.repository

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
  const permission = reading.granted ? installationPermission(reading.granted, 'actions') : githubPermission(repo)
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
