import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import type { CreationAttributes } from 'sequelize'
import type { Test } from 'tap'
import type { App } from '../../src/app.js'
import type { SyncMode } from '../../src/config/env-schema.js'
import { loadDatabaseConfig } from '../../src/config/load-config.js'
import { createSequelize, openDatabase, type Database } from '../../src/db/database.js'
import { runSchemaCommand, type SchemaCommand } from '../../src/db/migrate/command.js'
import { KINDS } from '../../src/kinds/index.js'
import { EVENT_TABLES } from '../../src/db/models/event-models.js'
import type { IntegrationRecord } from '../../src/db/models/integration-model.js'
import type { KindDefinition } from '../../src/kinds/define/kind.js'
import type { TestApp } from './app.js'
import type { TestDatabase } from './databases.js'

export const REFERENCE_TABLES = ['accounts', 'tenants', 'collaborators'] as const
export const SCM_TABLE = 'tenant_scm_integrations'
/** The integration tables the service owns: one per integration kind, in catalog order. */
export const OWNED_TABLES = KINDS.map((k) => k.tableName)
/** The other tables the service owns (audit trail, change-event outbox, re-verification schedule), in creation order. */
export { EVENT_TABLES }
/** Every table the service creates, in creation order. */
export const SERVICE_TABLES = [...OWNED_TABLES, ...EVENT_TABLES]
/** Every table a complete database holds, sorted as `tableNames` lists them. */
export const ALL_TABLES = [...REFERENCE_TABLES, ...OWNED_TABLES, ...EVENT_TABLES].sort()
/** The foreign keys of every owned table, as `foreignKeys` lists them. */
export const OWNED_FOREIGN_KEYS = ['createdByAccountId -> accounts.id ON DELETE RESTRICT', 'tenantId -> tenants.id ON DELETE CASCADE']

/** What `DB_SYNC_FORCE` must repeat for this database: its MySQL name, or the SQLite file's base name. */
export const forceConfirmation = (db: TestDatabase) => (db.dialect === 'sqlite' ? path.basename(db.name) : db.name)

/** `table <name>` for each table, as a schema report names a table it created or misses. */
export const tableEntries = (tables: readonly string[]) => tables.map((table) => `table ${table}`)

/** A row for an integration model: the shared columns plus the kind's own (`scmType`, `repositoryUrl`...). */
export type IntegrationRow = CreationAttributes<IntegrationRecord> & Record<string, unknown>

export interface ColumnInfo {
  /** COLUMN_TYPE on MySQL, the declared type on SQLite. */
  type: string
  nullable: boolean
  /** As the database prints it: `'main'`, `1`, or null for none. */
  default: string | null
  charset: string | null
  collation: string | null
}

/** Base tables in the database, by name. */
export async function tableNames(db: TestDatabase): Promise<string[]> {
  const rows = (await db.query(
    db.dialect === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
      : "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
  )) as { name: string }[]
  return rows.map((r) => r.name).sort()
}

/** What an operator reads as a table's definition: SHOW CREATE TABLE, or sqlite_master's SQL for it and its indexes. */
export async function tableDefinition(db: TestDatabase, table: string): Promise<string> {
  if (db.dialect === 'mysql') {
    const rows = (await db.query(`SHOW CREATE TABLE \`${table}\``)) as Record<string, string>[]
    return rows[0]!['Create Table']!
  }
  const rows = (await db.query(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = '${table}' ORDER BY type DESC, name`)) as {
    type: string
    name: string
    sql: string | null
  }[]
  if (rows.length === 0) throw new Error(`no table ${table}`)
  return rows.map((r) => r.sql ?? `-- ${r.type} ${r.name}`).join('\n')
}

/** Every index of a table as `[UNIQUE ]name (col, col)`, sorted by name; primary keys included. */
export async function indexList(db: TestDatabase, table: string): Promise<string[]> {
  const rows = (await db.query(
    db.dialect === 'sqlite'
      ? `SELECT il.name AS name, il."unique" AS isUnique, ii.name AS col
           FROM pragma_index_list('${table}') AS il, pragma_index_info(il.name) AS ii
          ORDER BY il.name, ii.seqno`
      : `SELECT INDEX_NAME AS name, NON_UNIQUE = 0 AS isUnique, COLUMN_NAME AS col
           FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'
          ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
  )) as { name: string; isUnique: number; col: string }[]
  const byName = new Map<string, { unique: boolean; cols: string[] }>()
  for (const r of rows) {
    const entry = byName.get(r.name) ?? { unique: Number(r.isUnique) === 1, cols: [] }
    entry.cols.push(r.col)
    byName.set(r.name, entry)
  }
  return [...byName].map(([name, i]) => `${i.unique ? 'UNIQUE ' : ''}${name} (${i.cols.join(', ')})`)
}

