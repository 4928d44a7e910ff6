import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { randomUUID } from 'node:crypto'
import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { ForeignKeyConstraintError, TimeoutError as DbTimeoutError, UniqueConstraintError } from 'sequelize'
import { CredentialDecryptError } from '../src/crypto/credential-cipher.js'
import { isColumnMismatch, isConnectionFailure, isMissingTable } from '../src/db/availability.js'
import { ColumnMismatchError, DatabaseUnavailableError, ServiceError, TableMissingError } from '../src/http/errors.js'
import { SECURITY_HEADERS } from '../src/http/security-headers.js'
import { kindByName } from '../src/kinds/index.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The integration kind a route serves; names the duplicate in 409 messages. */
    kind?: string
  }
}

interface Answer {
  statusCode: number
  message: string
  code?: string
  headers?: Record<string, string>
}

/** Turns any error into the one error shape; the only place that knows database errors. */
function classify(err: FastifyError | ServiceError, request: FastifyRequest): Answer {
  // A connection lost mid-query reaches here as a plain DatabaseError: still 503, not 500.
  if (isConnectionFailure(err) || err instanceof DbTimeoutError) return classify(new DatabaseUnavailableError(), request)
  // A table dropped under the running service: 503 like any dependency down (readiness says which).
  if (isMissingTable(err)) return classify(new TableMissingError(), request)
  // A valid value a narrower (older) column refuses: the operator's schema to fix, not the caller's input.
  if (isColumnMismatch(err)) return classify(new ColumnMismatchError(), request)
  if (err instanceof ServiceError) {
    // RFC 6750: no error code when no credentials were sent at all.
    const headers = err.statusCode === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"', ...err.headers } : err.headers
    return { statusCode: err.statusCode, message: err.message, code: err.code, headers }
  }
  if (err.validation) return { statusCode: 400, message: err.message, code: 'INVALID_FIELD' }
  // Refused by the router before any route: Fastify's messages would quote the whole path.
  if (err.code === 'FST_ERR_BAD_URL') return { statusCode: 400, message: 'The path is not valid percent-encoded UTF-8', code: 'BAD_URL' }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { statusCode: 415, message: 'Send the body as JSON with content-type application/json', code: 'UNSUPPORTED_MEDIA_TYPE' }
  }
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return { statusCode: 414, message: 'A path segment is longer than any id this service issues', code: 'PATH_TOO_LONG' }
  }
  if (err instanceof UniqueConstraintError) {
    const kind = kindByName(request.routeOptions.config.kind ?? '')
    return { statusCode: 409, message: kind?.duplicateMessage ?? 'This integration already exists', code: 'DUPLICATE' }
  }
  if (err instanceof ForeignKeyConstraintError) {
    return { statusCode: 404, message: 'The tenant or account this refers to does not exist', code: 'NOT_FOUND' }
  }
  if (err instanceof CredentialDecryptError) {
    return { statusCode: 500, message: 'Stored credentials cannot be decrypted with the configured keys', code: 'CREDENTIAL_UNREADABLE' }
  }
  const status = err.statusCode ?? 500
  if (status >= 400 && status < 500) {
    // JSON.parse messages quote the body, which may hold a secret.
    const message = err instanceof SyntaxError ? 'Body is not valid JSON' : err.message
    return { statusCode: status, message, code: err.code ?? codeForStatus(status) }
  }
  return { statusCode: 500, message: 'Internal Server Error', code: 'INTERNAL_ERROR' }
}

/** A code for an error that brought none: its status in words, e.g. PAYLOAD_TOO_LARGE. */
const codeForStatus = (status: number) => (STATUS_CODES[status] ?? 'ERROR').toUpperCase().replace(/[^A-Z0-9]+/g, '_')

function errorBody(answer: Answer) {
  return {
    statusCode: answer.statusCode,
    error: STATUS_CODES[answer.statusCode] ?? 'Error',
    message: answer.message,
    ...(answer.code ? { code: answer.code } : {}),
  }
}

function respond(reply: FastifyReply, answer: Answer) {
  return (
    reply
      .code(answer.statusCode)
      .headers(answer.headers ?? {})
      // Always the error shape, even where a route's schema for this status is another
      // (readiness' 503 when load shedding or the breaker answers first).
      .type('application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(errorBody(answer))
  )
}

// Neither quotes the method, path or query: they are the caller's, and may carry anything.
const ROUTE_NOT_FOUND: Answer = { statusCode: 404, message: 'No route matches this method and path', code: 'ROUTE_NOT_FOUND' }

/** What Node's HTTP server refuses before a request reaches Fastify, by the error's code. */
const CLIENT_ERRORS: Record<string, Answer> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    statusCode: 408,
    message: 'The request did not arrive in full within the request timeout',
    code: 'REQUEST_TIMEOUT',
  },
  HPE_HEADER_OVERFLOW: {
    statusCode: 431,
    message: 'The request line and headers are larger than this server accepts',
    code: 'HEADERS_TOO_LARGE',
  },
}
const NOT_HTTP: Answer = { statusCode: 400, message: 'The request is not valid HTTP/1.1', code: 'BAD_REQUEST' }

/**
 * Fastify's `clientErrorHandler` (Node's 'clientError'): a request not received within the
 * request timeout, headers over the size limit or bytes that are not HTTP never become a request,
 * so the answer is written to the socket by hand, in the error shape, and the connection closed.
 */
export function clientErrorHandler(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const answer = CLIENT_ERRORS[err.code ?? ''] ?? NOT_HTTP
  const requestId = randomUUID()
  this.log.debug({ reqId: requestId, code: err.code, statusCode: answer.statusCode }, 'refused before routing')
  // As Node does: never write into a response that has already started on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(errorBody(answer))
    const headers = {
      ...SECURITY_HEADERS,
      'x-request-id': requestId,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    }
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
    socket.write(`HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}\r\n${head.join('')}\r\n${body}`)
  }
  socket.destroy()
}

/**
 * Fastify's `frameworkErrors`: what the router refuses (a malformed escape, an over-long path
 * segment) runs no hooks, so the headers every other answer gets are set here.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void respond(reply.headers(SECURITY_HEADERS).header('x-request-id', request.id), classify(err, request))
}

export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const answer = classify(err, request)
      // Answers the service chose (overload, a provider or the database unavailable) are counted in
      // metrics, not logged one by one; only failures nobody planned for are errors.
      if (answer.statusCode >= 500 && !(err instanceof ServiceError)) {
        // Logged as name/code/stack only: provider or driver errors can quote what they were sent.
        request.log.error({ err: { type: err.name, code: err.code, stack: err.stack } }, 'request failed')
      }
      return respond(reply, answer)
    })
    app.setNotFoundHandler((_request, reply) => respond(reply, ROUTE_NOT_FOUND))
  },
  { name: 'errors' },
)
