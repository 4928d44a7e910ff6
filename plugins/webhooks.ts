import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { outboxCounts } from '../src/events/dead-letters.js'
import { webhookDispatcher } from '../src/events/dispatcher.js'
import { replicaId } from '../src/events/lease.js'

/** Delivers change events from the outbox to WEBHOOK_URLS, and shows the outbox on /metrics. */
export default fp(
  async (app) => {
    const registry = app.metrics.registry
    new Gauge({
      name: 'integration_events_outbox',
      help: 'Change events in the outbox, by state (pending: not yet delivered to every endpoint; dead: out of attempts)',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const counts = await outboxCounts(app.db.events).catch(() => undefined)
        if (!counts) return
        this.set({ state: 'pending' }, counts.pending)
        this.set({ state: 'dead' }, counts.dead)
      },
    })
    const failures = new Counter({
      name: 'integration_event_delivery_failures_total',
      help: 'Webhook deliveries that failed (an endpoint did not answer 2xx), and events dead-lettered',
      labelNames: ['outcome'] as const,
      registers: [registry],
    })
    const settings = app.config.events.webhooks
    if (!settings) return
    const dispatcher = webhookDispatcher({
      db: app.db,
      http: app.outbound,
      settings,
      timeoutMs: app.config.verifyTimeoutMs,
      replica: replicaId(),
      log: app.log,
      observe: (outcome) => failures.inc({ outcome }),
    })
    app.addHook('onReady', async () => dispatcher.start())
    // Before the database and the outbound client close (onClose hooks run in reverse order of registration).
    app.addHook('onClose', async () => dispatcher.stop())
  },
  { name: 'webhooks', dependencies: ['config', 'db', 'metrics', 'outbound'] },
)
