/**
 * Errors the domain raises for the caller. The error handler answers them in the
 * `{ statusCode, error, message, code }` shape; their messages are safe to show.
 */
export class ServiceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'ServiceError'
  }
}

/** 400 naming the offending field, in the same `body/field ...` form as schema errors. */
export class FieldError extends ServiceError {
  constructor(
    readonly field: string,
    problem: string,
    part: 'body' | 'querystring' | 'params' = 'body',
  ) {
    super(400, 'INVALID_FIELD', `${part}/${field} ${problem}`)
  }
}

export const notFound = (message: string) => new ServiceError(404, 'NOT_FOUND', message)
export const forbidden = (message: string) => new ServiceError(403, 'FORBIDDEN', message)
export const conflict = (code: string, message: string) => new ServiceError(409, code, message)
export const unprocessable = (code: string, message: string) => new ServiceError(422, code, message)
export const unauthorized = (message: string) => new ServiceError(401, 'UNAUTHORIZED', message)

/** How long a caller should wait after a provider failed without saying when it will be back (5xx, timeout, unreachable). */
export const PROVIDER_RETRY_AFTER_SECONDS = 30

/**
 * The provider could not give a verdict (rate limited, 5xx, timeout, unreachable): nothing is recorded and the
 * caller may retry, after `retryAfterSeconds` when the provider said, else after PROVIDER_RETRY_AFTER_SECONDS.
 */
export class ProviderUnavailableError extends ServiceError {
  constructor(code: string, message: string, retryAfterSeconds = PROVIDER_RETRY_AFTER_SECONDS) {
    super(503, code, message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) })
    this.name = 'ProviderUnavailableError'
  }
}

/** The database cannot be reached; the caller may retry shortly. Nothing was written. */
export class DatabaseUnavailableError extends ServiceError {
  constructor() {
    super(503, 'DATABASE_UNAVAILABLE', 'The database is unavailable; try again shortly', { 'retry-after': '5' })
    this.name = 'DatabaseUnavailableError'
  }
}

/** A table, column or index the service needs is missing: an operator's matter, not the caller's; retry later. */
export class TableMissingError extends ServiceError {
  constructor() {
    super(503, 'DATABASE_TABLE_MISSING', 'The database lacks a table this service needs; try again shortly', { 'retry-after': '5' })
    this.name = 'TableMissingError'
  }
}

/** A column cannot hold a value this service accepts: the table is older than the service. Nothing was stored. */
export class ColumnMismatchError extends ServiceError {
  constructor() {
    super(
      503,
      'DATABASE_SCHEMA_MISMATCH',
      "A database column cannot hold a value this service accepts; nothing was stored. Operators: apply this version's schema",
      { 'retry-after': '60' },
    )
    this.name = 'ColumnMismatchError'
  }
}