/** The whole schema as one text an operator could diff: every definition, then every index list. */
export async function schemaSnapshot(db: TestDatabase): Promise<string> {
  const parts: string[] = []
  if (db.dialect === 'sqlite') {
    const rows = (await db.query('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name')) as Record<string, unknown>[]
    parts.push(...rows.map((r) => JSON.stringify(r)))
  }
  for (const table of await tableNames(db)) {
    if (db.dialect === 'mysql') parts.push(await tableDefinition(db, table))
    parts.push(`${table}: ${(await indexList(db, table)).join('; ')}`)
  }
  return parts.join('\n')
}

export async function columns(db: TestDatabase, table: string): Promise<Record<string, ColumnInfo>> {
  if (db.dialect === 'sqlite') {
    const rows = (await db.query(`SELECT name, type, "notnull" AS isNotNull, dflt_value AS dflt FROM pragma_table_info('${table}')`)) as {
      name: string
      type: string
      isNotNull: number
      dflt: string | null
    }[]
    return Object.fromEntries(
      rows.map((r) => [r.name, { type: r.type, nullable: r.isNotNull === 0, default: r.dflt, charset: null, collation: null }]),
    )
  }
  const rows = (await db.query(
    `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt,
            CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'
      ORDER BY ORDINAL_POSITION`,
  )) as { name: string; type: string; nullable: string; dflt: string | null; charset: string | null; collation: string | null }[]
  return Object.fromEntries(
    rows.map((r) => [
      r.name,
      // MariaDB prints "no default" on a nullable column as the string NULL.
      {
        type: r.type,
        nullable: r.nullable === 'YES',
        default: r.dflt === 'NULL' ? null : r.dflt,
        charset: r.charset,
        collation: r.collation,
      },
    ]),
  )
}

export async function rowCount(db: TestDatabase, table: string): Promise<number> {
  const rows = (await db.query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as { n: number | string }[]
  return Number(rows[0]!.n)
}

export async function readiness(app: App) {
  const res = await app.inject({ url: '/health/ready' })
  return { statusCode: res.statusCode, body: res.json<{ status: string; database?: string; missing?: string[] }>() }
}

/** Connects a GitHub repository through the HTTP API, as the tenant's owner would. */
export async function connectRepository(h: TestApp, tenantId: string, ownerId: string, repository = 'acme/mobile-app') {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/integrations/scm',
    headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
    payload: {
      tenantId,
      scmType: 'GITHUB',
      displayName: `Repository ${repository}`,
      repositoryUrl: `https://github.com/${repository}`,
      accessToken: 'ghp_database_test_token_0123456789',
    },
  })
  if (res.statusCode !== 201) throw new Error(`connecting ${repository} answered ${res.statusCode}: ${res.body}`)
  return res.json<{ id: string; tenantId: string; repositoryUrl: string }>()
}

/** A table's foreign keys as `column -> table.column ON DELETE rule`, sorted. */
export async function foreignKeys(db: TestDatabase, table: string): Promise<string[]> {
  const rows = (await db.query(
    db.dialect === 'sqlite'
      ? `SELECT "from" AS col, "table" AS refTable, "to" AS refCol, on_delete AS onDelete FROM pragma_foreign_key_list('${table}')`
      : `SELECT k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS refTable, k.REFERENCED_COLUMN_NAME AS refCol, r.DELETE_RULE AS onDelete
           FROM information_schema.KEY_COLUMN_USAGE AS k
           JOIN information_schema.REFERENTIAL_CONSTRAINTS AS r
             ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
          WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = '${table}' AND k.REFERENCED_TABLE_NAME IS NOT NULL`,
  )) as { col: string; refTable: string; refCol: string; onDelete: string }[]
  return rows.map((r) => `${r.col} -> ${r.refTable}.${r.refCol} ON DELETE ${r.onDelete}`).sort()
}

