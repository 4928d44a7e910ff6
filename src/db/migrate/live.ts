import { QueryTypes, type Sequelize } from 'sequelize'
import type { ForeignKey, IndexShape, LiveColumn, LiveTable } from './types.js'

type Row = Record<string, unknown>

async function select(sequelize: Sequelize, sql: string, replacements: unknown[] = []): Promise<Row[]> {
  return sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT })
}

function group<T>(rows: Row[], key: string, make: (rows: Row[]) => T): Map<string, T> {
  const byKey = new Map<string, Row[]>()
  for (const row of rows) byKey.set(String(row[key]), [...(byKey.get(String(row[key])) ?? []), row])
  return new Map([...byKey].map(([k, v]) => [k, make(v)]))
}

async function readMysql(sequelize: Sequelize, tables: string[]): Promise<Map<string, LiveTable>> {
  const where = 'TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)'
  const [columns, statistics, keys] = await Promise.all([
    select(
      sequelize,
      `SELECT TABLE_NAME t, COLUMN_NAME name, COLUMN_TYPE type, IS_NULLABLE nullable, COLUMN_DEFAULT dflt,
              CHARACTER_SET_NAME charset, COLLATION_NAME collation
         FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`,
      [tables],
    ),
    select(
      sequelize,
      `SELECT TABLE_NAME t, INDEX_NAME name, NON_UNIQUE nonUnique, COLUMN_NAME col
         FROM information_schema.STATISTICS WHERE ${where} ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      [tables],
    ),
    select(
      sequelize,
      `SELECT k.TABLE_NAME t, k.CONSTRAINT_NAME name, k.COLUMN_NAME col, k.REFERENCED_TABLE_NAME refTable, k.REFERENCED_COLUMN_NAME refColumn,
              r.DELETE_RULE onDelete, r.UPDATE_RULE onUpdate
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r
           ON r.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
        WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME IN (?) AND k.REFERENCED_TABLE_NAME IS NOT NULL`,
      [tables],
    ),
  ])
  const byTable = group(columns, 't', (rows) => rows)
  const indexesOf = group(statistics, 't', (rows) =>
    group(rows, 'name', (parts): IndexShape => ({
      name: String(parts[0]!.name),
      unique: Number(parts[0]!.nonUnique) === 0,
      fields: parts.map((p) => String(p.col)),
    })),
  )
  const keysOf = group(keys, 't', (rows) => rows.map(toForeignKey))
  const result = new Map<string, LiveTable>()
  for (const [name, rows] of byTable) {
    result.set(name, {
      name,
      columns: new Map(
        rows.map((r) => [
          String(r.name),
          {
            name: String(r.name),
            type: String(r.type),
            nullable: r.nullable === 'YES',
            default: r.dflt === null || r.dflt === undefined ? null : String(r.dflt as string | number),
            charset: (r.charset as string | null) ?? null,
            collation: (r.collation as string | null) ?? null,
          } satisfies LiveColumn,
        ]),
      ),
      indexes: indexesOf.get(name) ?? new Map<string, IndexShape>(),
      foreignKeys: keysOf.get(name) ?? [],
    })
  }
  return result
}

function toForeignKey(r: Row): ForeignKey {
  return {
    ...(typeof r.name === 'string' && r.name ? { name: r.name } : {}),
    column: String(r.col ?? r.from),
    refTable: String(r.refTable ?? r.table),
    refColumn: String(r.refColumn ?? r.to),
    onDelete: String(r.onDelete ?? r.on_delete).toUpperCase(),
    onUpdate: String(r.onUpdate ?? r.on_update).toUpperCase(),
  }
}

async function readSqlite(sequelize: Sequelize, tables: string[]): Promise<Map<string, LiveTable>> {
  const existing = new Set((await select(sequelize, `SELECT name FROM sqlite_master WHERE type = 'table'`)).map((r) => String(r.name)))
  const result = new Map<string, LiveTable>()
  const quote = (name: string) => `'${name.replace(/'/g, "''")}'`
  for (const table of tables.filter((t) => existing.has(t))) {
    const columns = await select(sequelize, `PRAGMA table_info(${quote(table)})`)
    const list = await select(sequelize, `PRAGMA index_list(${quote(table)})`)
    const indexes = new Map<string, IndexShape>()
    for (const index of list.filter((i) => i.origin === 'c')) {
      const parts = await select(sequelize, `PRAGMA index_info(${quote(String(index.name))})`)
      indexes.set(String(index.name), {
        name: String(index.name),
        unique: Number(index.unique) === 1,
        fields: parts.sort((a, b) => Number(a.seqno) - Number(b.seqno)).map((p) => String(p.name)),
      })
    }
    const keys = await select(sequelize, `PRAGMA foreign_key_list(${quote(table)})`)
    result.set(table, {
      name: table,
      columns: new Map(
        columns.map((c) => [
          String(c.name),
          {
            name: String(c.name),
            type: String(c.type),
            nullable: Number(c.notnull) === 0 && Number(c.pk) === 0,
            default: c.dflt_value === null ? null : String(c.dflt_value as string | number),
            charset: null,
            collation: null,
          },
        ]),
      ),
      indexes,
      foreignKeys: keys.map(toForeignKey),
    })
  }
  return result
}

/** The live shape of the given tables: columns, named indexes and foreign keys. Absent tables are absent. */
export function readLiveSchema(sequelize: Sequelize, tables: string[]): Promise<Map<string, LiveTable>> {
  return sequelize.getDialect() === 'mysql' ? readMysql(sequelize, tables) : readSqlite(sequelize, tables)
}
