import {
  CheckList,
  isJsonObject,
  numberAt,
  providerError,
  readJsonObject,
  throwIfUnavailable,
  USER_AGENT,
  valueAt,
} from '../../verification/provider-http.js'
import type { Verifier } from '../../verification/types.js'

const PROVIDER = 'Checkmate'
const CHECKS = ['authenticated', 'organisation-accessible'] as const

/**
 * The organisation's project total. Checkmate answers `{ data: { projectsList, projectCount: [{ count }] } }`
 * (a SQL count row); a plain number at `data.projectCount`, `data.total` or `total` is read too.
 */
function projectTotal(body: unknown): number | undefined {
  const counted = valueAt(body, 'data', 'projectCount')
  if (Array.isArray(counted)) return numberAt(counted[0], 'count')
  return numberAt(body, 'data', 'projectCount') ?? numberAt(body, 'data', 'total') ?? numberAt(body, 'total')
}

export const verifyCheckmate: Verifier = async (request, context) => {
  const baseUrl = String(request.values.baseUrl).replace(/\/+$/, '')
  const orgId = request.values.orgId
  const org = String(orgId)
  const checks = new CheckList(CHECKS)
  const facts: Record<string, string | number | null> = {
    projectCount: null,
    orgId: typeof orgId === 'number' || typeof orgId === 'string' ? orgId : null,
  }
  const result = () =>
    checks.result(`Verified: token can read the projects of Checkmate organisation ${org}`, {
      facts,
      credential: { expiresAt: null, scopes: null },
    })
  const noAccess = (detail: string) =>
    checks.fail('organisation-accessible', {
      detail,
      message: `Checkmate accepted the token but ${detail}`,
      skipped: 'the organisation is not accessible',
    })

  const authToken = request.secrets.authToken
  if (!authToken) {
    checks.fail('authenticated', {
      detail: 'no auth token was given',
      message: 'No auth token was given',
      skipped: 'no auth token was given',
    })
    return result()
  }

  const query = new URLSearchParams({ orgId: org, page: '1', pageSize: '1' })
  const res = await context.http.request({
    url: `${baseUrl}/api/v1/projects?${query.toString()}`,
    headers: { Authorization: `Bearer ${authToken}`, Accept: 'application/json', 'User-Agent': USER_AGENT },
    target: 'user',
    secretOrigin: new URL(baseUrl).origin,
  })
  throwIfUnavailable(PROVIDER, res)
  if (res.status === 401) {
    checks.fail('authenticated', {
      detail: 'Checkmate refused the token',
      message: 'Checkmate refused the auth token',
      skipped: 'the token was refused',
    })
    return result()
  }
  if (res.status === 403 || res.status === 404) {
    checks.pass('authenticated', 'Checkmate accepted the token')
    noAccess(`the token has no access to organisation ${org} (${res.status})`)
    return result()
  }
  if (res.status !== 200) throw providerError(PROVIDER, res)

  const body = readJsonObject(res)
  const total = projectTotal(body)
  if (!isJsonObject(body.data) && total === undefined) {
    checks.fail('authenticated', {
      detail: `${baseUrl} did not answer like the Checkmate API`,
      message: `${baseUrl} did not answer like the Checkmate API; check the URL`,
      skipped: 'the host did not answer like Checkmate',
    })
    return result()
  }
  checks.pass('authenticated', 'Checkmate accepted the token')
  const listed = valueAt(body, 'data', 'projectsList')
  // Checkmate filters by orgId without checking it, so an unknown organisation reads as one without projects.
  if (total === 0 || (total === undefined && Array.isArray(listed) && listed.length === 0)) {
    noAccess(`it lists no projects in organisation ${org}; check the organisation id`)
    return result()
  }
  facts.projectCount = total ?? null
  checks.pass(
    'organisation-accessible',
    total === undefined ? `organisation ${org} has projects` : `organisation ${org} has ${total} projects`,
  )
  return result()
}
