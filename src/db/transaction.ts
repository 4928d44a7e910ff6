import { Transaction, type Sequelize } from 'sequelize'

/** Runs `work` in one database transaction: committed when it resolves, rolled back when it throws. */
export type TransactionRunner = <T>(work: (transaction: Transaction) => Promise<T>) => Promise<T>

/** How long a SQLite connection waits for another's write lock before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000

interface SqliteConnection {
  configure(option: 'busyTimeout', value: number): void
}

/**
 * MySQL: Sequelize's transaction on a pooled connection. SQLite: Sequelize opens a connection of its own per
 * transaction, so transactions take turns in this process (one writer at a time is all SQLite allows anyway) and
 * begin IMMEDIATE, holding the write lock from the start: none waits to upgrade a read lock while another holds one.
 */
export function transactionRunner(sequelize: Sequelize): TransactionRunner {
  if (sequelize.getDialect() !== 'sqlite') return (work) => sequelize.transaction((transaction) => work(transaction))
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
