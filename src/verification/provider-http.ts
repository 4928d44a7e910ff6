import { ProviderUnavailableError } from '../http/errors.js'
import type { OutboundResponse } from '../outbound/index.js'
import type { CapabilityCheck, Verdict, VerificationResult } from './types.js'

export const USER_AGENT = 'delivr-integrations'

export type JsonObject = Record<string, unknown>

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The body as a JSON object; an HTML error page, an array or bad JSON reads as `{}`. */
export function readJsonObject(res: OutboundResponse): JsonObject {
  try {
    const value = res.json()
    return isJsonObject(value) ? value : {}
  } catch {
    return {}
  }
}

export function valueAt(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) current = isJsonObject(current) ? current[key] : undefined
  return current
}

export function stringAt(value: unknown, ...path: string[]): string | undefined {
  const found = valueAt(value, ...path)
  return typeof found === 'string' ? found : undefined
}

export function numberAt(value: unknown, ...path: string[]): number | undefined {
  const found = valueAt(value, ...path)
  return typeof found === 'number' && Number.isFinite(found) ? found : undefined
}

export function booleanAt(value: unknown, ...path: string[]): boolean | undefined {
  const found = valueAt(value, ...path)
  return typeof found === 'boolean' ? found : undefined
}

/**
 * Seconds until the provider takes requests again: `Retry-After` (seconds or an HTTP date),
 * else a reset header, which GitHub and GitLab send as epoch seconds and the IETF RateLimit
 * draft as seconds from now.
 */
export function retryAfterSeconds(headers: Record<string, string>, now = Date.now()): number | undefined {
  const retryAfter = headers['retry-after']?.trim()
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter)
    const at = Date.parse(retryAfter)
    if (!Number.isNaN(at)) return Math.max(0, (at - now) / 1000)
  }
  for (const name of ['x-ratelimit-reset', 'ratelimit-reset']) {
    const value = headers[name]?.trim()
    if (!value || !/^\d+$/.test(value)) continue
    const seconds = Number(value)
    return seconds > 1_000_000_000 ? Math.max(0, seconds - now / 1000) : seconds
  }
  return undefined
}

/** 429, or a 403 that says the quota is spent (GitHub's primary and secondary limits). */
export function isRateLimited(res: OutboundResponse): boolean {
  if (res.status === 429) return true
  return res.status === 403 && (res.headers['x-ratelimit-remaining'] === '0' || res.headers['retry-after'] !== undefined)
}

export function rateLimitedError(provider: string, res: OutboundResponse, now = Date.now()): ProviderUnavailableError {
  const seconds = retryAfterSeconds(res.headers, now)
  const whole = seconds === undefined ? undefined : Math.max(1, Math.ceil(seconds))
  const when = whole === undefined ? 'retry later' : `retry after ${whole} second${whole === 1 ? '' : 's'}`
  return new ProviderUnavailableError('PROVIDER_RATE_LIMITED', `${provider} rate limit reached; ${when}`, seconds)
}

export function providerError(provider: string, res: OutboundResponse): ProviderUnavailableError {
  const why = res.status >= 500 ? 'try again later' : 'no verdict could be given'
  return new ProviderUnavailableError('PROVIDER_ERROR', `${provider} answered ${res.status}; ${why}`)
}

/** Throws when the answer is not a verdict: rate limited or a server error. */
export function throwIfUnavailable(provider: string, res: OutboundResponse): void {
  if (isRateLimited(res)) throw rateLimitedError(provider, res)
  if (res.status >= 500) throw providerError(provider, res)
}

/** `x-oauth-scopes` style lists, comma or space separated; null when the header is absent. */
export function parseScopes(header: string | undefined): string[] | null {
  if (header === undefined) return null
  return header.split(/[\s,]+/).filter((scope) => scope !== '')
}

/**
 * An ISO 8601 instant from a provider's date: `2025-01-31` (taken as 00:00 UTC),
 * `2025-01-31 12:00:00 UTC`, `2025-01-31 12:00:00 +0200` or ISO. Null when unreadable.
 */
export function toIsoInstant(value: string | null | undefined): string | null {
  if (!value) return null
  const text = value.trim()
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text)
  const spaced = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)\s*(UTC|GMT|Z|[+-]\d{2}:?\d{2})?$/.exec(text)
  let candidate = text
  if (dateOnly) candidate = `${text}T00:00:00Z`
  else if (spaced) {
    const zone = spaced[3] === undefined || /^(UTC|GMT|Z)$/.test(spaced[3]) ? 'Z' : spaced[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')
    candidate = `${spaced[1]}T${spaced[2]}${zone}`
  }
  const at = Date.parse(candidate)
  return Number.isNaN(at) ? null : new Date(at).toISOString()
}

export interface CheckFailure {
  detail: string
  /** The result's message: one sentence, no trailing period. */
  message: string
  /** Why the checks after this one were not run, e.g. "the token was refused". */
  skipped: string
  verdict?: Exclude<Verdict, 'VALID'>
}

/**
 * Capability checks run in a fixed order. The first failure decides the verdict and the
 * message; every check not run after it reads "not checked: …".
 */
export class CheckList {
  readonly #names: readonly string[]
  readonly #done = new Map<string, CapabilityCheck>()
  #failure: CheckFailure | undefined

  constructor(names: readonly string[]) {
    this.#names = names
  }

  get failed(): boolean {
    return this.#failure !== undefined
  }

  pass(name: string, detail: string): void {
    this.#record(name, true, detail)
  }

  fail(name: string, failure: CheckFailure): void {
    this.#record(name, false, failure.detail)
    this.#failure ??= failure
  }

  result(validMessage: string, rest: Pick<VerificationResult, 'facts' | 'credential'>): VerificationResult {
    const failure = this.#failure
    const checks = this.#names.map(
      (name) => this.#done.get(name) ?? { name, ok: false, detail: `not checked: ${failure?.skipped ?? 'an earlier check did not run'}` },
    )
    const complete = checks.every((check) => check.ok)
    return {
      verdict: failure?.verdict ?? (complete ? 'VALID' : 'INVALID'),
      message: failure?.message ?? (complete ? validMessage : 'Not every check could be run'),
      checks,
      ...rest,
    }
  }

  #record(name: string, ok: boolean, detail: string): void {
    if (!this.#names.includes(name)) throw new Error(`Unknown check ${name}`)
    if (this.#done.has(name)) throw new Error(`Check ${name} recorded twice`)
    this.#done.set(name, { name, ok, detail })
  }
}
