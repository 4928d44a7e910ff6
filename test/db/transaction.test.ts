import diagnostics from 'node:diagnostics_channel'
import t from 'tap'
import { UniqueConstraintError } from 'sequelize'
import type { DatabaseConfig } from '../../src/config/load-config.js'
import { createSequelize } from '../../src/db/database.js'
import { readerFor, writerFor, writes, type WriteMessage } from '../../src/db/reader.js'
import { transactionRunner } from '../../src/db/transaction.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'

// The runner every write goes through (src/db/transaction.ts) and the statements it runs (src/db/reader.ts): on MySQL
// its own START TRANSACTION / COMMIT / ROLLBACK on one pooled connection, on SQLite Sequelize's transactions.

const POOL_MAX = 2

function configFor(db: TestDatabase): DatabaseConfig {
  const common = { name: db.name, sync: 'safe' as const, poolMax: POOL_MAX, acquireTimeoutMs: 3_000 }
  return db.dialect === 'mysql'
    ? { ...common, dialect: 'mysql', url: db.url }
    : { ...common, dialect: 'sqlite', url: db.url, storage: db.name }
}

async function setUp(t: Parameters<Parameters<typeof eachDatabase>[1]>[0], db: TestDatabase) {
  const sequelize = createSequelize(configFor(db))
  t.teardown(() => sequelize.close())
  // Each test starts from an empty table of its own.
  await sequelize.query('DROP TABLE IF EXISTS tx_rows')
  await sequelize.query('CREATE TABLE tx_rows (id VARCHAR(36) NOT NULL PRIMARY KEY, n INTEGER NOT NULL)')
  const write = writerFor(sequelize)
  const read = readerFor(sequelize)
  const ids = async () => (await read('SELECT id FROM tx_rows ORDER BY id', [])).map((r) => r.id)
  return { sequelize, transaction: transactionRunner(sequelize), write, ids }
}

const INSERT = 'INSERT INTO tx_rows (id, n) VALUES (?, ?)'

eachDatabase(t, async (t, db) => {
  t.test('commits what the work wrote and answers what it answered', async (t) => {
    const { transaction, write, ids } = await setUp(t, db)
    const answer = await transaction(async (tx) => {
      t.equal(await write(INSERT, ['a', 1], tx), 1, 'one row written')
      t.equal(await write('UPDATE tx_rows SET n = n + 1 WHERE id = ?', ['a'], tx), 1, 'one row changed')
      t.equal(await write('UPDATE tx_rows SET n = n + 1 WHERE id = ?', ['none'], tx), 0, 'no row changed')
      return 'done'
    })
    t.equal(answer, 'done')
    t.same(await ids(), ['a'])
  })

  t.test('rolls back everything when the work throws, and throws its error', async (t) => {
    const { transaction, write, ids } = await setUp(t, db)
    const thrown = new Error('the work failed')
    await t.rejects(
      transaction(async (tx) => {
        await write(INSERT, ['b', 1], tx)
        throw thrown
      }),
      thrown,
    )
    t.same(await ids(), [], 'nothing stored')
  })

  t.test('a duplicate key inside is a UniqueConstraintError and leaves nothing of the transaction', async (t) => {
    const { transaction, write, ids } = await setUp(t, db)
    await write(INSERT, ['a', 1])
    await t.rejects(
      transaction(async (tx) => {
        await write(INSERT, ['c', 1], tx)
        await write(INSERT, ['a', 2], tx)
      }),
      UniqueConstraintError,
    )
    t.same(await ids(), ['a'], 'the row before, not the transaction’s first row')
  })

  t.test('failed transactions give their connections back: more of them than the pool holds, then one commits', async (t) => {
    const { transaction, write, ids } = await setUp(t, db)
    for (let i = 0; i < POOL_MAX * 3; i++) {
      await t.rejects(
        transaction(async (tx) => {
          await write(INSERT, [`x${i}`, i], tx)
          throw new Error(`failure ${i}`)
        }),
      )
    }
    await transaction((tx) => write(INSERT, ['ok', 1], tx))
    t.same(await ids(), ['ok'])
  })

  t.test('publishes each statement with its transaction, never its values', async (t) => {
    const { transaction, write } = await setUp(t, db)
    const seen: WriteMessage[] = []
    const listen = (message: unknown) => seen.push(message as WriteMessage)
    diagnostics.subscribe(writes.name, listen)
    t.teardown(() => diagnostics.unsubscribe(writes.name, listen))
    let inside: unknown
    await transaction(async (tx) => {
      inside = tx
      await write(INSERT, ['secret-value', 1], tx)
    })
    await write(INSERT, ['outside', 2])
    t.same(
      seen.map((m) => [m.sql, m.transaction === inside, m.transaction === undefined]),
      [
        [INSERT, true, false],
        [INSERT, false, true],
      ],
    )
    t.same(
      seen.map((m) => Object.keys(m).sort()),
      [
        ['sql', 'transaction'],
        ['sql', 'transaction'],
      ],
      'the statement and its transaction only: no values (they include ciphertexts)',
    )
  })

  if (db.dialect === 'mysql') {
    t.test('the statements run inside the transaction: another connection sees nothing before COMMIT', async (t) => {
      const { transaction, write, ids } = await setUp(t, db)
      await transaction(async (tx) => {
        await write(INSERT, ['pending', 1], tx)
        t.same(await db.query("SELECT id FROM tx_rows WHERE id = 'pending'"), [], 'not visible outside yet')
      })
      t.same(await ids(), ['pending'], 'visible once committed')
    })

    t.test('a connection lost inside the transaction fails it and is not handed out again', async (t) => {
      const { sequelize, transaction, write, ids } = await setUp(t, db)
      await t.rejects(
        transaction(async (tx) => {
          await write(INSERT, ['lost', 1], tx)
          const [[{ id }]] = (await sequelize.query('SELECT CONNECTION_ID() AS id', { transaction: tx })) as [[{ id: number }], unknown]
          await db.query(`KILL ${id}`)
          await write(INSERT, ['after', 1], tx)
        }),
      )
      t.same(await ids(), [], 'nothing of it stored')
      for (let i = 0; i < POOL_MAX + 1; i++) await transaction((tx) => write(INSERT, [`next${i}`, i], tx))
      t.same(await ids(), ['next0', 'next1', 'next2'], 'later transactions run on live connections')
    })
  }
})
