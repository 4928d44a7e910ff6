import { Transaction, type Sequelize } from 'sequelize'
import { connectionManager, mysqlSender, type Mysql2Connection } from './mysql-connection.js'

/** Runs `work` in one database transaction: committed when it resolves, rolled back when it throws. */
export type TransactionRunner = <T>(work: (transaction: Transaction) => Promise<T>) => Promise<T>

/** How long a SQLite connection waits for another's write lock before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000

interface SqliteConnection {
  configure(option: 'busyTimeout', value: number): void
}

/**
 * MySQL: one pooled connection, `START TRANSACTION`, the work, `COMMIT` (or `ROLLBACK` when it throws), sent on the
 * connection itself. The work gets a Sequelize Transaction bound to that connection, so every statement in it (the hot
 * paths' prepared statements, see ../db/reader.ts, and any Sequelize query or model call) runs in it. Sequelize's own
 * `sequelize.transaction()` did the same with two more trips through its query path, a quarter of a write's CPU.
 * A connection whose ROLLBACK or COMMIT failed is in a state nobody knows: it is destroyed, not returned to the pool.
 *
 * SQLite: Sequelize opens a connection of its own per transaction, so transactions take turns in this process (one
 * writer at a time is all SQLite allows anyway) and begin IMMEDIATE, holding the write lock from the start: none waits
 * to upgrade a read lock while another holds one.
 */
export function transactionRunner(sequelize: Sequelize): TransactionRunner {
  return sequelize.getDialect() === 'sqlite' ? sqliteTransactions(sequelize) : mysqlTransactions(sequelize)
}

function mysqlTransactions(sequelize: Sequelize): TransactionRunner {
  const manager = connectionManager(sequelize)
  const sender = mysqlSender(sequelize)
  const send = (connection: Mysql2Connection, sql: 'START TRANSACTION' | 'COMMIT' | 'ROLLBACK') => sender<void>(connection, sql)
  return async <T>(work: (transaction: Transaction) => Promise<T>) => {
    const transaction = new Transaction(sequelize, {})
    const connection = await manager.getConnection({ type: 'write' })
    // As Sequelize marks a connection its transaction holds.
    connection.uuid = (transaction as unknown as { id: string }).id
    ;(transaction as unknown as { connection: Mysql2Connection }).connection = connection
    /** Ends the transaction: its connection back to the pool when its state is known, destroyed when it is not. */
    const end = async (state: 'commit' | 'rollback', known: boolean) => {
      ;(transaction as unknown as { finished: string }).finished = state
      connection.uuid = undefined
      await (known ? manager.releaseConnection(connection) : manager.destroyConnection(connection).catch(() => {}))
    }
    try {
      await send(connection, 'START TRANSACTION')
    } catch (err) {
      await end('rollback', false)
      throw err
    }
    let result: T
    try {
      result = await work(transaction)
    } catch (err) {
      const rolledBack = await send(connection, 'ROLLBACK').then(
        () => true,
        () => false,
      )
      await end('rollback', rolledBack)
      throw err
    }
    try {
      await send(connection, 'COMMIT')
    } catch (err) {
      await end('rollback', false)
      throw err
    }
    await end('commit', true)
    return result
  }
}

function sqliteTransactions(sequelize: Sequelize): TransactionRunner {
  let turn: Promise<unknown> = Promise.resolve()
  return <T>(work: (transaction: Transaction) => Promise<T>) => {
    const run = turn.then(() =>
      sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, (transaction) => {
        ;(transaction as unknown as { connection: SqliteConnection }).connection.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS)
        return work(transaction)
      }),
    )
    turn = run.catch(() => undefined)
    return run
  }
}

/** The shared SQLite connection waits for a transaction's lock instead of failing at once with SQLITE_BUSY. */
export async function waitForSqliteLocks(sequelize: Sequelize): Promise<void> {
  if (sequelize.getDialect() !== 'sqlite') return
  const manager = (sequelize as unknown as { connectionManager: { getConnection(o: object): Promise<SqliteConnection> } }).connectionManager
  ;(await manager.getConnection({})).configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS)
}
