import type { OutboundResponse } from '../../outbound/index.js'
import {
  CheckList,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  valueAt,
  type JsonObject,
} from '../../verification/provider-http.js'
import type { VerificationResult, Verifier } from '../../verification/types.js'
import { readServiceAccount, refusal, requestAccessToken, signAssertion, type ServiceAccount } from './google-service-account.js'

const PLAY = 'Google Play'
const CHECKS = ['authenticated', 'app-accessible'] as const

function errorReasons(body: JsonObject): string[] {
  const listed = (path: string[]) => {
    const items = valueAt(body, ...path)
    return Array.isArray(items) ? items.map((item) => stringAt(item, 'reason')).filter((r): r is string => r !== undefined) : []
  }
  return [...listed(['error', 'errors']), ...listed(['error', 'details'])]
}

function forbiddenReason(res: OutboundResponse, account: ServiceAccount, packageName: string): string {
  const reasons = errorReasons(readJsonObject(res))
  return reasons.includes('SERVICE_DISABLED') || reasons.includes('accessNotConfigured')
    ? "the Google Play Android Developer API is not enabled in the service account's Google Cloud project"
    : `${account.clientEmail} has no access to ${packageName} in Play Console`
}

export const verifyPlayStore: Verifier = async (request, context) => {
  const packageName = typeof request.values.packageName === 'string' ? request.values.packageName : ''
  const checks = new CheckList(CHECKS)
  const facts: { packageName: string | null; serviceAccountEmail: string | null } = { packageName: null, serviceAccountEmail: null }
  let scopes: string[] | null = null
  const result = (): VerificationResult =>
    checks.result(`Verified: ${facts.serviceAccountEmail ?? 'the service account'} can edit ${packageName} in Google Play`, {
      facts: { ...facts },
      credential: { expiresAt: null, scopes },
    })
  const unusable = (problem: string): VerificationResult => {
    checks.fail('authenticated', {
      detail: `the service account key cannot be used: ${problem}`,
      message: `The service account key cannot be used: ${problem}`,
      skipped: 'the service account key cannot be used',
    })
    return result()
  }

  const account = readServiceAccount(request.secrets.serviceAccountJson ?? '')
  if (typeof account === 'string') return unusable(account)
  facts.serviceAccountEmail = account.clientEmail
  const assertion = await signAssertion(account, context.apis.googleToken)
  if (assertion === undefined) return unusable('its private_key is not a PKCS#8 RSA key')

  const token = await requestAccessToken(context, assertion)
  if ('refused' in token) {
    const { detail, message } = refusal(account, token.refused)
    checks.fail('authenticated', { detail, message, skipped: 'the service account key was refused' })
    return result()
  }
  scopes = token.scopes
  checks.pass('authenticated', `Google issued an access token to ${account.clientEmail}`)

  const edits = `${context.apis.play}/androidpublisher/v3/applications/${encodeURIComponent(packageName)}/edits`
  const headers = { Authorization: `Bearer ${token.accessToken}`, Accept: 'application/json', 'User-Agent': USER_AGENT }
  const res = await context.http.request({
    url: edits,
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: '{}',
    target: 'configured',
  })
  throwIfUnavailable(PLAY, res)
  if (res.status === 403 || res.status === 404) {
    const reason =
      res.status === 403 ? forbiddenReason(res, account, packageName) : `the app does not exist or ${account.clientEmail} cannot see it`
    checks.fail('app-accessible', {
      detail: `Google Play refused to open an edit (${res.status}): ${reason}`,
      message: `Google Play refused access to ${packageName}: ${reason}`,
      skipped: 'the app is not accessible',
    })
    return result()
  }
  const editId = stringAt(readJsonObject(res), 'id')
  if (res.status !== 200 || !editId) throw providerError(PLAY, res)

  // Nothing is left open; an edit that cannot be deleted expires on its own, so the verdict stands.
  const deleted = await context.http
    .request({ url: `${edits}/${encodeURIComponent(editId)}`, method: 'DELETE', headers, target: 'configured' })
    .then((del) => del.status >= 200 && del.status < 300)
    .catch(() => false)
  facts.packageName = packageName
  checks.pass(
    'app-accessible',
    `the service account can open edits of ${packageName}${deleted ? '' : ' (the test edit could not be deleted; it expires on its own)'}`,
  )
  return result()
}
