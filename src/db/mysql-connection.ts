import type { Sequelize } from 'sequelize'

/** The parts of a pooled mysql2 connection (as Sequelize's pool hands it out) the hot paths use. */
export interface Mysql2Connection {
  execute(sql: string, params: readonly unknown[], callback: (err: Error | null, result: unknown) => void): void
  query(sql: string, callback: (err: Error | null) => void): void
  /** Set while a transaction holds the connection, as Sequelize marks it. */
  uuid?: string
}

/** Sequelize's MySQL connection manager: its pool. */
export interface ConnectionManager {
  getConnection(options: { type: 'read' | 'write' }): Promise<Mysql2Connection>
  releaseConnection(connection: Mysql2Connection): Promise<void>
  destroyConnection(connection: Mysql2Connection): Promise<void>
}

/** Sequelize's MySQL query class: only its error classification is used. */
type QueryClass = new (connection: unknown, sequelize: Sequelize, options: object) => { formatError(err: Error): Error }

/** The pool behind a MySQL Sequelize instance. */
export const connectionManager = (sequelize: Sequelize) =>
  (sequelize as unknown as { connectionManager: ConnectionManager }).connectionManager

/**
 * Sends one statement on `connection` (a prepared statement with `params`, or text without), with a failure
 * classified by Sequelize's own MySQL rules: a duplicate key is a UniqueConstraintError, a lost connection a
 * DatabaseError with its cause. The error handler and the database breaker see what any Sequelize query gives them.
 */
export function mysqlSender(sequelize: Sequelize) {
  const Query = (sequelize as unknown as { dialect: { Query: QueryClass } }).dialect.Query
  return <T>(connection: Mysql2Connection, sql: string, params?: readonly unknown[]) => {
    // No stack is captured where the statement was sent from (as Sequelize does): capturing one for every statement
    // was 5 % of a write's CPU. A failure carries mysql2's stack and names its statement (`sql`).
    return new Promise<T>((resolve, reject) => {
      const done = (err: Error | null, result?: unknown) =>
        err ? reject(new Query(connection, sequelize, {}).formatError(Object.assign(err, { sql }))) : resolve(result as T)
      if (params) connection.execute(sql, params, done)
      else connection.query(sql, done)
    })
  }
}
