import { originOf } from '../define/https-url.js'
import {
  booleanAt,
  CheckList,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  type CheckFailure,
  type JsonObject,
} from '../../verification/provider-http.js'
import type { VerificationResult, Verifier } from '../../verification/types.js'

const PROVIDER = 'Jira'
const CHECKS = ['authenticated', 'account-active'] as const

type JiraType = 'CLOUD' | 'SERVER' | 'DATA_CENTER'

function given(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Cloud takes an Atlassian account email and API token as Basic; Server and Data Center a personal access token as Bearer. */
function authorization(type: JiraType, email: string | undefined, token: string): string | undefined {
  if (type !== 'CLOUD') return `Bearer ${token}`
  return email === undefined ? undefined : `Basic ${Buffer.from(`${email}:${token}`, 'utf8').toString('base64')}`
}

/** Cloud names a user by accountId; Server and Data Center by key, or name on old versions. */
function accountIdOf(body: JsonObject): string | undefined {
  return stringAt(body, 'accountId') ?? stringAt(body, 'key') ?? stringAt(body, 'name')
}

/** Jira's Seraph filter says AUTHENTICATION_DENIED when the account must pass a CAPTCHA before it may sign in again. */
function refusal(type: JiraType, headers: Record<string, string>, status: number): CheckFailure {
  const wrong =
    type === 'CLOUD'
      ? 'the email or API token is wrong, or the token was revoked'
      : 'the personal access token is wrong, expired or revoked'
  const captcha = /AUTHENTICATION_DENIED/i.test(headers['x-seraph-loginreason'] ?? '')
  const reason = captcha
    ? 'the account must solve a CAPTCHA after failed sign-ins; sign in to Jira in a browser once, then verify again'
    : status === 403
      ? 'the account is not allowed to use the REST API (403)'
      : `${wrong} (401)`
  return {
    detail: `Jira refused the credentials: ${reason}`,
    message: `Jira refused the credentials: ${reason}`,
    skipped: 'the credentials were refused',
    verdict: 'INVALID',
  }
}

function notJira(checks: CheckList, baseUrl: string, status: number): void {
  checks.fail('authenticated', {
    detail: `the server did not answer like the Jira REST API (${status})`,
    message: `The server at ${baseUrl} did not answer like the Jira REST API (${status}); check the base URL and Jira type`,
    skipped: 'the server did not answer like Jira',
  })
}

function result(checks: CheckList, validMessage: string, facts: VerificationResult['facts'] = {}): VerificationResult {
  return checks.result(validMessage, {
    facts: { displayName: null, accountId: null, ...facts },
    credential: { expiresAt: null, scopes: null },
  })
}

export const verifyJira: Verifier = async (request, context) => {
  const checks = new CheckList(CHECKS)
  const baseUrl = String(request.values.baseUrl)
  const type = request.values.jiraType as JiraType
  const token = given(request.secrets.apiToken)
  const email = given(request.values.email)
  const auth = token === undefined ? undefined : authorization(type, email, token)
  if (auth === undefined) {
    const missing = token === undefined ? 'no API token was given' : 'Jira Cloud needs the email of the Atlassian account'
    checks.fail('authenticated', { detail: missing, message: `${missing.charAt(0).toUpperCase()}${missing.slice(1)}`, skipped: missing })
    return result(checks, '')
  }

  const res = await context.http.request({
    url: `${baseUrl}/rest/api/${type === 'CLOUD' ? 3 : 2}/myself`,
    headers: { Authorization: auth, Accept: 'application/json', 'User-Agent': USER_AGENT },
    target: 'user',
    secretOrigin: originOf(baseUrl),
  })
  throwIfUnavailable(PROVIDER, res)
  if (res.status === 401 || res.status === 403) {
    checks.fail('authenticated', refusal(type, res.headers, res.status))
    return result(checks, '')
  }
  if (res.status !== 200 && res.status !== 404) throw providerError(PROVIDER, res)
  const body = readJsonObject(res)
  const accountId = accountIdOf(body)
  if (res.status === 404 || accountId === undefined) {
    notJira(checks, baseUrl, res.status)
    return result(checks, '')
  }

  const displayName = stringAt(body, 'displayName') ?? null
  const who = displayName ?? accountId
  checks.pass('authenticated', `Jira accepted the credentials for ${who}`)
  const active = booleanAt(body, 'active')
  if (active === true) checks.pass('account-active', 'the account is active')
  else {
    const detail = active === false ? 'the account is deactivated' : 'Jira did not say whether the account is active'
    checks.fail('account-active', {
      detail,
      message: active === false ? `The Jira account of ${who} is deactivated` : `Jira did not say whether the account of ${who} is active`,
      skipped: detail,
    })
  }
  return result(checks, `Verified: signed in to Jira as ${who}`, { displayName, accountId })
}
