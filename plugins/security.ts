import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ProviderUnavailableError } from '../src/http/errors.js'
import { SECURITY_HEADERS } from '../src/http/security-headers.js'

/**
 * Security headers on every answer (src/http/security-headers.ts) and load shedding: an
 * overloaded process answers 503 with Retry-After instead of queueing forever.
 */
export default fp(
  async (app) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(SECURITY_HEADERS)
      done()
    })
    const maxEventLoopDelay = app.config.http.maxEventLoopDelayMs
    if (maxEventLoopDelay > 0) {
      await app.register(underPressure, {
        maxEventLoopDelay,
        retryAfter: 5,
        pressureHandler: (_request, reply, type) => {
          reply.header('retry-after', '5')
          throw new ProviderUnavailableError('OVERLOADED', `The service is overloaded (${type}); retry shortly`, 5)
        },
      })
    }
  },
  { name: 'security', dependencies: ['config'] },
)
