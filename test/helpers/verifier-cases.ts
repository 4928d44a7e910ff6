import type { Test } from 'tap'
import { PROVIDER_RETRY_AFTER_SECONDS, ProviderUnavailableError } from '../../src/http/errors.js'
import { OutboundError } from '../../src/outbound/index.js'
import type { CapabilityCheck, Verdict, VerificationResult, Verifier, VerifyContext, VerifyRequest } from '../../src/verification/types.js'
import {
  calls,
  rejection,
  startProviderDouble,
  userHost,
  verifyContext,
  type ContextOptions,
  type ProviderDouble,
  type Reply,
  type Route,
} from './provider-double.js'

/** A result's checks as `[name, ok]` pairs. */
export function checksOf(result: VerificationResult): Array<[string, boolean]> {
  return result.checks.map(({ name, ok }) => [name, ok])
}

/** Fails when the secret, or one of the encoded forms it travelled in (a Basic credential), appears in `value` as JSON. */
export function assertNoSecret(t: Test, value: unknown, secret: string, ...encoded: string[]): void {
  const text = JSON.stringify(value)
  t.notMatch(text, secret, 'the token appears nowhere in the output')
  for (const form of encoded) t.notMatch(text, form, 'nor does its encoded form (a Basic credential)')
}

/** What a scenario runs against: the double that answers the call it scripts, and a request and context aimed at it. */
export interface VerifierTarget {
  double: ProviderDouble
  /** Doubles started next to `double` and reachable like it (allow-listed where that matters): where a redirect could lead. */
  others: ProviderDouble[]
  /** Doubles no scenario may reach, e.g. the configured API when a user host is verified, or the step after a failing one. */
  untouched: ProviderDouble[]
  context: VerifyContext
  request: VerifyRequest
  /** Scripts the answer to the verifier's first call. */
  answer(route: Route): void
  /** Asserts that the secret, in every form it was sent, appears nowhere in `value`. */
  assertNoSecret(t: Test, value: unknown): void
  /** Asserts that every request `double` received carried the secret the way the provider expects (when the spec says how). */
  assertSent?(t: Test): void
}

export interface StartOptions {
  timeoutMs?: number
  /** How many `others` to start. */
  others?: number
  /** Put `double` on this host name and leave it off the allow-list (user-given hosts only). */
  unlisted?: { hostname: string; allowedHosts?: string[] }
  /** Send this secret instead of a fresh valid one, e.g. a token of the wrong kind or a key Apple does not know. */
  secret?: string
}

export interface VerifierSpec {
  /** The provider's name in the verifier's messages, e.g. `GitHub`. */
  name: string
  /** Names the tests when it is not `name`, e.g. `GitHub Enterprise`. */
  label?: string
  verify: Verifier
  /** The verifier's first call, which `answer` scripts. Method defaults to GET. */
  method?: string
  path: string
  start(t: Test, options: StartOptions): Promise<VerifierTarget>
}

type Apis = NonNullable<ContextOptions['apis']>

interface TokenProvider {
  name: string
  label?: string
  verify: Verifier
  method?: string
  path: string
  /** A fresh secret. */
  token(): string
  /** The encoded forms the secret travels in, e.g. a Basic credential; they must not appear either. */
  encoded?(token: string): string[]
  /** The headers every request carries, the secret among them, e.g. `authorization: Bearer <token>`. */
  headers?(token: string): Record<string, string>
}

function tokenTarget(
  provider: TokenProvider,
  parts: Pick<VerifierTarget, 'double' | 'others' | 'untouched' | 'context' | 'request'>,
  token: string,
): VerifierTarget {
  const encoded = provider.encoded?.(token) ?? []
  const headers = provider.headers?.(token)
  return {
    ...parts,
    answer: (route) => parts.double.on(provider.method ?? 'GET', provider.path, route),
    assertNoSecret: (t, value) => assertNoSecret(t, value, token, ...encoded),
    ...(headers && {
      assertSent: (t: Test) => {
        for (const received of parts.double.received) {
          t.match(received.headers, headers, 'the request carried the secret as the provider expects')
        }
      },
    }),
  }
}

