import helmet from '@fastify/helmet'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ProviderUnavailableError } from '../src/errors.js'

/**
 * Headers suitable for a JSON API (the CSP still lets the bundled Swagger UI run) and load
 * shedding: an overloaded process answers 503 with Retry-After instead of queueing forever.
 */
export default fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
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
