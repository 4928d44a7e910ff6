import { AddressPolicyError } from './guarded-connector.js'
import { OutboundError } from './outbound-error.js'

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA'])
// A malformed request is our bug, not the provider being unreachable: let it through untouched.
const CALLER_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
])

export function addressRefused(host: string): OutboundError {
  return new OutboundError(
    'ADDRESS_REFUSED',
    `${host} points to a private, loopback, link-local or reserved address, which is not allowed`,
    { host },
  )
}

export interface FailureContext {
  host: string
  timedOut: boolean
  timeoutMs: number
}

export function toOutboundError(err: unknown, { host, timedOut, timeoutMs }: FailureContext): unknown {
  if (err instanceof OutboundError) return err
  if (err instanceof AddressPolicyError) {
    return err.code === 'ADDRESS_REFUSED' ? addressRefused(host) : dnsFailed(host)
  }
  const code = errorCode(err)
  if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new OutboundError('TIMEOUT', `${host} did not answer within ${timeoutMs} ms`, { host })
  }
  if (code !== undefined && DNS_CODES.has(code)) return dnsFailed(host)
  if (code === undefined || CALLER_CODES.has(code)) return err
  return new OutboundError('UNREACHABLE', `Could not connect to ${host}`, { host })
}

function dnsFailed(host: string): OutboundError {
  return new OutboundError('DNS_FAILED', `Could not resolve the host name of ${host}`, { host })
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined
  return typeof err.code === 'string' ? err.code : undefined
}
