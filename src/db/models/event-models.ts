import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type ModelStatic,
  type Sequelize,
} from 'sequelize'
import type { ReferenceColumnTypes } from './integration-model.js'

export const AUDIT_TABLE = 'integration_audit_events'
export const OUTBOX_TABLE = 'integration_events_outbox'
export const SCHEDULE_TABLE = 'integration_verify_schedule'
/** The tables of the audit trail, the change events and the re-verification schedule, in creation order. */
export const EVENT_TABLES = [AUDIT_TABLE, OUTBOX_TABLE, SCHEDULE_TABLE] as const

/** One change, read or mint, as a security review reads it. Names and fingerprints only, never a secret. */
export class AuditEventRecord extends Model<InferAttributes<AuditEventRecord>, InferCreationAttributes<AuditEventRecord>> {
  /** UUIDv7: id order is time order. */
  declare id: string
  declare tenantId: string
  declare kind: string
  declare integrationId: string
  declare action: string
  /** An account id, or `service:<name>`, or `system:scheduler`. */
  declare actor: string
  declare requestId: string | null
  declare at: Date
  /** JSON arrays and objects, as text: the same column type on every dialect. */
  declare changedFields: string | null
  declare fingerprintsBefore: string | null
  declare fingerprintsAfter: string | null
  declare verdictBefore: string | null
  declare verdictAfter: string | null
}

export const OUTBOX_STATES = ['pending', 'dead'] as const
export type OutboxState = (typeof OUTBOX_STATES)[number]

/** A change event waiting for delivery; deleted once every endpoint has it, kept as `dead` when it could not be delivered. */
export class OutboxEventRecord extends Model<InferAttributes<OutboxEventRecord>, InferCreationAttributes<OutboxEventRecord>> {
  /** UUIDv7, sent as `webhook-id`: id order is the order of an integration's events. */
  declare id: string
  declare type: string
  declare tenantId: string
  declare integrationId: string
  /** The signed JSON body, exactly as sent. */
  declare payload: string
  declare createdAt: Date
  declare state: CreationOptional<OutboxState>
  declare attempts: CreationOptional<number>
  declare nextAttemptAt: Date
  declare leasedUntil: CreationOptional<Date | null>
  declare leasedBy: CreationOptional<string | null>
  /** Endpoints that acknowledged it already (short hashes, comma separated): a retry skips them. */
  declare acknowledged: CreationOptional<string | null>
  declare lastError: CreationOptional<string | null>
}

/** When each integration is next re-verified, and who holds it meanwhile. */
export class VerifyScheduleRecord extends Model<InferAttributes<VerifyScheduleRecord>, InferCreationAttributes<VerifyScheduleRecord>> {
  /** The integration's id (ids are unique across kinds). */
  declare id: string
  declare kind: string
  declare provider: string
  declare nextVerifyAt: Date
  declare leasedUntil: CreationOptional<Date | null>
  declare leasedBy: CreationOptional<string | null>
  /** The credential expiry an "expiring" event was last raised for: once per expiry. */
  declare expiryWarnedFor: CreationOptional<Date | null>
}

// Fresh objects each time: Sequelize writes the column name into the attribute object it is given.
const json = () => ({ type: DataTypes.TEXT, allowNull: true })
const instant = (allowNull: boolean) => ({ type: DataTypes.DATE(3), allowNull })

export function defineEventModels(sequelize: Sequelize, refs: ReferenceColumnTypes) {
  // Same type, charset and collation as tenants.id, so filters compare like the kinds' tables; no foreign key: the
  // trail outlives what it describes.
  const tenantId = () => ({ type: refs.tenantId, allowNull: false })

  const Audit = class extends AuditEventRecord {}
  Audit.init(
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      tenantId: tenantId(),
      kind: { type: DataTypes.STRING(32), allowNull: false },
      integrationId: { type: DataTypes.STRING(255), allowNull: false },
      action: { type: DataTypes.STRING(32), allowNull: false },
      actor: { type: DataTypes.STRING(255), allowNull: false },
      requestId: { type: DataTypes.STRING(128), allowNull: true },
      at: instant(false),
      changedFields: json(),
      fingerprintsBefore: json(),
      fingerprintsAfter: json(),
      verdictBefore: { type: DataTypes.STRING(16), allowNull: true },
      verdictAfter: { type: DataTypes.STRING(16), allowNull: true },
    },
    {
      sequelize,
      tableName: AUDIT_TABLE,
      modelName: 'AuditEvent',
      timestamps: false,
      indexes: [
        // Keyset pages: led by the tenant, ending in id.
        { name: 'idx_audit_tenant_page', fields: ['tenantId', 'id'] },
        { name: 'idx_audit_tenant_integration', fields: ['tenantId', 'integrationId', 'id'] },
        // Retention prunes by age.
        { name: 'idx_audit_at', fields: ['at'] },
      ],
    },
  )

  const Outbox = class extends OutboxEventRecord {}
  Outbox.init(
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      type: { type: DataTypes.STRING(64), allowNull: false },
      tenantId: tenantId(),
      integrationId: { type: DataTypes.STRING(255), allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      createdAt: instant(false),
      state: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'pending', validate: { isIn: [[...OUTBOX_STATES]] } },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      nextAttemptAt: instant(false),
      leasedUntil: instant(true),
      leasedBy: { type: DataTypes.STRING(64), allowNull: true },
      acknowledged: json(),
      lastError: { type: DataTypes.STRING(512), allowNull: true },
    },
    {
      sequelize,
      tableName: OUTBOX_TABLE,
      modelName: 'OutboxEvent',
      timestamps: false,
      indexes: [
        { name: 'idx_outbox_due', fields: ['state', 'nextAttemptAt'] },
        // An integration's earlier pending event holds its later ones back.
        { name: 'idx_outbox_integration', fields: ['integrationId', 'state', 'id'] },
      ],
    },
  )

  const Schedule = class extends VerifyScheduleRecord {}
  Schedule.init(
    {
      id: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
      kind: { type: DataTypes.STRING(32), allowNull: false },
      provider: { type: DataTypes.STRING(32), allowNull: false },
      nextVerifyAt: instant(false),
      leasedUntil: instant(true),
      leasedBy: { type: DataTypes.STRING(64), allowNull: true },
      expiryWarnedFor: instant(true),
    },
    {
      sequelize,
      tableName: SCHEDULE_TABLE,
      modelName: 'VerifySchedule',
      timestamps: false,
      indexes: [{ name: 'idx_schedule_due', fields: ['provider', 'nextVerifyAt'] }],
    },
  )

  return { Audit, Outbox, Schedule }
}

export type EventModels = ReturnType<typeof defineEventModels>
export type AuditModel = ModelStatic<AuditEventRecord>
