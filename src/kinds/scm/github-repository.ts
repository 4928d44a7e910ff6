import type { GithubRepository } from '../../verification/github-api.js'
import type { VerifyContext, VerifyRequest } from '../../verification/types.js'
import { parseRepositoryUrl } from './repository-url.js'

const GITHUB_HOSTS = new Set(['github.com', 'www.github.com'])

/** github.com goes to the configured API; any other host is GitHub Enterprise Server, a user target. */
export function locateGithubRepository(request: VerifyRequest, apis: VerifyContext['apis']): GithubRepository {
  const url = parseRepositoryUrl(String(request.values.repositoryUrl), 'GITHUB')
  const [urlOwner = '', urlRepo = ''] = url.segments
  const named = (field: string, fallback: string) => {
    const value = request.values[field]
    return typeof value === 'string' && value !== '' ? value : fallback
  }
  const where = GITHUB_HOSTS.has(new URL(url.origin).hostname)
    ? { base: apis.github, target: 'configured' as const, secretOrigin: undefined }
    : { base: `${url.origin}/api/v3`, target: 'user' as const, secretOrigin: url.origin }
  const owner = named('githubOrganization', urlOwner)
  const repo = named('githubRepository', urlRepo)
  return { owner, repo, ...where, path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}` }
}