/** A provider at an API the service is configured with (github.com, bitbucket.org, slack.com): plain http doubles named in `context.apis`. */
export function atConfiguredApi(
  provider: TokenProvider & { apis(origin: string): Apis; request(token: string): VerifyRequest },
): VerifierSpec {
  return {
    ...provider,
    async start(t, options) {
      if (options.unlisted) throw new Error(`${provider.name} is called at a configured API, not at a host the tenant gives`)
      const double = await startProviderDouble(t)
      const others: ProviderDouble[] = []
      for (let i = 0; i < (options.others ?? 0); i++) others.push(await startProviderDouble(t))
      const token = options.secret ?? provider.token()
      const context = verifyContext(t, { apis: provider.apis(double.origin), timeoutMs: options.timeoutMs })
      return tokenTarget(provider, { double, others, untouched: [], context, request: provider.request(token) }, token)
    },
  }
}

/** A provider at a host the tenant gives: https doubles as `userHost` starts them. */
export function atUserHost(
  provider: TokenProvider & {
    request(token: string, double: ProviderDouble): VerifyRequest
    /** A configured API this provider also has (GitHub for GitHub Enterprise); verifying a user host must not call it. */
    configured?: keyof Apis
  },
): VerifierSpec {
  return {
    ...provider,
    async start(t, options) {
      const configured = provider.configured ? await startProviderDouble(t) : undefined
      const { double, others, context } = await userHost(t, {
        others: options.others,
        timeoutMs: options.timeoutMs,
        ...(provider.configured && configured ? { apis: { [provider.configured]: configured.origin } } : {}),
        ...(options.unlisted
          ? { hostname: options.unlisted.hostname, allowListed: false, allowedHosts: options.unlisted.allowedHosts }
          : {}),
      })
      const token = options.secret ?? provider.token()
      const untouched = configured ? [configured] : []
      return tokenTarget(provider, { double, others, untouched, context, request: provider.request(token, double) }, token)
    },
  }
}

interface Scripted {
  /** Says what is answered, in the test's name. */
  title: string
  reply: Route
  /** Scripts `reply` somewhere else than the first call, e.g. after a first call that succeeds. */
  script?(target: VerifierTarget, reply: Route): void
  /** How many requests the double receives in all, none of them repeated; default 1. */
  requests?: number
}

export interface RateLimit extends Scripted {
  /** The wait passed on as Retry-After, or the range it must fall in; none when the provider did not say. */
  retryAfter?: number | [number, number]
}

export interface NoVerdict extends Scripted {
  message: string
}

/** The scenarios every verifier shares: transport failures and answers that are no verdict. Each one given is a test. */
export interface VerifierCases {
  /** The provider never answers: OutboundError TIMEOUT near the deadline, after one request. */
  timeout?: boolean
  /** The first call is redirected to another origin: REDIRECT_REFUSED, and that origin receives nothing, not even a connection. */
  crossOriginRedirect?: { status: number; /** What the other origin would answer. */ decoy: Reply }
  /** A user host resolving to loopback that is not allow-listed: ADDRESS_REFUSED before any connection. */
  notAllowListed?: { hostname: string; allowedHosts?: string[]; /** What the host would answer. */ decoy?: Reply }
  /** ProviderUnavailableError PROVIDER_RATE_LIMITED (503), passing the wait on. */
  rateLimited?: RateLimit[]
  /** ProviderUnavailableError PROVIDER_ERROR (503) with `message`: server errors and answers that allow no verdict. */
  noVerdict?: NoVerdict[]
  /** Without the secret the result is INVALID with `message` (and `checks`, when given) and nothing is sent. */
  missingSecret?: { message: string; checks?: CapabilityCheck[] }
}

