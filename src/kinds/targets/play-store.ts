import { importPKCS8, SignJWT } from 'jose'
import type { OutboundResponse } from '../../outbound/index.js'
import {
  CheckList,
  isJsonObject,
  parseScopes,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  valueAt,
  type JsonObject,
} from '../../verification/provider-http.js'
import type { VerificationResult, Verifier, VerifyContext } from '../../verification/types.js'

const GOOGLE = 'Google'
const PLAY = 'Google Play'
const CHECKS = ['authenticated', 'app-accessible'] as const
const SCOPE = 'https://www.googleapis.com/auth/androidpublisher'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** Google refuses assertions that live longer than an hour. */
const ASSERTION_LIFETIME_SECONDS = 60 * 60
/** OAuth errors that refuse the credential; any other 400 means the request was wrong, which is no verdict. */
const REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client'])

interface ServiceAccount {
  clientEmail: string
  privateKey: string
  privateKeyId: string | undefined
}

type TokenAnswer = { accessToken: string; scopes: string[] | null } | { refused: string | undefined }

/** The service account, or why the key file cannot be one. `token_uri` is ignored: the token URL is configured. */
function readServiceAccount(json: string): ServiceAccount | string {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return 'it is not JSON'
  }
  if (!isJsonObject(parsed) || parsed.type !== 'service_account') return 'it is not a service account key (type must be service_account)'
  const clientEmail = stringAt(parsed, 'client_email')
  const privateKey = stringAt(parsed, 'private_key')
  if (!clientEmail || !privateKey) return 'it has no client_email or no private_key'
  return { clientEmail, privateKey, privateKeyId: stringAt(parsed, 'private_key_id') || undefined }
}

/** The JWT-bearer assertion; undefined when the private key is not a PKCS#8 RSA key. */
async function signAssertion(account: ServiceAccount, audience: string): Promise<string | undefined> {
  try {
    const key = await importPKCS8(account.privateKey.trim(), 'RS256')
    const issuedAt = Math.floor(Date.now() / 1000)
    return await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(account.privateKeyId ? { kid: account.privateKeyId } : {}) })
      .setIssuer(account.clientEmail)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
      .sign(key)
  } catch {
    return undefined
  }
}

/** Why Google refused the grant, in our words; the description itself is never passed on. */
function refusalReason(description: string | undefined): string | undefined {
  if (description === undefined) return undefined
  if (/disabled/i.test(description)) return 'the service account or its key is disabled'
  if (/deleted|not found|does not exist/i.test(description)) return 'the service account or its key was deleted'
  if (/signature/i.test(description)) return 'the signature does not match an active key of the service account'
  return undefined
}

async function requestToken(context: VerifyContext, assertion: string): Promise<TokenAnswer> {
  const res = await context.http.request({
    url: context.apis.googleToken,
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', 'User-Agent': USER_AGENT },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
    target: 'configured',
  })
  throwIfUnavailable(GOOGLE, res)
  const body = readJsonObject(res)
  if ((res.status === 400 || res.status === 401) && REFUSALS.has(stringAt(body, 'error') ?? '')) {
    return { refused: refusalReason(stringAt(body, 'error_description')) }
  }
  const accessToken = stringAt(body, 'access_token')
  if (res.status !== 200 || !accessToken || stringAt(body, 'token_type')?.toLowerCase() !== 'bearer') throw providerError(GOOGLE, res)
  return { accessToken, scopes: parseScopes(stringAt(body, 'scope')) }
}

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

  const json = request.secrets.serviceAccountJson ?? ''
  if (json.trim() === '') return unusable('none was given')
  const account = readServiceAccount(json)
  if (typeof account === 'string') return unusable(account)
  facts.serviceAccountEmail = account.clientEmail
  const assertion = await signAssertion(account, context.apis.googleToken)
  if (assertion === undefined) return unusable('its private_key is not a PKCS#8 RSA key')

  const token = await requestToken(context, assertion)
  if ('refused' in token) {
    const why = token.refused ? `: ${token.refused}` : ''
    checks.fail('authenticated', {
      detail: `Google refused the service account key${why}`,
      message: `Google refused the service account key of ${account.clientEmail}${why}`,
      skipped: 'the service account key was refused',
    })
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
