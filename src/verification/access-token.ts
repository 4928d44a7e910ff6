import type { TProperties } from '@sinclair/typebox'
import { OutboundError } from '../outbound/index.js'
import { fromOutbound } from './run.js'
import type { VerifyContext, VerifyRequest } from './types.js'

/**
 * How a consumer presents a token: `Authorization: Bearer <token>`, or HTTP Basic with the integration's user
 * (Jenkins `username`, Jira Cloud `email`) and the token as the password.
 */
export type TokenType = 'Bearer' | 'Basic'

export interface MintContext extends VerifyContext {
  /** Lifetime of minted App Store Connect tokens (APPSTORE_TOKEN_LIFETIME_SECONDS). */
  appStoreTokenLifetimeSeconds: number
}

export interface MintRequest extends VerifyRequest {
  /** What the token may do, as the minter's `grants` read the request; null: whatever the credential allows. */
  grants: readonly string[] | null
}

export interface MintedToken {
  token: string
  expiresAt: Date
  /** What the token may do; null: whatever the credential allows. */
  grants: string[] | null
}

/**
 * A minted token; or why the stored credential was refused (it no longer works); or why this ask was denied (more than
 * the credential may grant), which says nothing against the credential. Each one sentence, safe to show; never a provider body.
 */
export type MintResult = MintedToken | { refused: string } | { denied: string }

/**
 * Turns a provider's long-lived credential into a short-lived, narrowly scoped token, so the credential never
 * leaves the service. A provider without one hands out its stored secret instead.
 */
export interface TokenMinter {
  /** Fields of the provider's optional request body; absent: it takes none. */
  options?: TProperties
  /** Whether minting asks the provider (so a cache miss counts against the caller's rate limit), or only signs here. */
  callsProvider: boolean
  /** The grants a request's options ask for, normalised so that equal asks share one cached token; null: no narrowing. */
  grants(options: Readonly<Record<string, unknown>> | null): string[] | null
  /** Throws ProviderUnavailableError when the provider gives no answer (rate limited, 5xx). */
  mint(request: MintRequest, context: MintContext): Promise<MintResult>
}

/** Runs a minter; a failure to reach the provider reads as it does for verification. `label` names the provider. */
export async function runMinter(label: string, minter: TokenMinter, request: MintRequest, context: MintContext): Promise<MintResult> {
  try {
    return await minter.mint(request, context)
  } catch (err) {
    if (err instanceof OutboundError) throw fromOutbound(err, label)
    throw err
  }
}

/** A token renewed by spending a refresh token: the token, when it expires, and the refresh token to spend next. */
export interface RenewedToken {
  token: string
  expiresAt: Date
  refreshToken: string
}

/**
 * A credential whose short-lived token is renewed with a single-use refresh token (Slack token rotation). The service
 * keeps the current token and its expiry, and lets one replica at a time spend the refresh token.
 */
export interface TokenRotation {
  /** The secret field that holds the current token. */
  tokenField: string
  /** The field that holds when the current token expires. */
  expiresField: string
  /** The secret field that holds the refresh token. */
  refreshField: string
  /** The fields that hold which replica is renewing (a lease id) and until when: one renewal at a time, across replicas. */
  leaseFields: { id: string; until: string }
  /** Spends the refresh token; throws ProviderUnavailableError when the provider gives no answer. */
  refresh(request: VerifyRequest, context: VerifyContext): Promise<RenewedToken | { refused: string }>
}

/** Runs a renewal; a failure to reach the provider reads as it does for verification. `label` names the provider. */
export async function runRotation(
  label: string,
  rotation: TokenRotation,
  request: VerifyRequest,
  context: VerifyContext,
): Promise<RenewedToken | { refused: string }> {
  try {
    return await rotation.refresh(request, context)
  } catch (err) {
    if (err instanceof OutboundError) throw fromOutbound(err, label)
    throw err
  }
}
