import { Type, type Static } from '@sinclair/typebox'
import { Op, type WhereOptions } from 'sequelize'
import { authorizeTenantRead } from '../auth/access.js'
import type { Principal } from '../auth/tokens.js'
import type { Database } from '../db/database.js'
import type { AuditEventRecord } from '../db/models/event-models.js'
import { AUDIT_ACTIONS } from '../events/journal.js'
import { StringEnum, TenantIdSchema } from '../http/common-schemas.js'
import { FieldError } from '../http/errors.js'
import type { KindDefinition } from '../kinds/define/kind.js'
import { CURSOR_PATTERN, decodeCursor, encodeCursor } from './cursor.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])
const Fingerprints = Nullable(
  Type.Record(Type.String(), Nullable(Type.String()), {
    description: 'Secret field → short fingerprint (null: not set); never the secret',
  }),
)

export const AuditEventSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'UUIDv7: id order is time order' }),
    tenantId: Type.String(),
    kind: Type.String({ description: 'Integration kind (URL segment)' }),
    integrationId: Type.String(),
    action: StringEnum(AUDIT_ACTIONS),
    actor: Type.String({ description: 'Account id, `service:<name>`, or `system:scheduler`' }),
    requestId: Nullable(Type.String({ description: 'x-request-id of the request that did it' })),
    at: Type.String({ format: 'date-time' }),
    changedFields: Nullable(Type.Array(Type.String(), { description: 'Names of the fields the change set' })),
    fingerprintsBefore: Fingerprints,
    fingerprintsAfter: Fingerprints,
    verdictBefore: Nullable(Type.String()),
    verdictAfter: Nullable(Type.String()),
  },
  { $id: 'AuditEvent', title: 'AuditEvent' },
)

export const AuditEventPageSchema = Type.Object(
  {
    items: Type.Array(Type.Unsafe<Static<typeof AuditEventSchema>>(Type.Ref('AuditEvent'))),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last' })),
  },
  { $id: 'AuditEventPage', title: 'AuditEventPage' },
)

export function auditQuerySchema(kinds: readonly KindDefinition[]) {
  return Type.Object(
    {
      tenantId: TenantIdSchema,
      integrationId: Type.Optional(Type.String({ format: 'uuid', description: 'Only this integration' })),
      kind: Type.Optional(
        StringEnum(
          kinds.map((k) => k.segment),
          { description: 'Only this kind' },
        ),
      ),
      action: Type.Optional(StringEnum(AUDIT_ACTIONS, { description: 'Only this action' })),
      since: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this time' })),
      until: Type.Optional(Type.String({ format: 'date-time', description: 'Only events before this time' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Page size' })),
      cursor: Type.Optional(Type.String({ ...CURSOR_PATTERN, description: 'nextCursor of the previous page' })),
    },
    { additionalProperties: false },
  )
}

export interface AuditQuery {
  tenantId: string
  integrationId?: string
  kind?: string
  action?: string
  since?: string
  until?: string
  limit?: number
  cursor?: string
}

const parsed = (value: string | undefined) => (value === undefined ? undefined : new Date(value))
const list = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown))

function view(row: AuditEventRecord) {
  return {
    id: row.id,
    tenantId: row.tenantId,
    kind: row.kind,
    integrationId: row.integrationId,
    action: row.action as (typeof AUDIT_ACTIONS)[number],
    actor: row.actor,
    requestId: row.requestId,
    at: new Date(row.at).toISOString(),
    changedFields: list(row.changedFields) as string[] | null,
    fingerprintsBefore: list(row.fingerprintsBefore) as Record<string, string | null> | null,
    fingerprintsAfter: list(row.fingerprintsAfter) as Record<string, string | null> | null,
    verdictBefore: row.verdictBefore,
    verdictAfter: row.verdictAfter,
  }
}

/** One page of a tenant's audit trail, oldest first: Owners and Editors, services with `integrations:read`. */
export async function auditEvents(db: Database, principal: Principal, query: AuditQuery) {
  const since = parsed(query.since)
  const until = parsed(query.until)
  if (since && until && until < since) throw new FieldError('until', 'must not be before since', 'querystring')
  await authorizeTenantRead(db.models, principal, query.tenantId, 'audit')
  const limit = query.limit ?? 50
  const after = query.cursor ? decodeCursor(query.cursor) : undefined
  const at = { ...(since ? { [Op.gte]: since } : {}), ...(until ? { [Op.lt]: until } : {}) }
  const where: WhereOptions<AuditEventRecord> = {
    tenantId: query.tenantId,
    ...(query.integrationId ? { integrationId: query.integrationId } : {}),
    ...(query.kind ? { kind: query.kind } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(since || until ? { at } : {}),
    ...(after ? { id: { [Op.gt]: after } } : {}),
  }
  // One row more than asked: whether it exists says if there is a next page.
  const rows = await db.events.Audit.findAll({ where, order: [['id', 'ASC']], limit: limit + 1 })
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return { items: page.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null }
}
