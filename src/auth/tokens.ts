import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto'
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { createLRU } from 'lru.min'
import type { AuthConfig } from '../config/load-config.js'
import { ServiceError, unauthorized } from '../http/errors.js'

export type Principal = { type: 'user'; accountId: string } | { type: 'service'; name: string; scopes: ReadonlySet<string> }

export const SCOPES = {
  read: 'integrations:read',
  credentials: 'integrations:credentials:read',
} as const

const SERVICE_PREFIX = 'service:'

export function principalFromClaims(claims: JWTPayload): Principal {
  const sub = claims.sub
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw unauthorized('Token has no usable subject')
  if (!sub.startsWith(SERVICE_PREFIX)) return { type: 'user', accountId: sub }
  const scope = typeof claims.scope === 'string' ? claims.scope : ''
  return { type: 'service', name: sub.slice(SERVICE_PREFIX.length), scopes: new Set(scope.split(' ').filter(Boolean)) }
}

const tokenLifetime = (message: string) => new ServiceError(401, 'TOKEN_LIFETIME', message)

/**
 * User and service tokens alike must say when they were issued and when they expire, may not be
 * issued later than the clock skew allows, and may not live longer than the maximum lifetime:
 * a token minted with a far `iat` or a lifetime of years is as good as one that never expires.
 * (`exp` in the past, within the skew, is jose's check.)
 */
function checkLifetime(payload: JWTPayload, auth: AuthConfig, now = Math.floor(Date.now() / 1000)): void {
  const { iat, exp } = payload as { iat: number; exp: number }
  if (iat > now + auth.clockSkewSeconds) {
    throw tokenLifetime(`Token was issued in the future ("iat" more than ${auth.clockSkewSeconds} s ahead of this server's clock)`)
  }
  if (exp - iat > auth.maxTokenLifetimeSeconds) {
    throw tokenLifetime(`Token lifetime ("exp" - "iat") is longer than ${auth.maxTokenLifetimeSeconds} s`)
  }
}

/** Tokens whose signature and claims were checked, kept until they expire (or the least recently used go). */
const VERIFIED_TOKENS = 4096

/**
 * Builds the verifier once; each call only checks a signature and claims. A token that passed is remembered,
 * keyed by its exact text, with the principal it names: its next use only checks that it has not expired since.
 * Everything else a verification checks (signature, issuer, audience, the lifetime rules) cannot change for the
 * same text and key; `nbf` and `iat` can only have moved further into the past. Failures are never remembered.
 */
export function createTokenVerifier(auth: AuthConfig, { now = Date.now }: { now?: () => number } = {}) {
  const verified = createLRU<string, { principal: Principal; exp: number }>({ max: VERIFIED_TOKENS })
  let key: Promise<webcrypto.CryptoKey> | KeyObject
  let algorithms: string[]
  if (auth.secret) {
    // Imported once: given raw bytes, jose would import the key again on every verification.
    key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(auth.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    algorithms = ['HS256']
  } else {
    const publicKey = createPublicKey(auth.publicKey!)
    key = publicKey
    algorithms = publicKey.asymmetricKeyType === 'ec' ? ['ES256'] : ['RS256']
  }
  return async function verify(token: string): Promise<Principal> {
    const at = now()
    const known = verified.get(token)
    if (known !== undefined) {
      // jose's own rule: expired once exp is at or before now, less the tolerated skew.
      if (known.exp > Math.floor(at / 1000) - auth.clockSkewSeconds) return known.principal
      verified.delete(token)
    }
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, await key, {
        algorithms,
        issuer: auth.issuer,
        audience: auth.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: auth.clockSkewSeconds,
        currentDate: new Date(at),
      }))
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('Token has expired')
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === 'exp' || err.claim === 'iat') {
          throw tokenLifetime(`Token claim "${err.claim}" is missing or not a number: tokens must say when they were issued and expire`)
        }
        throw unauthorized(`Token claim "${err.claim}" is not accepted`)
      }
      if (err instanceof joseErrors.JOSEError) throw unauthorized('Token is invalid')
      throw err
    }
    checkLifetime(payload, auth, Math.floor(at / 1000))
    const principal = principalFromClaims(payload)
    verified.set(token, { principal, exp: payload.exp! })
    return principal
  }
}

export interface MintOptions {
  sub: string
  scope?: string
  /** A jose time span ("1h", "90s"). */
  expiresIn?: string
}

/** What minting needs: the secret, and the claims and lifetime limit the service will check when known. */
export type MintAuth = Pick<AuthConfig, 'secret'> & Partial<AuthConfig>

/**
 * HS256 tokens for development and tests; production tokens come from the gateway. Refuses to
 * mint a token longer-lived than `maxTokenLifetimeSeconds`: the service would refuse it.
 */
export async function mintToken(auth: MintAuth, { sub, scope, expiresIn }: MintOptions): Promise<string> {
  if (!auth.secret) throw new Error('Minting tokens needs AUTH_JWT_SECRET (HS256); RS256/ES256 tokens come from the issuer')
  let jwt = new SignJWT(scope ? { scope } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    // An hour by default, or the longest the service accepts if that is shorter.
    .setExpirationTime(expiresIn ?? `${Math.min(3600, auth.maxTokenLifetimeSeconds ?? 3600)}s`)
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer)
  if (auth.audience) jwt = jwt.setAudience(auth.audience)
  const token = await jwt.sign(new TextEncoder().encode(auth.secret))
  const { iat = 0, exp = 0 } = decodeJwt(token)
  if (auth.maxTokenLifetimeSeconds !== undefined && exp - iat > auth.maxTokenLifetimeSeconds) {
    throw new Error(
      `A lifetime of ${expiresIn} is longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS (${auth.maxTokenLifetimeSeconds} s): the service would refuse the token`,
    )
  }
  return token
}
