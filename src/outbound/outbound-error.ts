export type OutboundErrorCode =
  | 'ADDRESS_REFUSED'
  | 'DNS_FAILED'
  | 'TIMEOUT'
  | 'UNREACHABLE'
  | 'RESPONSE_TOO_LARGE'
  | 'REDIRECT_REFUSED'
  | 'SECRET_ORIGIN_MISMATCH'
  | 'INVALID_URL'

export interface OutboundErrorDetails {
  /** `host:port` of the request target. */
  host?: string
  status?: number
  targetOrigin?: string
}

/**
 * Every message is safe to show to a tenant: it names at most a host and port,
 * never a header, query string, userinfo or body. No `cause` is attached, so a
 * logger serialising this error cannot reach transport internals.
 */
export class OutboundError extends Error {
  override readonly name = 'OutboundError'
  readonly code: OutboundErrorCode
  readonly host: string | undefined
  readonly status: number | undefined
  readonly targetOrigin: string | undefined

  constructor(code: OutboundErrorCode, message: string, details: OutboundErrorDetails = {}) {
    super(message)
    this.code = code
    this.host = details.host
    this.status = details.status
    this.targetOrigin = details.targetOrigin
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      host: this.host,
      status: this.status,
      targetOrigin: this.targetOrigin,
    }
  }
}
