import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** Who a limit applies to: the authenticated caller, or the address when there is none. */
export function callerKey(request: FastifyRequest): string {
  const principal = request.principal
  if (principal?.type === 'user') return `user:${principal.accountId}`
  if (principal?.type === 'service') return `service:${principal.name}`
  return `ip:${request.ip}`
}

/**
 * Per-caller limits, opted into by routes (`config.rateLimit`); counted in memory per
 * process. Behind several replicas, give @fastify/rate-limit a shared store (see README).
 */
export default fp(
  async (app) => {
    await app.register(rateLimit, {
      global: false,
      // After authentication, so the key is the caller rather than the gateway's address.
      hook: 'preHandler',
      keyGenerator: callerKey,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `Too many verification calls; retry in ${Math.ceil(context.ttl / 1000)} seconds`,
        code: 'RATE_LIMITED',
      }),
    })
  },
  { name: 'rate-limit', dependencies: ['auth'] },
)
