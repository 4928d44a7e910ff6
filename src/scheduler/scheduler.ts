import { Op, QueryTypes } from 'sequelize'
import type { Config } from '../config/load-config.js'
import type { Database } from '../db/database.js'
import { SCHEDULE_TABLE, type VerifyScheduleRecord } from '../db/models/event-models.js'
import { SCHEDULER, type EventJournal } from '../events/journal.js'
import { leaseClaimer, roundLoop } from '../events/lease.js'
import { ProviderUnavailableError, ServiceError } from '../http/errors.js'
import type { IntegrationService } from '../integrations/service.js'
import type { KindDefinition } from '../kinds/define/kind.js'

export interface SchedulerLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface SchedulerDeps {
  db: Database
  kinds: readonly KindDefinition[]
  services: ReadonlyMap<string, IntegrationService>
  journal: EventJournal
  settings: Config['scheduler']
  retentionDays: number
  verifyTimeoutMs: number
  replica: string
  log: SchedulerLog
}

const DAY_MS = 86_400_000
/** Rows added to the schedule, and audit events pruned, per pass: small batches, short statements. */
const BATCH = 500
/** How often the schedule is checked for integrations it lacks, and the trail for what retention drops. */
const HOUSEKEEPING_MS = 30_000
/** How long an idle scheduler waits before looking for due work again. */
const IDLE_MS = 1000
/** After an error that is neither a verdict nor the provider's (the database, a key): try again after this. */
const ERROR_RETRY_MS = 300_000

/**
 * Re-verifies each active integration every interval, through the same code path as a user's re-verify (its verdict
 * lands under the same compare-and-set), warns once per credential expiry, and prunes the audit trail. Due rows are
 * claimed with a lease (SKIP LOCKED on MySQL), so with any number of replicas each is verified once per interval, and
 * one a dead replica held is taken over when its lease lapses.
 */
