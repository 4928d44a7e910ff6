import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import { ForeignKeyConstraintError, TimeoutError as DbTimeoutError, UniqueConstraintError } from 'sequelize'
import { CredentialDecryptError } from '../src/crypto/credential-cipher.js'
import { isConnectionFailure, isMissingTable } from '../src/db/availability.js'
import { DatabaseUnavailableError, ServiceError, TableMissingError } from '../src/http/errors.js'
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
    return { statusCode: status, message, code: err.code }
  }
  return { statusCode: 500, message: 'Internal Server Error' }
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
      .send({
        statusCode: answer.statusCode,
        error: STATUS_CODES[answer.statusCode] ?? 'Error',
        message: answer.message,
        ...(answer.code ? { code: answer.code } : {}),
      })
  )
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
  },
  { name: 'errors' },
)
