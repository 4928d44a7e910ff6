import { QueryTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize'
import type { SyncMode } from '../../config/env-schema.js'
import { dialectOf } from '../dialect.js'
import { defineReferenceModels, type ReferenceModels } from '../models/reference-models.js'
import {
  DEFAULT_REFERENCE_TYPES,
  defineIntegrationModel,
  type IntegrationModel,
  type ReferenceColumnTypes,
} from '../models/integration-model.js'
import { defineEventModels, EVENT_TABLES, type EventModels } from '../models/event-models.js'
import type { KindDefinition } from '../../kinds/define/kind.js'
import { describeModel, queryGenerator } from './desired.js'
import { readLiveSchema } from './live.js'
import { withSchemaLock } from './lock.js'
import { formatPlan, planSchema } from './plan.js'
import { readMissing } from './presence.js'
import type { DesiredTable, Step } from './types.js'

export interface SchemaLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface SchemaReport {
  /** Tables, columns, indexes, foreign keys and ENUM values the models need that the database lacks. */
  missing: string[]
  /** What this start created or added. */
  applied: string[]
  /** Differences a person must resolve, each with the SQL that would. */
  review: Step[]
}

/** The schema cannot serve the models and the engine will not fix it unattended: the service does not start. */
export class SchemaIncompatibleError extends Error {
  constructor(readonly steps: Step[]) {
    super(`The database schema is incompatible with this service; review and apply:\n${formatPlan(steps)}`)
    this.name = 'SchemaIncompatibleError'
  }
}

export interface SchemaModels {
  models: ReferenceModels
  integrations: Map<string, IntegrationModel>
  /** The audit trail, the change-event outbox and the re-verification schedule. */
  events: EventModels
  desired: DesiredTable[]
}

/** What a step adds, named as `readMissing` names what is missing. */
const ADDS: Partial<Record<Step['action'], string>> = {
  'create-table': 'table',
  'add-column': 'column',
  'add-index': 'index',
  'add-foreign-key': 'foreign key',
  'extend-enum': 'enum values',
}

const label = (step: Step) => `${ADDS[step.action] ?? step.action} ${step.object}`

async function readReferenceTypes(sequelize: Sequelize): Promise<ReferenceColumnTypes> {
  if (sequelize.getDialect() !== 'mysql') return DEFAULT_REFERENCE_TYPES
  const column = async (table: string, fallback: ReferenceColumnTypes[keyof ReferenceColumnTypes]) => {
    const rows = await sequelize.query<{ type: string; charset: string | null; collation: string | null }>(
      `SELECT COLUMN_TYPE AS type, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'id'`,
      { replacements: [table], type: QueryTypes.SELECT },
    )
    const found = rows[0]
    if (!found) return fallback
    return found.charset ? `${found.type} CHARACTER SET ${found.charset} COLLATE ${found.collation}` : found.type
  }
  return {
    tenantId: await column('tenants', DEFAULT_REFERENCE_TYPES.tenantId),
    accountId: await column('accounts', DEFAULT_REFERENCE_TYPES.accountId),
  }
}

/**
 * Defines every model against the live database: foreign keys take the referenced
 * columns' exact type, charset and collation (Delivr's tenants.id is utf8mb4_bin).
 */
export async function defineSchemaModels(sequelize: Sequelize, kinds: readonly KindDefinition[]): Promise<SchemaModels> {
  const models = defineReferenceModels(sequelize)
  const types = await readReferenceTypes(sequelize)
  const integrations = new Map(kinds.map((k) => [k.segment, defineIntegrationModel(sequelize, k, types)]))
  const events = defineEventModels(sequelize, types)
  const desired = [
    ...[models.Account, models.Tenant, models.Collaborator].map((m) => describeModel(sequelize, m as ModelStatic<Model>, true)),
    ...[...integrations.values(), events.Audit, events.Outbox, events.Schedule].map((m) =>
      describeModel(sequelize, m as ModelStatic<Model>, false),
    ),
  ]
  return { models, integrations, events, desired }
}

export async function plan(sequelize: Sequelize, desired: DesiredTable[]): Promise<Step[]> {
  const live = await readLiveSchema(
    sequelize,
    desired.map((t) => t.name),
  )
  return planSchema(desired, live, queryGenerator(sequelize), dialectOf(sequelize))
}

/**
 * What each mode applies unattended. Production (`safe`) creates missing tables and lets a
 * provider ENUM gain values at its end: a new provider is a deploy, not a migration review.
 */
function applies(mode: SyncMode, step: Step): boolean {
  if (mode === 'alter' || mode === 'force') return step.additive
  if (mode === 'safe') return step.additive && (step.action === 'create-table' || step.action === 'extend-enum')
  return false
}

/** A foreign key column whose type or collation differs from what it references cannot hold a key. */
function blocking(steps: Step[], desired: DesiredTable[]): Step[] {
  const keyColumns = new Set(desired.flatMap((t) => t.foreignKeys.map((k) => `${t.name}.${k.column}`)))
  return steps.filter((s) => s.action === 'change-column' && keyColumns.has(s.object))
}

async function execute(sequelize: Sequelize, step: Step): Promise<void> {
  for (const sql of step.sql) {
    try {
      await sequelize.query(sql)
    } catch (err) {
      const detail = (err as { parent?: { sqlMessage?: string }; message: string }).parent?.sqlMessage ?? (err as Error).message
      throw new SchemaIncompatibleError([{ ...step, reason: `${step.reason}; applying it failed: ${detail}` }])
    }
  }
}

/**
 * Brings the schema to what `mode` allows and reports the rest. Reference tables are only
 * ever created. On MySQL one instance at a time does this, under an advisory lock.
 */
export async function prepareSchema(
  sequelize: Sequelize,
  kinds: readonly KindDefinition[],
  mode: SyncMode,
  log: SchemaLogger,
  lockTimeoutSeconds = 60,
): Promise<SchemaModels & { report: SchemaReport }> {
  const run = async () => {
    if (mode === 'force') {
      const qi = sequelize.getQueryInterface()
      const owned = [...[...EVENT_TABLES].reverse(), ...[...kinds].reverse().map((k) => k.tableName)]
      for (const table of owned) await qi.dropTable(table)
      log.warn({ tables: owned }, 'DB_SYNC=force dropped owned tables')
    }
    let schema = await defineSchemaModels(sequelize, kinds)
    const applied: string[] = []
    const planned = await plan(sequelize, schema.desired)
    // Before anything is applied: a foreign key onto such a column would fail with its own, misleading error.
    const stopFirst = blocking(planned, schema.desired)
    if (stopFirst.length > 0) throw new SchemaIncompatibleError(stopFirst)
    const steps = planned.filter((s) => applies(mode, s))
    for (const step of steps) {
      await execute(sequelize, step)
      applied.push(label(step))
    }
    // Reference tables just created may define the key types the owned tables follow.
    if (steps.some((s) => s.action === 'create-table')) schema = await defineSchemaModels(sequelize, kinds)
    const remaining = await plan(sequelize, schema.desired)
    const stop = blocking(remaining, schema.desired)
    if (stop.length > 0) throw new SchemaIncompatibleError(stop)
    const report: SchemaReport = {
      applied,
      missing: await readMissing(sequelize, schema.desired),
      review: remaining.filter((s) => !s.additive),
    }
    if (applied.length) log.info({ applied }, 'schema brought up to date')
    if (report.missing.length) log.warn({ missing: report.missing, mode }, 'schema lacks objects the service needs')
    for (const step of report.review)
      log.warn({ object: step.object, reason: step.reason, sql: step.sql }, 'schema difference needs review')
    return { ...schema, report }
  }
  return sequelize.getDialect() === 'mysql' && mode !== 'off' ? withSchemaLock(sequelize, lockTimeoutSeconds, run) : run()
}
