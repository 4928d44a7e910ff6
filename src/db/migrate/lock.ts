import type { Sequelize } from 'sequelize'

interface RawConnection {
  query(sql: string, values: unknown[], callback: (err: Error | null, rows: unknown) => void): void
}

interface ConnectionManager {
  getConnection(options: { type: 'read' | 'write' }): Promise<RawConnection>
  releaseConnection(connection: RawConnection): Promise<void>
}

export class SchemaLockTimeout extends Error {
  constructor(seconds: number) {
    super(`Another instance held the schema lock for ${seconds}s; not starting (retry, or check for a stuck migration)`)
    this.name = 'SchemaLockTimeout'
  }
}

/**
 * Runs `fn` while holding a MySQL advisory lock named for this database, so that of several
 * instances starting at once exactly one changes the schema and the others wait, then find
 * nothing to do. The lock lives on a connection of its own; `fn` uses the pool.
 */
export async function withSchemaLock<T>(sequelize: Sequelize, timeoutSeconds: number, fn: () => Promise<T>): Promise<T> {
  const manager = (sequelize as unknown as { connectionManager: ConnectionManager }).connectionManager
  const connection = await manager.getConnection({ type: 'write' })
  const query = (sql: string, values: unknown[]) =>
    new Promise<Record<string, unknown>[]>((resolve, reject) =>
      connection.query(sql, values, (err, rows) => (err ? reject(err) : resolve(rows as Record<string, unknown>[]))),
    )
  const name = "CONCAT('delivr-integrations.schema.', DATABASE())"
  try {
    const [row] = await query(`SELECT GET_LOCK(${name}, ?) AS got`, [timeoutSeconds])
    if (Number(row?.got) !== 1) throw new SchemaLockTimeout(timeoutSeconds)
    try {
      return await fn()
    } finally {
      await query(`SELECT RELEASE_LOCK(${name})`, [])
    }
  } finally {
    await manager.releaseConnection(connection)
  }
}
