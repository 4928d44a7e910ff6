import { importPKCS8, SignJWT } from 'jose'
import type { VerifyRequest } from '../../verification/types.js'

/** Apple refuses tokens that live longer than 20 minutes. */
export const APP_STORE_MAX_TOKEN_LIFETIME_SECONDS = 20 * 60
const AUDIENCE = 'appstoreconnect-v1'

export interface AppStoreKey {
  /** The .p8 file: a PEM PKCS#8 P-256 private key. */
  privateKey: string
  keyId: string
  issuerId: string
}

/** A stored (or given) integration's field as text. */
export function textValue(request: Pick<VerifyRequest, 'values'>, field: string): string {
  const value = request.values[field]
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : ''
}

/** The API key an App Store integration holds. */
export function appStoreKeyOf(request: VerifyRequest): AppStoreKey {
  return { privateKey: request.secrets.privateKey ?? '', keyId: textValue(request, 'keyId'), issuerId: textValue(request, 'issuerId') }
}

export interface AppStoreToken {
  token: string
  expiresAt: Date
}

/**
 * An ES256 token for the App Store Connect API, as Apple asks for it (`kid` the key id, `iss` the issuer id,
 * `aud` appstoreconnect-v1), living `lifetimeSeconds`, limited to `scope` (`GET /v1/...` operations) when given.
 * Undefined when the key is not a PKCS#8 P-256 key.
 */
export async function signAppStoreToken(
  key: AppStoreKey,
  options: { lifetimeSeconds: number; scope?: readonly string[] | null },
): Promise<AppStoreToken | undefined> {
  const lifetime = Math.min(options.lifetimeSeconds, APP_STORE_MAX_TOKEN_LIFETIME_SECONDS)
  const issuedAt = Math.floor(Date.now() / 1000)
  let token: string
  try {
    const signingKey = await importPKCS8(key.privateKey.trim(), 'ES256')
    token = await new SignJWT(options.scope ? { scope: [...options.scope] } : {})
      .setProtectedHeader({ alg: 'ES256', kid: key.keyId, typ: 'JWT' })
      .setIssuer(key.issuerId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + lifetime)
      .setAudience(AUDIENCE)
      .sign(signingKey)
  } catch {
    return undefined
  }
  return { token, expiresAt: new Date((issuedAt + lifetime) * 1000) }
}