/**
 * Inserts one row of a kind through its model (an app's, or an engine's `{ db }`), without HTTP or verification: the shared
 * columns, the kind's first provider and a placeholder in every required kind column.
 * Returns the row's id.
 */
export async function insertIntegration(
  app: { db: Pick<Database, 'integrations'> },
  kind: KindDefinition,
  tenantId: string,
  accountId: string,
): Promise<string> {
  const id = randomUUID()
  const required = Object.entries(kind.fields).filter(([, f]) => f.column.allowNull === false && f.column.defaultValue === undefined)
  await app.db.integrations.get(kind.segment)!.create({
    id,
    tenantId,
    [kind.providerField]: kind.providers[0]!.id,
    displayName: `A ${kind.title} integration`,
    createdByAccountId: accountId,
    ...Object.fromEntries(required.map(([name]) => [name, `${name}-${id}`])),
  })
  return id
}

/** Every row of every given table, by table, ordered by id. */
export async function tableRows(db: TestDatabase, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {}
  for (const table of tables) rows[table] = await db.query(`SELECT * FROM \`${table}\` ORDER BY id`)
  return rows
}

/** The row count of every given table, by table. */
export async function rowCounts(db: TestDatabase, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of tables) counts[table] = await rowCount(db, table)
  return counts
}

// DATA_DIR only places a default SQLite file, and DATABASE_URL is always given.
const databaseConfig = (db: TestDatabase, sync: SyncMode) =>
  loadDatabaseConfig({ DATABASE_URL: db.url, DATA_DIR: os.tmpdir(), DB_SYNC: sync })

export interface EngineLine {
  level: 'info' | 'warn'
  msg: string
  [key: string]: unknown
}

/**
 * The start-up the db plugin does (connect, migrate per `sync`, define models), without the
 * HTTP app, for kind definitions a test makes up. Closed when the test ends.
 */
export async function openEngine(t: Test, db: TestDatabase, sync: SyncMode, kinds: readonly KindDefinition[] = KINDS) {
  const logs: EngineLine[] = []
  const log = {
    info: (obj: object, msg: string) => logs.push({ ...obj, level: 'info', msg }),
    warn: (obj: object, msg: string) => logs.push({ ...obj, level: 'warn', msg }),
  }
  const database: Database = await openDatabase(databaseConfig(db, sync), kinds, log)
  t.teardown(() => database.close())
  return { database, logs }
}

/** `npm run schema -- <command>` in this process, for kind definitions a test makes up. */
export async function schemaCommand(db: TestDatabase, command: SchemaCommand, kinds: readonly KindDefinition[] = KINDS) {
  const sequelize = createSequelize(databaseConfig(db, 'off'))
  try {
    return await runSchemaCommand(sequelize, command, kinds)
  } finally {
    await sequelize.close()
  }
}

/**
 * SQLite changes a column or a foreign key only by rebuilding the table: the documented
 * create, copy, drop, rename, with `edit` applied to the CREATE TABLE statement.
 */
export async function rebuildSqliteTable(db: TestDatabase, table: string, edit: (createTable: string) => string) {
  const [row] = (await db.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '${table}'`)) as { sql: string }[]
  const indexes = (await db.query(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '${table}' AND sql IS NOT NULL`)) as {
    sql: string
  }[]
  const changed = edit(row!.sql)
  if (changed === row!.sql) throw new Error(`the edit changed nothing in ${row!.sql}`)
  const { default: sqlite3 } = await import('sqlite3')
  const script = [
    'PRAGMA foreign_keys = OFF',
    'BEGIN',
    changed.replace(/^CREATE TABLE [`"]?\w+[`"]?/, 'CREATE TABLE rebuilt'),
    `INSERT INTO rebuilt SELECT * FROM ${table}`,
    `DROP TABLE ${table}`,
    `ALTER TABLE rebuilt RENAME TO ${table}`,
    ...indexes.map((i) => i.sql),
    'COMMIT',
  ].join(';\n')
  await new Promise<void>((resolve, reject) => {
    const conn = new sqlite3.Database(db.name)
    conn.exec(script, (err) => conn.close(() => (err ? reject(err) : resolve())))
  })
}

/** Replaces `from` with `to` in `text`, failing loudly when `from` is not there. */
export function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${from} not in ${text}`)
  return text.replace(from, to)
}
