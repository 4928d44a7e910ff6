import mysql from 'mysql2/promise'
import t from 'tap'
import { createSequelize } from '../../../src/db/database.js'
import { KINDS } from '../../../src/kinds/index.js'
import { prepareSchema } from '../../../src/db/migrate/engine.js'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js'
import { schemaCli, startServer, waitReady, within, type ServerProcess } from '../../helpers/processes.js'
import { ALL_TABLES, REFERENCE_TABLES, SERVICE_TABLES, schemaSnapshot, tableEntries, tableNames } from '../../helpers/schema.js'

const REPLICAS = 4
// Five server processes compiling the sources at once: more than the default file timeout on a busy machine.
t.setTimeout(240_000)

/** Takes the schema lock of a database the way a replica applying changes would; runs SQL under it until released. */
async function holdSchemaLock(db: TestDatabase) {
  const conn = await mysql.createConnection({ uri: db.url, multipleStatements: true })
  const [rows] = await conn.query("SELECT GET_LOCK(CONCAT('delivr-integrations.schema.', DATABASE()), 0) AS got")
  if (Number((rows as { got: number }[])[0]!.got) !== 1) throw new Error('could not take the schema lock')
  return { run: (sql: string) => conn.query(sql), release: () => conn.end() }
}

/** Stops every server with SIGTERM and returns how each exited. */
async function stopAll(servers: ServerProcess[]) {
  for (const server of servers) server.child.kill('SIGTERM')
  return within(Promise.all(servers.map((s) => s.exited)), 30_000, 'SIGTERM shutdown')
}

if (!testDialects().includes('mysql')) {
  t.plan(0, 'replicas share one MySQL database under its advisory lock; SQLite assumes a single process')
} else {
  t.test(`${REPLICAS} processes started at once on an empty MariaDB database all become ready with one schema`, async (t) => {
    const shared = await createTestDatabase(t, 'mysql')
    const alone = await createTestDatabase(t, 'mysql')
    // Production, as replicas run: DB_SYNC defaults to safe.
    const env = { NODE_ENV: 'production' }
    const replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startServer(t, shared, env)))
    const single = await startServer(t, alone, env)

    const statuses = await Promise.all([...replicas, single].map((s) => waitReady(s, 120_000)))
    t.same(statuses, Array(REPLICAS + 1).fill(200), 'every replica and the single process answer /health/ready with 200')

    const applied = replicas.map((r) => r.logs().filter((l) => l.msg === 'schema brought up to date'))
    t.equal(applied.flat().length, 1, 'exactly one replica logs that it brought the schema up to date')
    t.same(applied.flat()[0]?.applied, tableEntries([...REFERENCE_TABLES, ...SERVICE_TABLES]), 'and it created every table, once')
    t.same(
      replicas.flatMap((r) => r.logs().filter((l) => l.level >= 40)).map((l) => l.msg),
      [],
      'no replica warned or failed: the others waited, re-planned and found nothing',
    )
    t.same(
      single.logs().filter((l) => l.msg === 'schema brought up to date').length,
      1,
      'the single process on its own database did the same work',
    )

    const exits = await stopAll([...replicas, single])
    t.same(
      exits.map((e) => ({ code: e.code, signal: e.signal })),
      Array(REPLICAS + 1).fill({ code: 0, signal: null }),
      'every process exits 0 on SIGTERM',
    )
    t.same(
      exits.map((e) => e.stderr),
      Array(REPLICAS + 1).fill(''),
      'and wrote nothing to stderr',
    )

    t.same(await tableNames(shared), ALL_TABLES, 'the shared database has every table once')
    t.equal(await schemaSnapshot(shared), await schemaSnapshot(alone), "SHOW CREATE TABLE and every index list equal a single start's")
  })

  t.test('a start waits while another instance holds the lock and applies the plan, then finds nothing to do', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    const lock = await holdSchemaLock(db)
    let settled = false
    const starting = startApp(t, db, { DB_SYNC: 'alter' }).finally(() => (settled = true))
    const plan = await schemaCli(t, db, 'plan')
    t.equal(plan.code, 0, 'plan does not wait for the lock')
    t.notOk(settled, 'the start is still waiting')
    t.same(await tableNames(db), [], 'and has created nothing')
    await lock.run(plan.stdout)
    await lock.release()
    const h = await within(starting, 30_000, 'the start after the lock was released')
    t.same(h.app.db.schema, { missing: [], applied: [], review: [] }, 'it re-planned under the lock and found everything in place')
    t.same(await tableNames(db), ALL_TABLES, 'every table, as the plan created them')
  })

  t.test('a start that cannot get the lock in time fails with a clear error and changes nothing', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    const lock = await holdSchemaLock(db)
    t.teardown(lock.release)
    const sequelize = createSequelize({ dialect: 'mysql', url: db.url, name: db.name, sync: 'alter', poolMax: 2 })
    t.teardown(() => sequelize.close())
    const quiet = { info: () => {}, warn: () => {} }
    await t.rejects(prepareSchema(sequelize, KINDS, 'alter', quiet, 1), {
      name: 'SchemaLockTimeout',
      message: /Another instance held the schema lock for 1s; not starting/,
    })
    t.same(await tableNames(db), [], 'no table was created')
  })
}