function untouched(t: Test, target: VerifierTarget): void {
  for (const double of target.untouched) t.equal(double.received.length, 0, 'a provider API this call must not reach received nothing')
}

/** Registers one test for each scenario in `cases`, run against the doubles `spec` starts. */
export function verifierCases(t: Test, spec: VerifierSpec, cases: VerifierCases): void {
  const label = spec.label ?? spec.name
  const unavailable = async (t: Test, entry: Scripted, code: string) => {
    const target = await spec.start(t, {})
    if (entry.script) entry.script(target, entry.reply)
    else target.answer(entry.reply)
    const err = await rejection(spec.verify(target.request, target.context))
    t.type(err, ProviderUnavailableError)
    const unavailable = err as ProviderUnavailableError
    t.equal(unavailable.statusCode, 503)
    t.equal(unavailable.code, code)
    t.equal(target.double.received.length, entry.requests ?? 1, 'no request was repeated')
    target.assertNoSecret(t, { message: unavailable.message, headers: unavailable.headers })
    untouched(t, target)
    return unavailable
  }
  const outbound = async (t: Test, target: VerifierTarget, code: string) => {
    const err = await rejection(spec.verify(target.request, target.context))
    t.type(err, OutboundError)
    t.equal((err as OutboundError).code, code)
    target.assertNoSecret(t, err)
    untouched(t, target)
  }

  if (cases.timeout) {
    t.test(`${label}: a provider that never answers times out with OutboundError TIMEOUT`, async (t) => {
      const target = await spec.start(t, { timeoutMs: 300 })
      target.answer('hang')
      const started = Date.now()
      await outbound(t, target, 'TIMEOUT')
      // Bounded by the 300 ms asked for, not VERIFY_TIMEOUT_MS's 10 s default; generous, as a loaded CI machine is slow.
      t.ok(Date.now() - started < 5000, 'gave up at the timeout asked for, long before the default')
      t.equal(target.double.received.length, 1)
    })
  }

  const redirect = cases.crossOriginRedirect
  if (redirect) {
    t.test(`${label}: a redirect to another origin is refused and the credentials never reach it`, async (t) => {
      const target = await spec.start(t, { others: 1 })
      const [other] = target.others
      if (!other) throw new Error('the spec started no other double')
      target.answer({ status: redirect.status, headers: { location: `${other.origin}${spec.path}` } })
      other.on(spec.method ?? 'GET', spec.path, redirect.decoy)
      await outbound(t, target, 'REDIRECT_REFUSED')
      t.equal(target.double.received.length, 1)
      t.equal(other.received.length, 0, 'the other origin received nothing')
      t.equal(other.connections, 0)
    })
  }

  const unlisted = cases.notAllowListed
  if (unlisted) {
    t.test(`${label}: a host that resolves to loopback and is not allow-listed is refused before anything is sent`, async (t) => {
      const target = await spec.start(t, { unlisted: { hostname: unlisted.hostname, allowedHosts: unlisted.allowedHosts } })
      if (unlisted.decoy) target.answer(unlisted.decoy)
      await outbound(t, target, 'ADDRESS_REFUSED')
      t.equal(target.double.connections, 0)
      t.equal(target.double.received.length, 0)
    })
  }

  for (const entry of cases.rateLimited ?? []) {
    t.test(`${label}: ${entry.title} is a 503 that passes the wait on`, async (t) => {
      const err = await unavailable(t, entry, 'PROVIDER_RATE_LIMITED')
      const { retryAfter } = entry
      if (retryAfter === undefined) {
        t.same(err.headers, { 'retry-after': String(PROVIDER_RETRY_AFTER_SECONDS) }, 'the provider did not say: the default wait')
        t.equal(err.message, `${spec.name} rate limit reached; retry later`)
        return
      }
      const seconds = Number(err.headers['retry-after'])
      if (typeof retryAfter === 'number') t.equal(seconds, retryAfter)
      else t.ok(seconds >= retryAfter[0] && seconds <= retryAfter[1], `retry-after ${seconds} is the time to reset`)
      t.same(err.headers, { 'retry-after': String(seconds) })
      t.equal(err.message, `${spec.name} rate limit reached; retry after ${seconds} seconds`)
    })
  }

  for (const entry of cases.noVerdict ?? []) {
    t.test(`${label}: ${entry.title} gives no verdict`, async (t) => {
      const err = await unavailable(t, entry, 'PROVIDER_ERROR')
      t.equal(err.message, entry.message)
    })
  }

  const missing = cases.missingSecret
  if (missing) {
    t.test(`${label}: without a stored secret nothing is sent and the result is INVALID`, async (t) => {
      const target = await spec.start(t, {})
      const result = await spec.verify({ ...target.request, secrets: {} }, target.context)
      t.equal(result.verdict, 'INVALID')
      t.equal(result.message, missing.message)
      if (missing.checks) t.same(result.checks, missing.checks)
      t.equal(target.double.received.length, 0)
      t.equal(target.double.connections, 0)
      untouched(t, target)
    })
  }
}

