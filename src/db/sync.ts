import { QueryTypes, type ModelStatic, type Model, type Sequelize } from 'sequelize'
import type { SyncMode } from '../config/env-schema.js'
import { DEFAULT_REFERENCE_TYPES, type ReferenceColumnTypes } from '../kinds/integration-model.js'
import type { ReferenceModels } from './reference-models.js'

export interface SyncLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface SchemaReport {
  /** Tables, columns and indexes the models need that the database lacks. */
  missing: string[]
  /** What this start created or added. */
  applied: string[]
}

type AnyModel = ModelStatic<Model>

export interface ReferenceTables {
  /** Column types of the referenced keys, so foreign keys match them. */
  types: ReferenceColumnTypes
  /** Reference tables the database lacks (only with DB_SYNC=off, which creates nothing). */
  missing: string[]
}

/**
 * Reference tables belong to the main Delivr server: created when missing (standalone and
 * development), never altered or dropped, whatever the sync mode.
 */
export async function ensureReferenceTables(
  sequelize: Sequelize,
  models: ReferenceModels,
  mode: SyncMode,
  log: SyncLogger,
): Promise<ReferenceTables> {
  const qi = sequelize.getQueryInterface()
  const missing: string[] = []
  for (const model of [models.Account, models.Tenant, models.Collaborator] as AnyModel[]) {
    const table = model.getTableName() as string
    if (await qi.tableExists(table)) continue
    if (mode === 'off') {
      missing.push(`table ${table}`)
      continue
    }
    await model.sync()
    log.info({ table }, 'created missing reference table')
  }
  if (missing.length) log.warn({ missing, mode }, 'reference tables are missing')
  const types = sequelize.getDialect() === 'mysql' ? await readReferenceTypes(sequelize) : DEFAULT_REFERENCE_TYPES
  return { types, missing }
}

async function readReferenceTypes(sequelize: Sequelize): Promise<ReferenceColumnTypes> {
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
 * Owned tables: `alter` creates missing tables and adds missing nullable or defaulted
 * columns and named indexes (never drops, never Sequelize's own alter); `safe` creates
 * missing tables only; `force` drops and recreates; `off` only reports.
 */
export async function syncOwnedTables(sequelize: Sequelize, owned: AnyModel[], mode: SyncMode, log: SyncLogger): Promise<SchemaReport> {
  const qi = sequelize.getQueryInterface()
  const report: SchemaReport = { missing: [], applied: [] }
  if (mode === 'force') {
    for (const model of [...owned].reverse()) await model.drop()
    log.warn({ tables: owned.map((m) => m.getTableName()) }, 'DB_SYNC=force dropped owned tables')
  }
  for (const model of owned) {
    const table = model.getTableName() as string
    if (!(await qi.tableExists(table))) {
      if (mode === 'off') {
        report.missing.push(`table ${table}`)
        continue
      }
      await model.sync()
      report.applied.push(`table ${table}`)
      continue
    }
    const columns = await qi.describeTable(table)
    for (const [name, attribute] of Object.entries(model.getAttributes())) {
      const column = attribute.field ?? name
      if (column in columns) continue
      const additive = attribute.allowNull !== false || attribute.defaultValue !== undefined
      if (mode === 'alter' && additive) {
        await qi.addColumn(table, column, attribute)
        report.applied.push(`column ${table}.${column}`)
      } else {
        report.missing.push(`column ${table}.${column}`)
      }
    }
    const indexes = (await qi.showIndex(table)) as { name: string }[]
    for (const index of model.options.indexes ?? []) {
      if (!index.name || indexes.some((i) => i.name === index.name)) continue
      if (mode === 'alter') {
        await qi.addIndex(table, { ...index, fields: index.fields ?? [] })
        report.applied.push(`index ${table}.${index.name}`)
      } else {
        report.missing.push(`index ${table}.${index.name}`)
      }
    }
  }
  if (report.applied.length) log.info({ applied: report.applied }, 'schema brought up to date')
  if (report.missing.length) log.warn({ missing: report.missing, mode }, 'schema lacks objects the service needs')
  return report
}
