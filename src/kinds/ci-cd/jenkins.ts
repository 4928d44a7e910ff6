import {
  CheckList,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  valueAt,
} from '../../verification/provider-http.js'
import type { Verifier } from '../../verification/types.js'

const PROVIDER = 'Jenkins'
const CHECKS = ['authenticated', 'api-readable'] as const

/** Asks only for what the checks read, so a controller with thousands of jobs still answers briefly. */
const API_PATH = '/api/json?tree=mode,nodeDescription,jobs[name]'

/** The root object of Jenkins' remote API (`hudson.model.Hudson`), not a login page or a proxy's answer. */
function looksLikeJenkins(body: Record<string, unknown>): boolean {
  return Array.isArray(body.jobs) || typeof body.mode === 'string' || (stringAt(body, '_class') ?? '').startsWith('hudson.')
}

export const verifyJenkins: Verifier = async (request, context) => {
  const hostUrl = String(request.values.hostUrl).replace(/\/+$/, '')
  const username = String(request.values.username)
  const checks = new CheckList(CHECKS)
  const facts: Record<string, string | number | null> = { jenkinsVersion: null, jobCount: null, url: hostUrl }
  const result = () =>
    checks.result(`Verified: ${username} can read Jenkins at ${hostUrl}`, { facts, credential: { expiresAt: null, scopes: null } })
  const notJenkins = (why: string) =>
    checks.fail('authenticated', {
      detail: `${hostUrl} did not answer like a Jenkins API (${why})`,
      message: `${hostUrl} did not answer like a Jenkins API; check the URL and any sign-in proxy in front of Jenkins`,
      skipped: 'the host did not answer like Jenkins',
    })

  const apiToken = request.secrets.apiToken
  if (!apiToken) {
    checks.fail('authenticated', { detail: 'no API token was given', message: 'No API token was given', skipped: 'no API token was given' })
    return result()
  }

  const res = await context.http.request({
    url: `${hostUrl}${API_PATH}`,
    headers: {
      Authorization: `Basic ${Buffer.from(`${username}:${apiToken}`).toString('base64')}`,
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
    },
    target: 'user',
    secretOrigin: new URL(hostUrl).origin,
  })
  throwIfUnavailable(PROVIDER, res)
  // Jenkins names the identity it applied to a refused request; "anonymous" means the credentials were not used.
  const actingAs = res.headers['x-you-are-authenticated-as']
  if (res.status === 401 || (res.status === 403 && actingAs === 'anonymous')) {
    checks.fail('authenticated', {
      detail: `Jenkins refused the user name or API token of ${username}`,
      message: 'Jenkins refused the user name or API token',
      skipped: 'the credentials were refused',
    })
    return result()
  }
  if (res.status === 403) {
    checks.pass('authenticated', `Jenkins accepted the API token of ${username}`)
    checks.fail('api-readable', {
      detail: `${username} lacks the Overall/Read permission`,
      message: `Jenkins accepted ${username} but the user lacks the Overall/Read permission`,
      skipped: 'the API is not readable',
    })
    return result()
  }
  if (res.status !== 200) {
    if (res.status >= 400) notJenkins(`answered ${res.status}`)
    else throw providerError(PROVIDER, res)
    return result()
  }

  const body = readJsonObject(res)
  if (!looksLikeJenkins(body)) {
    notJenkins('answered 200 without the Jenkins JSON')
    return result()
  }
  const jobs = valueAt(body, 'jobs')
  facts.jenkinsVersion = res.headers['x-jenkins'] ?? null
  facts.jobCount = Array.isArray(jobs) ? jobs.length : null
  const version = facts.jenkinsVersion === null ? '' : ` ${facts.jenkinsVersion}`
  checks.pass('authenticated', `Jenkins${version} accepted the API token of ${username}`)
  checks.pass('api-readable', facts.jobCount === null ? 'the API is readable' : `the API is readable; ${facts.jobCount} top-level jobs`)
  return result()
}