/** The checks a verifier did not run after one failed, as it reports them. */
export function notChecked(why: string, ...names: string[]): CapabilityCheck[] {
  return names.map((name) => ({ name, ok: false, detail: `not checked: ${why}` }))
}

/** A value known in advance, or one that names the double's origin (the host a tenant gave). */
type AtOrigin<T> = T | ((origin: string) => T)

/** What the provider answers and the result that must come of it: one row of a verdict table, one test. */
export interface VerdictCase {
  /** Names the test: what the provider answers and what the verifier makes of it. */
  name: string
  /** The answer to the verifier's first call. */
  reply?: Route
  /** Scripts further answers, e.g. to the calls after a first one that succeeds. */
  script?(double: ProviderDouble): void
  /** Stored values that differ from the spec's request, e.g. another branch. */
  values?: Record<string, unknown>
  /** A secret in place of the spec's fresh valid one. */
  secret?(): string
  verdict: Verdict
  message: AtOrigin<string>
  /** Every check, exactly. */
  checks: AtOrigin<CapabilityCheck[]>
  facts?: AtOrigin<VerificationResult['facts']>
  credential?: VerificationResult['credential']
  /** Every call made, as `METHOD path` in order; `[]`: nothing is sent, not even a connection is made. */
  calls?: string[]
  /** Provider text that must not be passed on. */
  hidden?: string | RegExp
}

/**
 * Registers one test per row: the double answers as the row scripts, and the result is exactly the row's. Every
 * row also asserts that the secret appears nowhere in the result and, when the spec says how, how it was sent.
 */
export function verdictCases(t: Test, spec: VerifierSpec, rows: VerdictCase[]): void {
  for (const row of rows) {
    t.test(row.name, async (t) => {
      const target = await spec.start(t, { secret: row.secret?.() })
      if (row.reply) target.answer(row.reply)
      row.script?.(target.double)
      const request = row.values ? { ...target.request, values: { ...target.request.values, ...row.values } } : target.request
      const result = await spec.verify(request, target.context)

      const { origin } = target.double
      t.equal(result.verdict, row.verdict)
      t.equal(result.message, typeof row.message === 'string' ? row.message : row.message(origin))
      t.same(result.checks, Array.isArray(row.checks) ? row.checks : row.checks(origin))
      if (row.facts) t.same(result.facts, typeof row.facts === 'function' ? row.facts(origin) : row.facts)
      if (row.credential) t.same(result.credential, row.credential)
      if (row.calls) {
        t.same(calls(target.double), row.calls)
        if (row.calls.length === 0) t.equal(target.double.connections, 0, 'not even a connection was made')
      }
      target.assertSent?.(t)
      if (row.hidden) t.notMatch(JSON.stringify(result), row.hidden, 'the provider body is not passed on')
      target.assertNoSecret(t, result)
      untouched(t, target)
    })
  }
}
