import type { Config } from '../config/load-config.js'
import type { OutboundClient } from '../outbound/index.js'

/** What the provider said about the credentials. "Could not ask" is not a verdict: it is an error. */
export type Verdict = 'VALID' | 'INVALID' | 'EXPIRED'

export interface CapabilityCheck {
  /** Stable name, e.g. `authenticated`, `repository-visible`, `can-push`, `default-branch-exists`. */
  name: string
  ok: boolean
  /** Human-readable, safe to show a tenant: never a secret or a raw provider body. */
  detail: string
}

export interface VerificationResult {
  verdict: Verdict
  /** One sentence, safe to show; says what failed when the verdict is not VALID. */
  message: string
  checks: CapabilityCheck[]
  /** What the provider told about the resource, e.g. `{ defaultBranch: 'main', visibility: 'private' }`. */
  facts: Record<string, string | number | boolean | null>
  credential: {
    /** ISO 8601, when the provider tells it. */
    expiresAt: string | null
    scopes: string[] | null
  }
}

export interface VerifyRequest {
  provider: string
  /** Normalised non-secret fields of the integration (as stored). */
  values: Record<string, unknown>
  /** Plaintext secrets, by field name. */
  secrets: Record<string, string>
}

export interface VerifyContext {
  http: OutboundClient
  apis: Config['providerApis']
}

/**
 * Calls the provider and returns a verdict. Throws ProviderUnavailableError when the
 * provider could not give one (rate limited, 5xx); OutboundError from the client
 * propagates (timeouts, refused addresses) and is mapped in one place.
 */
export type Verifier = (request: VerifyRequest, context: VerifyContext) => Promise<VerificationResult>
