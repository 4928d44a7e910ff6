import { DatabaseError, QueryTypes, type Sequelize } from 'sequelize'

export type Row = Record<string, unknown>
export type Reader = (sql: string, params: readonly unknown[]) => Promise<Row[]>

interface Mysql2Connection {
  execute(sql: string, params: readonly unknown[], callback: (err: Error | null, rows: unknown) => void): void
}
interface ConnectionManager {
  getConnection(options: { type: 'read' | 'write' }): Promise<Mysql2Connection>
  releaseConnection(connection: Mysql2Connection): Promise<void>
}

const readers = new WeakMap<Sequelize, Reader>()

/**
 * SELECTs for the hot read paths (role lookup, one integration, a page). On MySQL they run as
 * prepared statements on a pooled mysql2 connection: Sequelize's per-query work (building SQL,
 * cloning options, model instances) is most of a read's CPU. On SQLite they go through
 * Sequelize with replacements. SQL here is built from definitions, never from input.
 */
export function readerFor(sequelize: Sequelize): Reader {
  let reader = readers.get(sequelize)
  if (reader) return reader
  if (sequelize.getDialect() === 'mysql') {
    const manager = (sequelize as unknown as { connectionManager: ConnectionManager }).connectionManager
    reader = async (sql, params) => {
      const connection = await manager.getConnection({ type: 'read' })
      try {
        return await new Promise<Row[]>((resolve, reject) =>
          connection.execute(sql, params, (err, rows) =>
            // Wrapped as Sequelize would, so errors are classified (and the breaker told) in one place.
            err ? reject(new DatabaseError(Object.assign(err, { sql }))) : resolve(rows as Row[]),
          ),
        )
      } finally {
        await manager.releaseConnection(connection)
      }
    }
  } else {
    reader = (sql, params) => sequelize.query<Row>(sql, { replacements: [...params], type: QueryTypes.SELECT })
  }
  readers.set(sequelize, reader)
  return reader
}

/**
 * A table as a hot read names it after FROM: through `index` (MySQL `FORCE INDEX`, SQLite `INDEXED BY`)
 * when the database has it, so the plan is the index's whatever the statistics say; plain when the
 * start found it missing (`DB_SYNC=safe` before `schema apply`): slower, never refused.
 */
export function tableThrough(
  db: { dialect: 'mysql' | 'sqlite'; schema: { missing: readonly string[] } },
  table: string,
  index: string,
): string {
  if (db.schema.missing.includes(`index ${table}.${index}`)) return `\`${table}\``
  return db.dialect === 'mysql' ? `\`${table}\` FORCE INDEX (\`${index}\`)` : `\`${table}\` INDEXED BY \`${index}\``
}
