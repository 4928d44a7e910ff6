import t from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { startApp } from '../../helpers/app.js'
import { eachDatabase } from '../../helpers/databases.js'
import { schemaCli, startServer, waitReady, within } from '../../helpers/processes.js'
import { SCM_TABLE, insertIntegration, readiness, rowCount, schemaSnapshot, tableNames } from '../../helpers/schema.js'

const DROPPED_TABLE = KINDS.find((k) => k.segment === 'test-management')!.tableName
const MISSING = [`column ${SCM_TABLE}.verificationError`, `index ${SCM_TABLE}.idx_scm_tenant`, `table ${DROPPED_TABLE}`]

// Server processes and CLI runs per database: more than the default file timeout on a busy machine.
t.setTimeout(180_000)

eachDatabase(t, async (t, db) => {
  const first = await startApp(t, db)
  const { tenantId, ownerId } = await first.tenant()
  for (const kind of KINDS) await insertIntegration(first.app, kind, tenantId, ownerId)
  await first.app.close()
  await db.query(`DROP TABLE ${DROPPED_TABLE}`)
  await db.query(db.dialect === 'mysql' ? `ALTER TABLE ${SCM_TABLE} DROP INDEX idx_scm_tenant` : 'DROP INDEX idx_scm_tenant')
  await db.query(`ALTER TABLE ${SCM_TABLE} DROP COLUMN verificationError`)
  const damaged = await schemaSnapshot(db)

  t.test('with DB_SYNC=off, /health/ready answers 503 naming each missing table, column and index', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'off' })
    const ready = await readiness(h.app)
    t.equal(ready.statusCode, 503, 'not ready')
    t.same(
      { ...ready.body, missing: [...(ready.body.missing ?? [])].sort() },
      { status: 'unavailable', database: 'up', missing: MISSING },
      'the database is up; the schema lacks these',
    )
    t.same((await h.app.inject({ url: '/health/live' })).statusCode, 200, 'while the process itself is live')
    t.same(h.app.db.schema.applied, [], 'off applied nothing')
    await h.app.close()
    t.equal(await schemaSnapshot(db), damaged, 'and changed nothing')
  })

  t.test('a server with DB_SYNC=off turns ready after apply and a restart', async (t) => {
    const before = await startServer(t, db, { DB_SYNC: 'off' })
    t.equal(await waitReady(before, 60_000, () => true), 503, 'over HTTP, the running server is not ready')
    const body = (await (await fetch(`http://127.0.0.1:${before.port}/health/ready`)).json()) as { missing: string[] }
    t.same([...body.missing].sort(), MISSING, 'and names what is missing')
    before.child.kill('SIGTERM')
    t.equal((await within(before.exited, 30_000, 'SIGTERM shutdown')).code, 0, 'it stops cleanly')

    const apply = await schemaCli(t, db, 'apply')
    t.equal(apply.code, 0, 'apply succeeds')
    t.same(
      apply.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .sort(),
      MISSING,
      'and adds exactly what was missing',
    )
    t.ok((await tableNames(db)).includes(DROPPED_TABLE), 'the dropped table is back')
    t.equal(await rowCount(db, SCM_TABLE), 1, 'the SCM row kept')

    const after = await startServer(t, db, { DB_SYNC: 'off' })
    t.equal(await waitReady(after, 60_000), 200, 'restarted, still with DB_SYNC=off, it is ready')
    const ready = await (await fetch(`http://127.0.0.1:${after.port}/health/ready`)).json()
    t.same(ready, { status: 'ok', database: 'up', missing: [] }, 'naming nothing missing')
    after.child.kill('SIGTERM')
    t.equal((await within(after.exited, 30_000, 'SIGTERM shutdown')).code, 0, 'and stops cleanly')
  })
})
