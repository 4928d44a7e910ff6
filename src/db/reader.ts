import diagnostics from 'node:diagnostics_channel'
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize'
import { dialectOf, type SqlDialect } from './dialect.js'
import { sqlInstant } from './instant.js'
import { connectionManager, mysqlSender, type Mysql2Connection } from './mysql-connection.js'

export type Row = Record<string, unknown>
export type Reader = (sql: string, params: readonly unknown[]) => Promise<Row[]>

/**
 * Runs one INSERT, UPDATE or DELETE, in `transaction` when given; answers how many rows it changed. A Date among the
 * values is written as the models write a DATE(3): UTC, to the millisecond (see sqlInstant).
 */
export type Writer = (sql: string, params: readonly unknown[], transaction?: Transaction) => Promise<number>

interface Statements {
  read: Reader
  write: Writer
}

const statements = new WeakMap<Sequelize, Statements>()

/** What `writes` publishes for each statement a Writer runs, before it runs. */
export interface WriteMessage {
  sql: string
  transaction: Transaction | undefined
}

/**
 * Every write statement of the hot paths, as it is sent (`WriteMessage`): for tracing, and for tests that check what
 * a request wrote and in which transaction. Values are not published (they include ciphertexts).
 */
export const writes = diagnostics.channel('delivr-integrations:db:write')

/**
 * The hot paths' statements: the reads (role lookup, one integration, a page) and a write's row and journal
 * statements. On MySQL they run as prepared statements on a mysql2 connection (the pool's, or the transaction's
 * own; see mysqlSender): Sequelize's per-query work (building SQL, cloning options, model instances) was most of
 * their CPU. On SQLite they go through Sequelize with replacements. SQL here is built from definitions,
 * never from input.
 */
function statementsFor(sequelize: Sequelize): Statements {
  let found = statements.get(sequelize)
  if (found) return found
  if (sequelize.getDialect() === 'mysql') {
    const manager = connectionManager(sequelize)
    const execute = mysqlSender(sequelize)
    const onPool = async <T>(sql: string, params: readonly unknown[], type: 'read' | 'write') => {
      const connection = await manager.getConnection({ type })
      try {
        return await execute<T>(connection, sql, params)
      } finally {
        await manager.releaseConnection(connection)
      }
    }
    found = {
      read: (sql, params) => onPool<Row[]>(sql, params, 'read'),
      async write(sql, params, transaction) {
        const connection = (transaction as unknown as { connection?: Mysql2Connection } | undefined)?.connection
        const result = await (connection
          ? execute<{ affectedRows: number }>(connection, sql, params)
          : onPool<{ affectedRows: number }>(sql, params, 'write'))
        return result.affectedRows
      },
    }
  } else {
    found = {
      read: (sql, params) => sequelize.query<Row>(sql, { replacements: [...params], type: QueryTypes.SELECT }),
      // BULKUPDATE for every write: Sequelize's SQLite query then answers the rows changed, whatever the statement.
      write: (sql, params, transaction) => sequelize.query(sql, { replacements: [...params], transaction, type: QueryTypes.BULKUPDATE }),
    }
  }
  statements.set(sequelize, found)
  return found
}

/** The hot reads' SELECTs (see statementsFor). */
export const readerFor = (sequelize: Sequelize): Reader => statementsFor(sequelize).read

/** The hot writes' statements (see statementsFor). */
export function writerFor(sequelize: Sequelize): Writer {
  const { write } = statementsFor(sequelize)
  const dialect = dialectOf(sequelize)
  const value = (v: unknown) => (v instanceof Date ? sqlInstant(dialect, v) : v)
  return (sql, params, transaction) => {
    if (writes.hasSubscribers) writes.publish({ sql, transaction } satisfies WriteMessage)
    return write(sql, params.map(value), transaction)
  }
}

/**
 * A table as a hot read names it after FROM: through `index` (MySQL `FORCE INDEX`, SQLite `INDEXED BY`)
 * when the database has it, so the plan is the index's whatever the statistics say; plain when the
 * start found it missing (`DB_SYNC=safe` before `schema apply`): slower, never refused.
 */
export function tableThrough(db: { dialect: SqlDialect; schema: { missing: readonly string[] } }, table: string, index: string): string {
  if (db.schema.missing.includes(`index ${table}.${index}`)) return `\`${table}\``
  return db.dialect === 'mysql' ? `\`${table}\` FORCE INDEX (\`${index}\`)` : `\`${table}\` INDEXED BY \`${index}\``
}
