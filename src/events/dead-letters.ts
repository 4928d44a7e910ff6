import { QueryTypes } from 'sequelize'
import type { EventModels } from '../db/models/event-models.js'
import { OUTBOX_TABLE } from '../db/models/event-models.js'

export interface DeadLetter {
  id: string
  type: string
  tenantId: string
  integrationId: string
  createdAt: string
  attempts: number
  lastError: string | null
}

/** Change events that ran out of attempts, oldest first: what an operator sees before replaying. */
export async function listDeadLetters(models: EventModels, limit = 100): Promise<DeadLetter[]> {
  const rows = await models.Outbox.findAll({ where: { state: 'dead' }, order: [['id', 'ASC']], limit })
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    tenantId: r.tenantId,
    integrationId: r.integrationId,
    createdAt: new Date(r.createdAt).toISOString(),
    attempts: r.attempts,
    lastError: r.lastError,
  }))
}

/** Puts dead events (the given ids, or all) back in line with fresh attempts, the same webhook-id; answers how many. */
export async function replayDeadLetters(models: EventModels, ids?: readonly string[]): Promise<number> {
  const [count] = await models.Outbox.update(
    { state: 'pending', attempts: 0, nextAttemptAt: new Date(), leasedUntil: null, leasedBy: null, lastError: null },
    { where: { state: 'dead', ...(ids ? { id: [...ids] } : {}) } },
  )
  return count
}

/** Outbox depth by state, for /metrics. */
export async function outboxCounts(models: EventModels): Promise<{ pending: number; dead: number }> {
  const rows = await models.Outbox.sequelize!.query<{ state: string; n: number | string }>(
    `SELECT state, COUNT(*) AS n FROM \`${OUTBOX_TABLE}\` GROUP BY state`,
    { type: QueryTypes.SELECT },
  )
  const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0)
  return { pending: count('pending'), dead: count('dead') }
}
