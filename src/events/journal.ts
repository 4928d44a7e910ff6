import type { Transaction } from 'sequelize'
import { v7 as uuidv7 } from 'uuid'
import type { Principal } from '../auth/tokens.js'
import { writerFor } from '../db/reader.js'
import { AUDIT_TABLE, OUTBOX_TABLE, type EventModels } from '../db/models/event-models.js'

/** What the audit trail records; each change (not a read or a mint) also leaves a change event. */
export const AUDIT_ACTIONS = [
  'created',
  'updated',
  'credentials_replaced',
  'deleted',
  'verification_changed',
  'credentials_read',
  'access_token_issued',
  'credentials_renewed',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export const EVENT_TYPES = [
  'integration.created',
  'integration.updated',
  'integration.credentials_replaced',
  'integration.deleted',
  'integration.verification_changed',
  'integration.credential_expiring',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

const EVENT_OF: Partial<Record<AuditAction, EventType>> = {
  created: 'integration.created',
  updated: 'integration.updated',
  credentials_replaced: 'integration.credentials_replaced',
  deleted: 'integration.deleted',
  verification_changed: 'integration.verification_changed',
}

/** Who acts, as the trail names them, and the request they came with. */
export interface Actor {
  /** An account id, `service:<name>` or `system:<part>`. */
  name: string
  requestId: string | null
}

export const actorOf = (principal: Principal, requestId: string | null): Actor => ({
  name: principal.type === 'user' ? principal.accountId : `service:${principal.name}`,
  requestId,
})

/** The scheduler's own re-verifications and warnings. */
export const SCHEDULER: Actor = { name: 'system:scheduler', requestId: null }

/** Which integration, as the trail and the events name it. */
export interface Subject {
  kind: string
  integrationId: string
  tenantId: string
  provider: string
  /** The verification status once the change is made, where the row read has it. */
  status?: string
}

export type Fingerprints = Record<string, string | null>

/** One entry of the trail: names and fingerprints, never a value of a secret. */
export interface Change {
  action: AuditAction
  changedFields?: readonly string[]
  fingerprints?: { before: Fingerprints; after: Fingerprints }
  verdict?: { before: string | null; after: string | null; reason?: string | null }
}

const asJson = (value: unknown) => (value === undefined ? null : JSON.stringify(value))

/** What a receiver gets: never a secret, only ids, names and states. */
function payload(type: EventType, subject: Subject, at: Date, extra: Record<string, unknown>): string {
  const { kind, integrationId, tenantId, provider, status } = subject
  return JSON.stringify({
    type,
    timestamp: at.toISOString(),
    data: { integrationId, tenantId, kind, provider, status: status ?? null, ...extra },
  })
}

const AUDIT_COLUMNS = [
  'id',
  'tenantId',
  'kind',
  'integrationId',
  'action',
  'actor',
  'requestId',
  'at',
  'changedFields',
  'fingerprintsBefore',
  'fingerprintsAfter',
  'verdictBefore',
  'verdictAfter',
] as const
const OUTBOX_COLUMNS = ['id', 'type', 'tenantId', 'integrationId', 'payload', 'createdAt', 'nextAttemptAt', 'state', 'attempts'] as const

/** A multi-row INSERT of `columns` with a placeholder per value: `rows` rows. */
function insertSql(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`
  return `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`
}

/** Writes the audit trail and the change events, each in the transaction of the change it describes. */
export function eventJournal(models: EventModels) {
  const sequelize = models.Audit.sequelize!
  const run = writerFor(sequelize)
  /**
   * One INSERT of the rows, as the model's bulkCreate would write them but without building and validating an instance
   * per row: every value here is the service's own. Instants are written as the models write them and a failure is
   * classified as any other statement's (see writerFor).
   */
  async function insert<R extends Record<string, unknown>>(
    table: string,
    columns: readonly (keyof R & string)[],
    rows: readonly R[],
    transaction?: Transaction,
  ) {
    const replacements = rows.flatMap((row) => columns.map((c) => row[c] ?? null))
    await run(insertSql(table, columns, rows.length), replacements, transaction)
  }

  function outboxRow(type: EventType, subject: Subject, at: Date, extra: Record<string, unknown>) {
    return {
      id: uuidv7(),
      type,
      tenantId: subject.tenantId,
      integrationId: subject.integrationId,
      payload: payload(type, subject, at, extra),
      createdAt: at,
      nextAttemptAt: at,
      state: 'pending' as const,
      attempts: 0,
    }
  }

  function eventExtra(change: Change): Record<string, unknown> {
    if (change.action === 'verification_changed') {
      return { from: change.verdict?.before ?? null, to: change.verdict?.after ?? null, reason: change.verdict?.reason ?? null }
    }
    if (change.action === 'updated') return { changedFields: change.changedFields ?? [] }
    return {}
  }

  async function write(actor: Actor, subject: Subject, changes: readonly Change[], transaction?: Transaction) {
    const at = new Date()
    const audit = changes.map((change) => ({
      id: uuidv7(),
      tenantId: subject.tenantId,
      kind: subject.kind,
      integrationId: subject.integrationId,
      action: change.action,
      actor: actor.name,
      requestId: actor.requestId,
      at,
      changedFields: asJson(change.changedFields),
      fingerprintsBefore: asJson(change.fingerprints?.before),
      fingerprintsAfter: asJson(change.fingerprints?.after),
      verdictBefore: change.verdict?.before ?? null,
      verdictAfter: change.verdict?.after ?? null,
    }))
    await insert(AUDIT_TABLE, AUDIT_COLUMNS, audit, transaction)
    const events = changes.flatMap((change) => {
      const type = EVENT_OF[change.action]
      return type ? [outboxRow(type, subject, at, eventExtra(change))] : []
    })
    if (events.length > 0) await insert(OUTBOX_TABLE, OUTBOX_COLUMNS, events, transaction)
  }

  return {
    /** Records changes inside the transaction that makes them: a rolled-back change leaves neither trail nor event. */
    record: (transaction: Transaction, actor: Actor, subject: Subject, changes: readonly Change[]) =>
      write(actor, subject, changes, transaction),

    /** Records a read or a mint: the trail only, no event. */
    audit: (actor: Actor, subject: Subject, action: 'credentials_read' | 'access_token_issued') => write(actor, subject, [{ action }]),

    /** Raises `integration.credential_expiring` for an integration, in the caller's transaction. */
    async expiring(transaction: Transaction, subject: Subject, expiresAt: Date) {
      const row = outboxRow('integration.credential_expiring', subject, new Date(), { expiresAt: expiresAt.toISOString() })
      await models.Outbox.create(row, { transaction })
    },
  }
}

export type EventJournal = ReturnType<typeof eventJournal>
