import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ProviderUnavailableError } from '../src/http/errors.js'

/** An overloaded process answers 503 with Retry-After instead of queueing forever. */
export default fp(
  async (app) => {
    const maxEventLoopDelay = app.config.http.maxEventLoopDelayMs
    if (maxEventLoopDelay <= 0) return
    await app.register(underPressure, {
      maxEventLoopDelay,
      retryAfter: 5,
      pressureHandler: (_request, reply, type) => {
        reply.header('retry-after', '5')
        throw new ProviderUnavailableError('OVERLOADED', `The service is overloaded (${type}); retry shortly`, 5)
      },
    })
  },
  { name: 'load-shedding', dependencies: ['config', 'errors'] },
)