export function verificationScheduler(deps: SchedulerDeps) {
  const { db, settings } = deps
  const intervalMs = settings.intervalSeconds * 1000
  const claim = leaseClaimer(db, deps.replica)
  // Long enough for a verification's provider calls (a few, each bounded by the outbound deadline).
  const leaseMs = deps.verifyTimeoutMs * 3 + 10_000
  const providers = [...new Set(deps.kinds.flatMap((k) => k.providers.map((p) => p.id)))]
  const inFlight = new Map<string, number>()
  const jobs = new Set<Promise<void>>()
  /** Providers that asked to be left alone (Retry-After), until when, on this replica. */
  const resting = new Map<string, number>()
  let housekept = 0

  /** The interval ±10%: a fleet created at once does not come due at once. */
  const jittered = (from: number) => new Date(from + intervalMs * (0.9 + Math.random() * 0.2))

  /** Adds integrations the schedule lacks (created since, or before the scheduler existed), due an interval after their last verification. */
  async function addMissing() {
    for (const kind of deps.kinds) {
      const rows = await db.sequelize.query<{ id: string; provider: string; since: Date | string }>(
        `SELECT i.\`id\` AS id, i.\`${kind.providerField}\` AS provider, COALESCE(i.\`lastVerifiedAt\`, i.\`createdAt\`) AS since
           FROM \`${kind.tableName}\` i
          WHERE NOT EXISTS (SELECT 1 FROM \`${SCHEDULE_TABLE}\` s WHERE s.\`id\` = i.\`id\`)
          LIMIT ?`,
        { replacements: [BATCH], type: QueryTypes.SELECT },
      )
      if (rows.length === 0) continue
      const entries = rows.map((r) => ({
        id: r.id,
        kind: kind.segment,
        provider: r.provider,
        nextVerifyAt: jittered(new Date(r.since).getTime()),
      }))
      await db.events.Schedule.bulkCreate(entries, { ignoreDuplicates: true })
    }
  }

  /** Drops audit events past retention (and events no endpoint ever took), a small batch per table per pass. */
  async function prune() {
    const before = new Date(Date.now() - deps.retentionDays * DAY_MS)
    for (const [model, column] of [
      [db.events.Audit, 'at'],
      [db.events.Outbox, 'createdAt'],
    ] as const) {
      const old = await (model as typeof db.events.Audit).findAll({
        attributes: ['id'],
        where: { [column]: { [Op.lt]: before } },
        limit: BATCH,
      })
      if (old.length > 0) await (model as typeof db.events.Audit).destroy({ where: { id: old.map((r) => r.id) } })
    }
  }

  async function finish(row: VerifyScheduleRecord, holder: string, values: Partial<VerifyScheduleRecord> | 'gone') {
    const mine = { id: row.id, leasedBy: holder }
    if (values === 'gone') await db.events.Schedule.destroy({ where: mine })
    else await db.events.Schedule.update({ ...values, leasedUntil: null, leasedBy: null }, { where: mine })
  }

  /** Raises integration.credential_expiring once per expiry that falls within the warning window. */
  async function warnIfExpiring(row: VerifyScheduleRecord, integration: Record<string, unknown>) {
    const expiresAt = typeof integration.credentialExpiresAt === 'string' ? new Date(integration.credentialExpiresAt) : undefined
    if (!expiresAt || expiresAt.getTime() - Date.now() > settings.expiryWarningDays * DAY_MS) return undefined
    const warned = row.expiryWarnedFor ? new Date(row.expiryWarnedFor).getTime() : undefined
    if (warned === expiresAt.getTime()) return undefined
    const kind = deps.kinds.find((k) => k.segment === row.kind)!
    await db.transaction((transaction) =>
      deps.journal.expiring(
        transaction,
        {
          kind: row.kind,
          integrationId: row.id,
          tenantId: String(integration.tenantId),
          provider: String(integration[kind.providerField]),
          status: String(integration.verificationStatus),
        },
        expiresAt,
      ),
    )
    return expiresAt
  }

  async function verify(row: VerifyScheduleRecord, holder: string) {
    const service = deps.services.get(row.kind)
    try {
      const outcome = await service?.verifyScheduled(row.id, SCHEDULER)
      if (!outcome) return await finish(row, holder, 'gone')
      const warnedFor = await warnIfExpiring(row, outcome.integration)
      await finish(row, holder, { nextVerifyAt: jittered(Date.now()), ...(warnedFor ? { expiryWarnedFor: warnedFor } : {}) })
    } catch (err) {
      let retryMs = ERROR_RETRY_MS
      if (err instanceof ProviderUnavailableError) {
        // Not a verdict: the status stays; the provider's own Retry-After paces this replica's next calls to it.
        retryMs = Number(err.headers['retry-after'] ?? 30) * 1000
        resting.set(row.provider, Date.now() + retryMs)
      } else if (err instanceof ServiceError && err.code === 'VERIFICATION_STALE') {
        // A newer change won; its state is verified next interval.
        retryMs = intervalMs
      } else {
        deps.log.warn({ integrationId: row.id, kind: row.kind, err: { message: (err as Error).message } }, 'scheduled verification failed')
      }
      await finish(row, holder, { nextVerifyAt: new Date(Date.now() + retryMs * (1 + Math.random() * 0.1)) }).catch(() => undefined)
    }
  }

  function launch(row: VerifyScheduleRecord, holder: string) {
    inFlight.set(row.provider, (inFlight.get(row.provider) ?? 0) + 1)
    const job = verify(row, holder).finally(() => {
      inFlight.set(row.provider, inFlight.get(row.provider)! - 1)
      jobs.delete(job)
      // A free slot: look for more due work now rather than after the idle wait.
      loop.wake()
    })
    jobs.add(job)
  }

  /** Claims, per provider, as much due work as it has free slots, and starts it; answers how many it started. */
  async function round(): Promise<number> {
    if (Date.now() - housekept >= HOUSEKEEPING_MS) {
      housekept = Date.now()
      await addMissing()
      await prune()
    }
    let started = 0
    for (const provider of providers) {
      const free = settings.concurrency - (inFlight.get(provider) ?? 0)
      if (free <= 0 || (resting.get(provider) ?? 0) > Date.now()) continue
      const lease = await claim({
        table: SCHEDULE_TABLE,
        key: 'id',
        where: 'o.provider = ? AND o.nextVerifyAt <= ?',
        params: [provider, new Date()],
        order: 'o.nextVerifyAt',
        limit: free,
        leaseMs,
      })
      if (lease.keys.length === 0) continue
      const rows = await db.events.Schedule.findAll({ where: { id: lease.keys, leasedBy: lease.holder } })
      for (const row of rows) launch(row, lease.holder)
      started += rows.length
    }
    return started
  }

  const loop = roundLoop(round, { idleMs: IDLE_MS, failure: 'scheduler round failed; retrying', log: deps.log })

  return {
    round,
    start() {
      if (loop.start()) deps.log.info({ intervalSeconds: settings.intervalSeconds, concurrency: settings.concurrency }, 'scheduler started')
    },
    async stop() {
      await loop.stop()
      await Promise.all(jobs)
    },
  }
}

/** What /metrics shows of the schedule: due integrations not yet verified, and how late the oldest is. */
export async function scheduleLag(db: Database): Promise<{ due: number; oldestLagSeconds: number }> {
  const now = new Date()
  const [row] = await db.sequelize.query<{ n: number | string; oldest: Date | string | null }>(
    `SELECT COUNT(*) AS n, MIN(nextVerifyAt) AS oldest FROM \`${SCHEDULE_TABLE}\` WHERE nextVerifyAt <= ?`,
    { replacements: [now], type: QueryTypes.SELECT },
  )
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : undefined
  return { due: Number(row?.n ?? 0), oldestLagSeconds: oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000) }
}
