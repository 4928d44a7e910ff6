import { createHash } from 'node:crypto'
import { Op } from 'sequelize'
import { Webhook } from 'standardwebhooks'
import type { WebhookConfig } from '../config/load-config.js'
import type { Database } from '../db/database.js'
import { OUTBOX_TABLE, type OutboxEventRecord } from '../db/models/event-models.js'
import { OutboundError, type OutboundClient } from '../outbound/index.js'
import { leaseClaimer, roundLoop } from './lease.js'

export interface DispatcherLog {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface DispatcherDeps {
  db: Database
  http: OutboundClient
  settings: WebhookConfig
  /** The outbound client's deadline: a lease outlasts every endpoint's attempt. */
  timeoutMs: number
  replica: string
  log: DispatcherLog
  /** Told every failed attempt at an endpoint, and every event dead-lettered. */
  observe?: (outcome: 'failed' | 'dead') => void
}

/** Events claimed per round, each of a different integration. */
const BATCH = 20
/** How long an idle dispatcher waits before looking again. */
const IDLE_MS = 500

/** An endpoint as the outbox remembers it acknowledged an event: a short hash, never the URL (it may carry a token). */
const endpointKey = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 12)

/** Full jitter: anywhere between 0 and base × 2^(attempt-1), so failed deliveries spread out instead of retrying in step. */
export const backoffMs = (baseMs: number, attempt: number, random = Math.random) =>
  Math.round(random() * baseMs * 2 ** Math.min(attempt - 1, 20))

/**
 * Delivers the outbox: signed per Standard Webhooks, at least once, the same webhook-id on every retry, one replica
 * per event (leases), an integration's events in order (an event waits while an earlier one of its integration is pending).
 */
export function webhookDispatcher(deps: DispatcherDeps) {
  const { db, settings } = deps
  const signer = new Webhook(settings.secret)
  const claim = leaseClaimer(db, deps.replica)
  const leaseMs = deps.timeoutMs * settings.urls.length + 10_000

  /** Sends one event to one endpoint; answers the failure, or undefined when the endpoint took it (2xx). */
  async function send(url: string, event: OutboxEventRecord): Promise<string | undefined> {
    const timestamp = new Date()
    const headers = {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signer.sign(event.id, timestamp, event.payload),
    }
    try {
      const res = await deps.http.request({ url, method: 'POST', headers, body: event.payload, target: 'configured' })
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`
    } catch (err) {
      return err instanceof OutboundError ? err.code : 'request failed'
    }
  }

  async function deliver(event: OutboxEventRecord, holder: string) {
    const acknowledged = new Set((event.acknowledged ?? '').split(',').filter(Boolean))
    const failures: string[] = []
    for (const url of settings.urls) {
      const key = endpointKey(url)
      if (acknowledged.has(key)) continue
      const failure = await send(url, event)
      if (failure === undefined) acknowledged.add(key)
      else {
        failures.push(`${key}: ${failure}`)
        deps.observe?.('failed')
      }
    }
    const mine = { id: event.id, leasedBy: holder }
    if (failures.length === 0) {
      await db.events.Outbox.destroy({ where: mine })
      return
    }
    const attempts = event.attempts + 1
    const dead = attempts >= settings.maxAttempts
    const lastError = failures.join('; ').slice(0, 512)
    if (dead) deps.observe?.('dead')
    await db.events.Outbox.update(
      {
        attempts,
        acknowledged: [...acknowledged].join(',') || null,
        lastError,
        leasedUntil: null,
        leasedBy: null,
        ...(dead ? { state: 'dead' as const } : { nextAttemptAt: new Date(Date.now() + backoffMs(settings.retryBaseMs, attempts)) }),
      },
      { where: mine },
    )
    if (dead) {
      deps.log.error({ eventId: event.id, type: event.type, attempts, lastError }, 'change event dead-lettered')
    }
  }

  /** One round: claims what is due and delivers it; answers how many events it claimed. */
  async function round(): Promise<number> {
    const lease = await claim({
      table: OUTBOX_TABLE,
      key: 'id',
      where: `o.state = 'pending' AND o.nextAttemptAt <= ? AND NOT EXISTS (
        SELECT 1 FROM \`${OUTBOX_TABLE}\` e WHERE e.integrationId = o.integrationId AND e.state = 'pending' AND e.id < o.id)`,
      params: [new Date()],
      order: 'o.id',
      limit: BATCH,
      leaseMs,
    })
    if (lease.keys.length === 0) return 0
    const events = await db.events.Outbox.findAll({ where: { id: { [Op.in]: lease.keys }, leasedBy: lease.holder } })
    await Promise.all(events.map((event) => deliver(event, lease.holder)))
    return lease.keys.length
  }

  const loop = roundLoop(round, { idleMs: IDLE_MS, failure: 'webhook delivery round failed; retrying', log: deps.log })

  return {
    /** One round now, for tests and the CLI; the loop does the same on its own. */
    round,
    start: () => void loop.start(),
    stop: () => loop.stop(),
  }
}

export type WebhookDispatcher = ReturnType<typeof webhookDispatcher>
