import helmet, { type HelmetOptions } from 'helmet'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ProviderUnavailableError } from '../src/errors.js'

/**
 * helmet's headers for a configuration are the same for every response: computed once here
 * rather than by running helmet on each request.
 */
function staticHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const collector = {
    setHeader: (name: string, value: string | number) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  }
  helmet(options)({} as never, collector as never, () => {})
  return headers
}

/**
 * Headers suitable for a JSON API (the CSP still lets the bundled Swagger UI run) and load
 * shedding: an overloaded process answers 503 with Retry-After instead of queueing forever.
 */
export default fp(
  async (app) => {
    const headers = staticHeaders({
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
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers)
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
