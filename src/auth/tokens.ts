import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto'
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import type { AuthConfig } from '../config/load-config.js'
import { unauthorized } from '../http/errors.js'

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

/** Builds the verifier once; each call only checks a signature and claims. */
export function createTokenVerifier(auth: AuthConfig) {
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
    try {
      const { payload } = await jwtVerify(token, await key, {
        algorithms,
        issuer: auth.issuer,
        audience: auth.audience,
        requiredClaims: ['sub', 'exp'],
      })
      return principalFromClaims(payload)
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('Token has expired')
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized(`Token claim "${err.claim}" is not accepted`)
      if (err instanceof joseErrors.JOSEError) throw unauthorized('Token is invalid')
      throw err
    }
  }
}

export interface MintOptions {
  sub: string
  scope?: string
  expiresIn?: string
}

/** HS256 tokens for development and tests; production tokens come from the gateway. */
export async function mintToken(auth: AuthConfig, { sub, scope, expiresIn = '1h' }: MintOptions): Promise<string> {
  if (!auth.secret) throw new Error('Minting tokens needs AUTH_JWT_SECRET (HS256); RS256/ES256 tokens come from the issuer')
  let jwt = new SignJWT(scope ? { scope } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer)
  if (auth.audience) jwt = jwt.setAudience(auth.audience)
  return jwt.sign(new TextEncoder().encode(auth.secret))
}
