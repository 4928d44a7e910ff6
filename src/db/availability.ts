import { ConnectionError, DatabaseError } from 'sequelize'

export type DatabaseState = 'up' | 'down'

/** Runs `fn` after `ms` and returns what cancels it; injected so tests decide when time passes. */
export type Schedule = (fn: () => unknown, ms: number) => () => void

export interface AvailabilityOptions {
  /** One cheap round trip (`SELECT 1`): resolves when the database answers. */
  probe: () => Promise<unknown>
  /** A probe still unsettled after this long counts as failed. */
  probeTimeoutMs: number
  /** Pause after the first failed probe; it doubles after each further failure, up to `maxIntervalMs`. */
  minIntervalMs?: number
  maxIntervalMs?: number
  schedule?: Schedule
  now?: () => number
  onChange?: (state: DatabaseState, info: { downForMs: number }) => void
}

export interface Availability {
  readonly state: DatabaseState
  /** A connection-level failure was seen: refuse database work and probe until the database answers. */
  reportFailure(): void
  /** Cancels the pending probe; nothing is scheduled afterwards. */
  stop(): void
}

const unrefTimer: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms).unref()
  return () => clearTimeout(timer)
}

/**
 * A circuit breaker on the database. Up until a connection-level failure; then down, so
 * requests get 503 at once instead of each waiting out connect and acquire timeouts, while
 * one probe at a time (immediately, then with doubling pauses) asks whether it is back.
 * The first probe that succeeds brings it up again.
 */
export function createAvailability(options: AvailabilityOptions): Availability {
  const schedule = options.schedule ?? unrefTimer
  const now = options.now ?? Date.now
  const minInterval = options.minIntervalMs ?? 250
  const maxInterval = Math.max(minInterval, options.maxIntervalMs ?? 2_000)
  let state: DatabaseState = 'up'
  let downSince = 0
  let failedProbes = 0
  let cancelPending: (() => void) | undefined
  let stopped = false

  function answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const cancelTimeout = schedule(() => resolve(false), options.probeTimeoutMs)
      const settle = (ok: boolean) => {
        cancelTimeout()
        resolve(ok)
      }
      try {
        options.probe().then(
          () => settle(true),
          () => settle(false),
        )
      } catch {
        settle(false)
      }
    })
  }

  async function probe(): Promise<void> {
    cancelPending = undefined
    const ok = await answers()
    if (stopped) return
    if (ok) {
      state = 'up'
      failedProbes = 0
      options.onChange?.('up', { downForMs: now() - downSince })
      return
    }
    failedProbes += 1
    cancelPending = schedule(probe, Math.min(maxInterval, minInterval * 2 ** (failedProbes - 1)))
  }

  return {
    get state() {
      return state
    },
    reportFailure() {
      if (stopped || state === 'down') return
      state = 'down'
      downSince = now()
      options.onChange?.('down', { downForMs: 0 })
      cancelPending = schedule(probe, 0)
    },
    stop() {
      stopped = true
      cancelPending?.()
    },
  }
}

/** mysql2 codes and MariaDB errnos that mean the connection failed, not the statement. */
const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
])
const ER_SERVER_SHUTDOWN = 1053
const ER_CONNECTION_KILLED = 1927

/**
 * Whether an error says the database cannot be reached (rather than that a statement was
 * wrong): failing to connect or acquire, or a connection lost mid-query, which Sequelize
 * reports as a plain DatabaseError.
 */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof ConnectionError) return true
  if (!(err instanceof DatabaseError)) return false
  const cause = (err.parent ?? {}) as { code?: string; errno?: number; fatal?: boolean }
  return (
    cause.fatal === true ||
    CONNECTION_CODES.has(cause.code ?? '') ||
    cause.errno === ER_SERVER_SHUTDOWN ||
    cause.errno === ER_CONNECTION_KILLED
  )
}

const ER_BAD_FIELD_ERROR = 1054
const ER_NO_SUCH_TABLE = 1146
/** An index a statement names (`FORCE INDEX`) is not on the table. */
const ER_KEY_DOES_NOT_EXIST = 1176

/** Whether a statement failed because a table, column or index it names is not in the database. */
export function isMissingTable(err: unknown): boolean {
  if (!(err instanceof DatabaseError)) return false
  const cause = (err.parent ?? {}) as { errno?: number; code?: string; message?: string }
  if (cause.errno === ER_NO_SUCH_TABLE || cause.errno === ER_BAD_FIELD_ERROR || cause.errno === ER_KEY_DOES_NOT_EXIST) return true
  return cause.code === 'SQLITE_ERROR' && /no such (table|column|index)/.test(cause.message ?? '')
}

/** MariaDB errnos of a value the column cannot hold: out of range, not in its ENUM, too long, wrong for its type. */
const COLUMN_REFUSED = new Set([1264, 1265, 1366, 1406])

/**
 * Whether a statement failed because a column cannot hold a value the service accepted: the table is narrower
 * than the service's schema (created by an older version, or altered by hand; SQLite never refuses these).
 */
export function isColumnMismatch(err: unknown): boolean {
  if (!(err instanceof DatabaseError)) return false
  const cause = (err.parent ?? {}) as { errno?: number }
  return COLUMN_REFUSED.has(cause.errno ?? 0)
}
