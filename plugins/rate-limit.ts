import rateLimit from '@fastify/rate-limit'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { ServiceError } from '../src/http/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Counts one provider call against the caller's budget, the same for every route that calls a provider;
     * throws 429 RATE_LIMITED (with Retry-After) when it is spent. Call it right before the provider is asked.
     * The answer carries x-ratelimit-limit, -remaining and -reset whenever the call was counted.
     */
    admitProviderCall(request: FastifyRequest, reply: FastifyReply): Promise<void>
  }
  interface FastifyContextConfig {
    /** The route may ask a provider, so it documents the rate-limit headers (see plugins/transport-responses). */
    callsProvider?: boolean
  }
}

/** Who a limit applies to: the authenticated caller, or the address when there is none. */
export function callerKey(request: FastifyRequest): string {
  const principal = request.principal
  if (principal?.type === 'user') return `user:${principal.accountId}`
  if (principal?.type === 'service') return `service:${principal.name}`
  return `ip:${request.ip}`
}

/**
 * A Redis client that never makes a request wait for Redis: commands fail at once while it is away (and after
 * a second when it hangs), and it reconnects in the background. Problems are logged once per outage.
 */
async function connectRedis(url: string, log: FastifyBaseLogger): Promise<Redis> {
  // Loaded only where REDIS_URL is set: a process counting in memory never needs the client.
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
  })
  let down = false
  redis.on('error', (err: NodeJS.ErrnoException) => {
    if (down) return
    down = true
    log.warn(
      { err: { type: err.name, code: err.code, message: err.message } },
      'Redis unavailable: rate limits are not counted until it is back',
    )
  })
  redis.on('ready', () => {
    if (down) log.info('Redis is back: rate limits are counted again')
    down = false
  })
  // The first answer decides nothing: a Redis down at start is the same outage as one later.
  await redis.connect().catch(() => undefined)
  return redis
}

/**
 * One per-caller budget for every request that calls a provider (RATE_LIMIT_VERIFY_MAX per
 * RATE_LIMIT_WINDOW_MS). Counted in Redis when REDIS_URL is set, so every replica draws on the same budget;
 * in process memory otherwise. While Redis is unreachable requests are let through uncounted, with a warning:
 * the limit protects providers' quotas, and is not worth refusing every verification for.
 */
export default fp(
  async (app) => {
    const { max, windowMs, redisUrl } = app.config.http.verifyRateLimit
    const redis = redisUrl ? await connectRedis(redisUrl, app.log) : undefined
    if (redis) app.addHook('onClose', () => redis.disconnect())
    await app.register(rateLimit, {
      global: false,
      max,
      timeWindow: windowMs,
      keyGenerator: callerKey,
      ...(redis ? { redis, nameSpace: 'delivr-integrations:provider-calls:' } : {}),
    })
    // Without options: the plugin's own store and settings, so every route counts in the same place.
    const limit = app.createRateLimit()

    app.decorate('admitProviderCall', async (request: FastifyRequest, reply: FastifyReply) => {
      let answer: Awaited<ReturnType<typeof limit>>
      try {
        answer = await limit(request)
      } catch (err) {
        request.log.warn(
          { err: { type: (err as Error).name, message: (err as Error).message } },
          'rate limit not counted: Redis unavailable',
        )
        return
      }
      if (answer.isAllowed) return
      reply.headers({
        'x-ratelimit-limit': answer.max,
        'x-ratelimit-remaining': answer.remaining,
        'x-ratelimit-reset': answer.ttlInSeconds,
      })
      if (!answer.isExceeded) return
      const seconds = String(Math.max(1, answer.ttlInSeconds))
      throw new ServiceError(429, 'RATE_LIMITED', `Too many provider calls; retry in ${seconds} seconds`, { 'retry-after': seconds })
    })
  },
  { name: 'rate-limit', dependencies: ['config', 'auth'] },
)
