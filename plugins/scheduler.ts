import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { eventJournal } from '../src/events/journal.js'
import { replicaId } from '../src/events/lease.js'
import { KINDS } from '../src/kinds/index.js'
import { scheduleLag, verificationScheduler } from '../src/scheduler/scheduler.js'

/** Scheduled re-verification, expiry warnings and audit pruning (SCHEDULER=on), and the schedule on /metrics. */
export default fp(
  async (app) => {
    let lag: Promise<{ due: number; oldestLagSeconds: number } | undefined> | undefined
    // Both gauges read one query per scrape.
    const read = () =>
      (lag ??= scheduleLag(app.db)
        .catch(() => undefined)
        .finally(() => setImmediate(() => (lag = undefined))))
    new Gauge({
      name: 'integration_reverify_due',
      help: 'Integrations due for re-verification and not yet verified (fleet-wide)',
      registers: [app.metrics.registry],
      async collect() {
        const value = await read()
        if (value) this.set(value.due)
      },
    })
    new Gauge({
      name: 'integration_reverify_oldest_lag_seconds',
      help: 'How long the most overdue integration has waited past its re-verification time',
      registers: [app.metrics.registry],
      async collect() {
        const value = await read()
        if (value) this.set(value.oldestLagSeconds)
      },
    })
    if (!app.config.scheduler.enabled) return
    const scheduler = verificationScheduler({
      db: app.db,
      kinds: KINDS,
      services: app.integrationServices,
      journal: eventJournal(app.db.events),
      settings: app.config.scheduler,
      retentionDays: app.config.events.auditRetentionDays,
      verifyTimeoutMs: app.config.verifyTimeoutMs,
      replica: replicaId(),
      log: app.log,
    })
    app.addHook('onReady', async () => scheduler.start())
    app.addHook('onClose', async () => scheduler.stop())
  },
  { name: 'scheduler', dependencies: ['config', 'db', 'metrics', 'integration-services'] },
)
