import { importPKCS8, SignJWT } from 'jose'
import {
  isJsonObject,
  numberAt,
  parseScopes,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
} from '../../verification/provider-http.js'
import { ProviderUnavailableError } from '../../http/errors.js'
import type { TokenMinter } from '../../verification/access-token.js'
import type { VerifyContext } from '../../verification/types.js'

export const GOOGLE = 'Google'
/** What Delivr asks Google for: the Google Play Developer API. */
export const ANDROID_PUBLISHER_SCOPE = 'https://www.googleapis.com/auth/androidpublisher'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** Google refuses assertions that live longer than an hour. */
const ASSERTION_LIFETIME_SECONDS = 60 * 60
/** OAuth errors that refuse the credential; any other 400 means the request was wrong, which is no verdict. */
const REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client'])

export interface ServiceAccount {
  clientEmail: string
  privateKey: string
  privateKeyId: string | undefined
}

/** Google's answer to the grant: an access token, or a refusal of the key (with our reason, when we know it). */
export type GoogleTokenAnswer =
  { accessToken: string; expiresInSeconds: number | undefined; scopes: string[] | null } | { refused: string | undefined }

/** The service account, or why the key file cannot be one. `token_uri` is ignored: the token URL is configured. */
export function readServiceAccount(json: string): ServiceAccount | string {
  if (json.trim() === '') return 'none was given'
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

/** The JWT-bearer assertion for the androidpublisher scope, addressed to `audience` (the token URL); undefined when the private key is not a PKCS#8 RSA key. */
export async function signAssertion(account: ServiceAccount, audience: string): Promise<string | undefined> {
  try {
    const key = await importPKCS8(account.privateKey.trim(), 'RS256')
    const issuedAt = Math.floor(Date.now() / 1000)
    return await new SignJWT({ scope: ANDROID_PUBLISHER_SCOPE })
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

/** What a refused grant reads as: `detail` follows "Google refused the service account key"; the message names the account. */
export function refusal(account: ServiceAccount, reason: string | undefined): { detail: string; message: string } {
  const why = reason ? `: ${reason}` : ''
  return {
    detail: `Google refused the service account key${why}`,
    message: `Google refused the service account key of ${account.clientEmail}${why}`,
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

/**
 * Exchanges the assertion for an access token at the configured token URL (GOOGLE_TOKEN_URL), through the guarded
 * client. Throws ProviderUnavailableError when Google gives no usable answer (rate limited, 5xx, a malformed reply).
 */
export async function requestAccessToken(context: VerifyContext, assertion: string): Promise<GoogleTokenAnswer> {
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
  return { accessToken, expiresInSeconds: numberAt(body, 'expires_in'), scopes: parseScopes(stringAt(body, 'scope')) }
}

/**
 * Google OAuth access tokens for the androidpublisher scope, from the stored service account key through the
 * JWT-bearer grant at GOOGLE_TOKEN_URL (never the key file's own `token_uri`).
 */
export const mintPlayStoreToken: TokenMinter = {
  callsProvider: true,
  grants: () => [ANDROID_PUBLISHER_SCOPE],
  async mint(request, context) {
    const account = readServiceAccount(request.secrets.serviceAccountJson ?? '')
    if (typeof account === 'string') return { refused: `The service account key cannot be used: ${account}` }
    const assertion = await signAssertion(account, context.apis.googleToken)
    if (assertion === undefined) return { refused: 'The service account key cannot be used: its private_key is not a PKCS#8 RSA key' }
    // The lifetime counts from the ask, not the answer: the token is never taken for longer-lived than it is.
    const asked = Date.now()
    const answer = await requestAccessToken(context, assertion)
    if ('refused' in answer) return { refused: refusal(account, answer.refused).message }
    if (answer.expiresInSeconds === undefined || answer.expiresInSeconds <= 0) {
      throw new ProviderUnavailableError('PROVIDER_ERROR', `${GOOGLE} issued a token without a lifetime (expires_in); try again later`)
    }
    return {
      token: answer.accessToken,
      expiresAt: new Date(asked + answer.expiresInSeconds * 1000),
      grants: answer.scopes ?? [ANDROID_PUBLISHER_SCOPE],
    }
  },
}
