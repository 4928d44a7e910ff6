import { Type } from '@sinclair/typebox'
import { importPKCS8, SignJWT } from 'jose'
import { describedPattern } from '../../http/patterns.js'
import type { TokenMinter } from '../../verification/access-token.js'
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

/** An operation App Store Connect lets a scoped token call: read-only, like `GET /v1/apps?filter[platform]=IOS`. */
const SCOPE_OPERATION = describedPattern('^GET /v1/[!-~]+$', 'must be an App Store Connect read operation, like "GET /v1/apps"')

/** Short-lived App Store Connect tokens, signed here with the stored key: Apple is not asked, the key never leaves. */
export const mintAppStoreToken: TokenMinter = {
  options: {
    scope: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024, ...SCOPE_OPERATION }), {
        minItems: 1,
        maxItems: 50,
        description:
          "Apple's `scope` claim: the only operations the token may call (GET requests under /v1/, query included). Without it the token may do whatever the key's role allows",
        examples: [['GET /v1/apps?filter[bundleId]=com.acme.app', 'GET /v1/builds']],
      }),
    ),
  },
  callsProvider: false,
  grants: (options) => (Array.isArray(options?.scope) ? [...new Set(options.scope.map(String))].sort() : null),
  async mint(request, context) {
    const signed = await signAppStoreToken(appStoreKeyOf(request), {
      lifetimeSeconds: context.appStoreTokenLifetimeSeconds,
      scope: request.grants,
    })
    if (signed === undefined) {
      return { refused: 'The private key cannot sign App Store Connect tokens: it must be the .p8 key App Store Connect issued' }
    }
    return { token: signed.token, expiresAt: signed.expiresAt, grants: request.grants ? [...request.grants] : null }
  },
}
