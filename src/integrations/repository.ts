import { DataTypes, Op, type CreationAttributes, type Transaction } from 'sequelize'
import type { Database } from '../db/database.js'
import { pageIndexName, type IntegrationModel, type IntegrationRecord } from '../db/models/integration-model.js'
import { readerFor, tableThrough, writerFor, type Row } from '../db/reader.js'
import { MEMBER_COLUMNS, memberJoin, memberSelect, NOT_STANDING, standingParams, standingSql } from '../auth/access.js'
import type { Principal } from '../auth/tokens.js'
import { fingerprintKey, secretFields, type FieldValues, type KindDefinition } from '../kinds/define/kind.js'
import { viewAttributes } from './view.js'

/** The columns of a renewal lease: who holds it, until when. */
export interface LeaseFields {
  id: string
  until: string
}

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
  const writer = writerFor(db.sequelize)
  /** Columns a response may carry: everything but the ciphertext. */
  const visible = viewAttributes(kind, model)
  const secrets = secretFields(kind)

  const selectSql = (columns: readonly string[], from = `\`${kind.tableName}\``) =>
    `SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM ${from}`
  const byIdSql = (columns: readonly string[]) => `${selectSql(columns)} WHERE \`id\` = ?`
  const VIEW_BY_ID = byIdSql(visible)
  const SECRETS_BY_ID = byIdSql(['id', 'tenantId', kind.providerField, ...secrets])
  const plainFields = Object.keys(kind.fields).filter((f) => !kind.fields[f]!.secret)
  /** What a token is made of: the provider, every field, the ciphertexts and their fingerprints, the version. */
  const TOKEN_COLUMNS = [
    'id',
    'tenantId',
    kind.providerField,
    'version',
    'credentialExpiresAt',
    ...plainFields,
    ...secrets,
    ...secrets.map(fingerprintKey),
  ]
  const TOKEN_BY_ID = byIdSql(TOKEN_COLUMNS)
  const ID_BY_ID = byIdSql(['id'])
  const DELETE_BY_ID = `DELETE FROM \`${kind.tableName}\` WHERE \`id\` = ?`
  /** As byIdSql, with the user's collaborator rows in the row's tenant joined (one row per collaborator row, or one). */
  const asMemberSql = (columns: readonly string[]) =>
    `SELECT ${columns.map((c) => `\`${kind.tableName}\`.\`${c}\``).join(', ')}, ${memberSelect} FROM \`${kind.tableName}\` ` +
    `${memberJoin(kind.tableName)} WHERE \`${kind.tableName}\`.\`id\` = ?`
  const VIEW_AS_MEMBER = asMemberSql(visible)
  const SECRETS_AS_MEMBER = asMemberSql(['id', 'tenantId', kind.providerField, ...secrets])
  const TOKEN_AS_MEMBER = asMemberSql(TOKEN_COLUMNS)

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

  /**
   * One statement per caller type and combination of filters (at most 32 per kind): the caller's standing in the
   * tenant (see standingSql), then the page, so a page is one round trip. The page keeps its own ORDER BY and
   * LIMIT: parenthesised on MySQL, a subquery on SQLite (which takes neither inside a compound SELECT).
   */
  function pageSql(principal: Principal['type'], filters: readonly string[], afterCursor: boolean): string {
    const key = `${principal}|${filters.join(',')}|${afterCursor}`
    let sql = pageSqlCache.get(key)
    if (!sql) {
      const conditions = ['tenantId', ...filters].map((c) => `\`${c}\` = ?`)
      if (afterCursor) conditions.push('`id` > ?')
      const columns = visible.map((c) => `\`${c}\``).join(', ')
      const page = `SELECT ${NOT_STANDING}, ${columns} FROM ${PAGE_FROM} WHERE ${conditions.join(' AND ')} ORDER BY \`id\` LIMIT ?`
      const standing = standingSql(principal, visible)
      sql = db.dialect === 'mysql' ? `${standing} UNION ALL (${page})` : `${standing} UNION ALL SELECT * FROM (${page}) AS \`page\``
      pageSqlCache.set(key, sql)
    }
    return sql
  }

  /** As asMemberSql, for the columns a write loads (one statement per column list). */
  const loadSqlCache = new Map<string, string>()
  const attributes = model.getAttributes() as Record<
    string,
    { type: unknown; allowNull?: boolean; defaultValue?: unknown; validate?: { isIn?: unknown[][] } }
  >
  /** What a new row holds where the caller gave nothing: the model's defaults (none is computed). */
  const defaults = Object.fromEntries(
    Object.entries(attributes).flatMap(([c, a]) =>
      a.defaultValue === undefined || typeof a.defaultValue === 'object' ? [] : [[c, a.defaultValue]],
    ),
  )
  const required = Object.keys(attributes).filter((c) => attributes[c]!.allowNull === false)
  const memberColumns = new Set<string>(Object.values(MEMBER_COLUMNS))
  const booleanColumns = new Set(Object.keys(attributes).filter((c) => attributes[c]!.type instanceof DataTypes.BOOLEAN))
  const instantColumns = new Set(Object.keys(attributes).filter((c) => attributes[c]!.type instanceof DataTypes.DATE))

  /** A row read as plain values, typed as the model reads it (booleans, instants), as a model instance for a write. */
  function instance(row: Row): IntegrationRecord {
    const values: Row = {}
    for (const [column, value] of Object.entries(row)) {
      if (memberColumns.has(column)) continue
      if (value == null) values[column] = null
      else if (booleanColumns.has(column)) values[column] = Boolean(value)
      else if (instantColumns.has(column)) values[column] = value instanceof Date ? value : new Date(value as string)
      else values[column] = value
    }
    return model.build(values as CreationAttributes<IntegrationRecord>, { isNewRecord: false, raw: true })
  }

  const first = async (sql: string, id: string): Promise<Row | undefined> => (await reader(sql, [id]))[0]

  /** Columns whose values the model checks against a list (the provider, the verification status). */
  const listed = new Map(
    Object.entries(attributes).flatMap(([c, a]) => (a.validate?.isIn ? [[c, new Set(a.validate.isIn[0])] as const] : [])),
  )

  /**
   * A column's value as written (an instant as a Date, which the writer formats); throws for a column the table lacks
   * or a value its list refuses (never from input).
   */
  function columnValue(column: string, value: unknown): unknown {
    if (!Object.hasOwn(attributes, column)) throw new Error(`${kind.tableName} has no column ${column}`)
    const allowed = listed.get(column)
    if (allowed && value !== null && !allowed.has(value))
      throw new Error(`${kind.tableName}.${column} cannot hold ${JSON.stringify(value)}`)
    if (instantColumns.has(column) && value != null && !(value instanceof Date)) return new Date(value as string | number)
    return value ?? null
  }

  /**
   * One UPDATE of `changes` that moves the row to its next version, where the id (and, with `ifVersion`, the version,
   * and each of `also`) matches. One prepared statement (see writerFor: a failure, a unique violation included, is
   * classified as for any statement), without the model's per-call instance and option work.
   */
  async function writeAt(
    id: string,
    changes: FieldValues,
    ifVersion: number | undefined,
    options: { also?: Record<string, unknown>; transaction?: Transaction } = {},
  ): Promise<boolean> {
    // As the model: what is not one of its columns, or is undefined, is left out.
    const columns = Object.keys(changes).filter((c) => changes[c] !== undefined && Object.hasOwn(attributes, c))
    const where: [string, unknown][] = [['id', id], ...Object.entries(options.also ?? {})]
    if (ifVersion !== undefined) where.push(['version', ifVersion])
    const sql =
      `UPDATE \`${kind.tableName}\` SET ${columns.map((c) => `\`${c}\` = ?, `).join('')}\`version\` = \`version\` + 1 ` +
      `WHERE ${where.map(([c]) => `\`${c}\` = ?`).join(' AND ')}`
    const replacements = [...columns.map((c) => columnValue(c, changes[c])), ...where.map(([c, v]) => columnValue(c, v))]
    return (await writer(sql, replacements, options.transaction)) > 0
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

    /** As findView, findSecrets and findForToken, for a user: every joined row, each with the user's collaborator columns. */
    findViewAsMember: (id: string, accountId: string) => reader(VIEW_AS_MEMBER, [accountId, id]),
    findSecretsAsMember: (id: string, accountId: string) => reader(SECRETS_AS_MEMBER, [accountId, id]),
    findForTokenAsMember: (id: string, accountId: string) => reader(TOKEN_AS_MEMBER, [accountId, id]),

    /**
     * The caller's standing rows in the tenant (see standingSql; permitTenantRead tells them apart), then up to
     * `limit` rows of the tenant after `afterId`, oldest first.
     */
    page(principal: Principal, tenantId: string, filters: PageFilters, afterId: string | undefined, limit: number): Promise<Row[]> {
      const used = PAGE_FILTERS.filter((f) => filters[f] !== undefined)
      const after = afterId === undefined ? [] : [afterId]
      // The limit as a BigInt: mysql2 would send a number as a DOUBLE, which MySQL 8 refuses for LIMIT.
      const params = [...standingParams(principal, tenantId), tenantId, ...used.map((f) => filters[f]), ...after, BigInt(limit)]
      return reader(pageSql(principal.type, used, after.length > 0), params)
    },

    /** A model instance for a write, with the given columns (the visible ones by default). */
    load: (id: string, attributes: readonly string[] = visible) => model.findByPk(id, { attributes: [...attributes] }),

    /**
     * As `load`, for a user, in one statement: the row with the user's collaborator rows in its tenant joined (see
     * memberJoin). Answers the instance (undefined when there is no such row) and every joined row, for permitMember.
     */
    async loadAsMember(id: string, accountId: string, attributes: readonly string[] = visible) {
      const key = attributes.join(',')
      let sql = loadSqlCache.get(key)
      if (!sql) loadSqlCache.set(key, (sql = asMemberSql(attributes)))
      const rows = await reader(sql, [accountId, id])
      return { row: rows[0] ? instance(rows[0]) : undefined, members: rows }
    },

    /**
     * Inserts a new row (the model's defaults and both timestamps filled in) with one plain INSERT (see writerFor), and
     * answers it as a model instance. Values are checked as the model would (columns, lists, required ones).
     */
    async insert(values: FieldValues, transaction?: Transaction): Promise<IntegrationRecord> {
      const now = new Date()
      // As the model: what is not one of its columns, or is undefined, is left out (the column's default applies).
      const given = Object.entries(values).filter(([c, v]) => v !== undefined && Object.hasOwn(attributes, c))
      const row: FieldValues = { ...defaults, ...Object.fromEntries(given), createdAt: now, updatedAt: now }
      const missing = required.find((c) => row[c] === undefined || row[c] === null)
      if (missing !== undefined) throw new Error(`${kind.tableName}.${missing} cannot be null`)
      const columns = Object.keys(row)
      const sql = `INSERT INTO \`${kind.tableName}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
      await writer(
        sql,
        columns.map((c) => columnValue(c, row[c])),
        transaction,
      )
      return instance(row)
    },

    /**
     * Writes `values` and moves the row to its next version. With `ifVersion`, only while the row is still at
     * that version (compare-and-set). Answers whether a row was written; `row` then shows the new values.
     */
    async update(row: IntegrationRecord, values: FieldValues, ifVersion?: number, transaction?: Transaction): Promise<boolean> {
      const changes = { ...values, updatedAt: new Date() }
      const written = await writeAt(row.id, changes, ifVersion, { transaction })
      if (written) row.set(changes as Partial<IntegrationRecord>, { raw: true })
      return written
    },

    /** As `update`, for a row read as plain values. */
    updateAt: (id: string, values: FieldValues, ifVersion?: number, transaction?: Transaction) =>
      writeAt(id, { ...values, updatedAt: new Date() }, ifVersion, { transaction }),

    exists: async (id: string) => (await first(ID_BY_ID, id)) !== undefined,

    /**
     * Takes the renewal lease of a rotating token until `until`, while nobody holds it (or their lease ran out) and the
     * refresh token is still the one read (`refresh`: its fingerprint column and value). Not a change of the integration:
     * neither its version nor updatedAt move.
     */
    async claimLease(id: string, fields: LeaseFields, lease: string, until: Date, refresh: [string, unknown]): Promise<boolean> {
      const [claimed] = await model.update({ [fields.id]: lease, [fields.until]: until } as Partial<IntegrationRecord>, {
        where: { id, [refresh[0]]: refresh[1], [Op.or]: [{ [fields.until]: null }, { [fields.until]: { [Op.lt]: new Date() } }] },
        silent: true,
      })
      return claimed > 0
    },

    /** Writes `values` and lets the lease go, only while `lease` still holds it (else answers false). */
    landUnderLease: (id: string, fields: LeaseFields, lease: string, values: FieldValues, transaction?: Transaction) =>
      writeAt(id, { ...values, [fields.id]: null, [fields.until]: null, updatedAt: new Date() }, undefined, {
        also: { [fields.id]: lease },
        transaction,
      }),

    /** Lets the lease go without a change, while it is still `lease`. */
    async releaseLease(id: string, fields: LeaseFields, lease: string): Promise<void> {
      await model.update({ [fields.id]: null, [fields.until]: null } as Partial<IntegrationRecord>, {
        where: { id, [fields.id]: lease },
        silent: true,
      })
    },

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

    async remove(row: IntegrationRecord, transaction?: Transaction): Promise<void> {
      await writer(DELETE_BY_ID, [row.id], transaction)
    },
  }
}

export type IntegrationRepository = ReturnType<typeof integrationRepository>
