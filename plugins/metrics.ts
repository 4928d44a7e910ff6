import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      registry: Registry
      verifications: Counter<'kind' | 'provider' | 'verdict'>
      accessTokens: Counter<'kind' | 'provider' | 'outcome'>
    }
  }
}

interface Pool {
  size: number
  available: number
  using: number
  waiting: number
}

/** Prometheus metrics, one registry per app; served at /metrics when METRICS_ENABLED. */
export default fp(
  async (app) => {
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers: [registry],
    })
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer, by route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
    const verifications = new Counter({
      name: 'integration_verifications_total',
      help: 'Verification outcomes by kind, provider and verdict (UNAVAILABLE: no verdict)',
      labelNames: ['kind', 'provider', 'verdict'] as const,
      registers: [registry],
    })
    const accessTokens = new Counter({
      name: 'integration_access_tokens_total',
      help: 'Access tokens served, by kind, provider and outcome (minted, shared, cached, stored; refused, unavailable)',
      labelNames: ['kind', 'provider', 'outcome'] as const,
      registers: [registry],
    })
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const pool = (app.db.sequelize as unknown as { connectionManager: { pool?: Pool } }).connectionManager.pool
        if (!pool || typeof pool.size !== 'number') return
        this.set({ state: 'open' }, pool.size)
        this.set({ state: 'idle' }, pool.available)
        this.set({ state: 'in_use' }, pool.using)
        this.set({ state: 'waiting' }, pool.waiting)
      },
    })
    app.decorate('metrics', { registry, verifications, accessTokens })

    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, not the URL: ids must not become label values.
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }
      requests.inc(labels)
      duration.observe(labels, reply.elapsedTime / 1000)
    })

    if (app.config.http.metricsEnabled) {
      app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
        reply.type(registry.contentType)
        return registry.metrics()
      })
    }
  },
  { name: 'metrics', dependencies: ['config', 'db'] },
)
