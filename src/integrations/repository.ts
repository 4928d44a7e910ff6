import type { CreationAttributes, Transaction } from 'sequelize'
import type { Database } from '../db/database.js'
import { pageIndexName, type IntegrationModel, type IntegrationRecord } from '../db/models/integration-model.js'
import { readerFor, tableThrough, type Row } from '../db/reader.js'
import { secretFields, type FieldValues, type KindDefinition } from '../kinds/define/kind.js'
import { viewAttributes } from './view.js'

/** Filters a page may carry, beside the tenant and the cursor. */
export type PageFilters = Partial<Record<string, unknown>>

/**
 * Where one kind's rows live: the statements the hot reads run (built once per kind, so each
 * is prepared once per connection on MySQL) and the model writes. SQL is built from the
 * definition, never from input; values always travel as parameters.
 */
export function integrationRepository(db: Database, kind: KindDefinition) {
  const model: IntegrationModel = db.integrations.get(kind.segment)!
  const reader = readerFor(db.sequelize)
  /** Columns a response may carry: everything but the ciphertext. */
  const visible = viewAttributes(kind, model)
  const secrets = secretFields(kind)

  const selectSql = (columns: readonly string[], from = `\`${kind.tableName}\``) =>
    `SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM ${from}`
  const byIdSql = (columns: readonly string[]) => `${selectSql(columns)} WHERE \`id\` = ?`
  const VIEW_BY_ID = byIdSql(visible)
  const SECRETS_BY_ID = byIdSql(['id', 'tenantId', kind.providerField, ...secrets])
  const plainFields = Object.keys(kind.fields).filter((f) => !kind.fields[f]!.secret)
  const TOKEN_BY_ID = byIdSql(['id', 'tenantId', kind.providerField, 'version', 'credentialExpiresAt', ...plainFields, ...secrets])
  const ID_BY_ID = byIdSql(['id'])

  /** Filters a page may carry, in the order their placeholders appear. */
  const PAGE_FILTERS = [kind.providerField, 'isActive', 'verificationStatus'] as const
  /**
   * Every page walks the keyset index (tenantId, id) from the cursor, filters as it goes and stops at the
   * limit: no sort, whatever the tenant's size. Left to itself the optimizer sorts a small tenant's rows
   * found by another tenantId-led index, and for a large one may scan the whole primary key.
   */
  const PAGE_FROM = tableThrough(db, kind.tableName, pageIndexName(kind))
  const pageSqlCache = new Map<string, string>()
  /** One statement per unique key of the kind. */
  const keySqlCache = new Map<string, string>()

  /** One statement per combination of filters (at most 16 per kind). */
  function pageSql(filters: readonly string[], afterCursor: boolean): string {
    const key = `${filters.join(',')}|${afterCursor}`
    let sql = pageSqlCache.get(key)
    if (!sql) {
      const conditions = ['tenantId', ...filters].map((c) => `\`${c}\` = ?`)
      if (afterCursor) conditions.push('`id` > ?')
      sql = `${selectSql(visible, PAGE_FROM)} WHERE ${conditions.join(' AND ')} ORDER BY \`id\` LIMIT ?`
      pageSqlCache.set(key, sql)
    }
    return sql
  }

  const first = async (sql: string, id: string): Promise<Row | undefined> => (await reader(sql, [id]))[0]

  async function writeAt(id: string, changes: FieldValues, ifVersion: number | undefined, transaction?: Transaction): Promise<boolean> {
    const [written] = await model.update(
      { ...changes, version: db.sequelize.literal('`version` + 1') },
      { where: ifVersion === undefined ? { id } : { id, version: ifVersion }, silent: true, transaction },
    )
    return written > 0
  }

  return {
    /** Column names a response shows. */
    visible,

    /** One row as a response shows it (plain values), or undefined. */
    findView: (id: string) => first(VIEW_BY_ID, id),

    /** One row's id, tenant, provider and ciphertexts, or undefined. */
    findSecrets: (id: string) => first(SECRETS_BY_ID, id),

    /** What a token is made of: the row's provider, fields, ciphertexts, version and known expiry (plain values), or undefined. */
    findForToken: (id: string) => first(TOKEN_BY_ID, id),

    /** Up to `limit` rows of a tenant after `afterId`, oldest first. */
    page(tenantId: string, filters: PageFilters, afterId: string | undefined, limit: number): Promise<Row[]> {
      const used = PAGE_FILTERS.filter((f) => filters[f] !== undefined)
      const after = afterId === undefined ? [] : [afterId]
      // The limit as a BigInt: mysql2 would send a number as a DOUBLE, which MySQL 8 refuses for LIMIT.
      const params = [tenantId, ...used.map((f) => filters[f]), ...after, BigInt(limit)]
      return reader(pageSql(used, after.length > 0), params)
    },

    /** A model instance for a write, with the given columns (the visible ones by default). */
    load: (id: string, attributes: readonly string[] = visible) => model.findByPk(id, { attributes: [...attributes] }),

    insert: (values: FieldValues, transaction?: Transaction) =>
      model.create(values as CreationAttributes<IntegrationRecord>, { transaction }),

    /**
     * Writes `values` and moves the row to its next version. With `ifVersion`, only while the row is still at
     * that version (compare-and-set). Answers whether a row was written; `row` then shows the new values.
     */
    async update(row: IntegrationRecord, values: FieldValues, ifVersion?: number, transaction?: Transaction): Promise<boolean> {
      const changes = { ...values, updatedAt: new Date() }
      const written = await writeAt(row.id, changes, ifVersion, transaction)
      if (written) row.set(changes as Partial<IntegrationRecord>, { raw: true })
      return written
    },

    /** As `update`, for a row read as plain values. */
    updateAt: (id: string, values: FieldValues, ifVersion?: number, transaction?: Transaction) =>
      writeAt(id, { ...values, updatedAt: new Date() }, ifVersion, transaction),

    exists: async (id: string) => (await first(ID_BY_ID, id)) !== undefined,

    /** Whether a row has these values in these columns (a unique key of the kind's). */
    async existsWith(columns: readonly string[], values: readonly unknown[]): Promise<boolean> {
      const key = columns.join(',')
      let sql = keySqlCache.get(key)
      if (!sql) {
        sql = `SELECT \`id\` FROM \`${kind.tableName}\` WHERE ${columns.map((c) => `\`${c}\` = ?`).join(' AND ')} LIMIT 1`
        keySqlCache.set(key, sql)
      }
      return (await reader(sql, [...values])).length > 0
    },

    remove: (row: IntegrationRecord, transaction?: Transaction) => row.destroy({ transaction }),
  }
}

export type IntegrationRepository = ReturnType<typeof integrationRepository>
