import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { createTestDatabase, eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { startApp, type TestApp } from '../helpers/app.js'
import { schemaCli, startServer, waitReady, within } from '../helpers/processes.js'
import {
  SCM_TABLE,
  connectRepository,
  insertIntegration,
  readiness,
  rowCount,
  schemaCommand,
  schemaSnapshot,
  tableNames,
} from '../helpers/schema.js'

interface LogLine {
  level: number
  msg?: string
  req?: { url?: string }
  reqId?: string
}

const INFO = 30
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as LogLine)

const DROPPED_TABLE = KINDS.find((k) => k.segment === 'test-management')!.tableName
const MISSING = [`column ${SCM_TABLE}.verificationError`, `index ${SCM_TABLE}.idx_scm_tenant`, `table ${DROPPED_TABLE}`]
/** Readiness reads the live tables at most once a second: a change shows well within this. */
const NOTICED_WITHIN_MS = 5_000

/** Polls readiness until it answers `status`; returns the answer and how long that took. */
async function readinessBecomes(h: TestApp, status: number) {
  const started = Date.now()
  for (;;) {
    const ready = await readiness(h.app)
    if (ready.statusCode === status || Date.now() - started > NOTICED_WITHIN_MS) return { ...ready, ms: Date.now() - started }
    await sleep(50)
  }
}

function dropIndex(db: TestDatabase, index: string) {
  return db.query(db.dialect === 'mysql' ? `ALTER TABLE ${SCM_TABLE} DROP INDEX ${index}` : `DROP INDEX ${index}`)
}

// Server processes and CLI runs per database: more than the default file timeout on a busy machine.
t.setTimeout(240_000)

eachDatabase(t, async (t, db) => {
  // Tests that damage the schema get a database of their own.
  const ownDatabase = (t: Test) => createTestDatabase(t, db.dialect)

  t.test('answers liveness without a token', async (t) => {
    const h = await startApp(t, db)
    const res = await h.app.inject({ url: '/health/live' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok' })
  })

  t.test('answers readiness without a token when the database is up and the schema in place', async (t) => {
    const h = await startApp(t, db)
    const res = await h.app.inject({ url: '/health/ready' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok', database: 'up', missing: [] })
  })

  t.test('writes no info line per health request, unlike API requests', async (t) => {
    const h = await startApp(t, db)
    const before = h.logs.length
    for (const url of ['/health/live', '/health/ready', '/health/live']) {
      t.equal((await h.app.inject({ url })).statusCode, 200, url)
    }
    const healthLines = parse(h.logs.slice(before))
    t.same(healthLines, [], 'health checks log nothing at info')

    // The capture works: an API request logs its incoming and completed lines at info.
    const api = await h.app.inject({ url: '/api/v1/integrations/scm?tenantId=t1' })
    t.equal(api.statusCode, 401)
    const apiLines = parse(h.logs.slice(before)).filter((l) => l.level === INFO && l.reqId === api.headers['x-request-id'])
    t.ok(apiLines.length >= 2, 'an API request writes info lines')
    t.ok(
      apiLines.some((l) => l.req?.url?.startsWith('/api/v1/integrations/scm')),
      'the incoming line names the URL',
    )
  })

  t.test('answers 503 quickly when the database is gone', async (t) => {
    const h = await startApp(t, db)
    await h.app.db.sequelize.close()
    // Closed here on purpose; the app's own close at teardown has nothing left to close.
    h.app.db.close = async () => {}
    const started = Date.now()
    const res = await h.app.inject({ url: '/health/ready' })
    t.ok(Date.now() - started < 5000, 'no hang waiting for the database')
    t.equal(res.statusCode, 503)
    t.match(res.json(), { status: 'unavailable', database: 'down' })

    const live = await h.app.inject({ url: '/health/live' })
    t.equal(live.statusCode, 200, 'liveness does not depend on the database')
  })

  t.test('a table dropped under the running service: not ready within seconds, its routes 503, back once it is recreated', async (t) => {
    const db = await ownDatabase(t)
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    const { tenantId, ownerId } = await h.tenant()
    await connectRepository(h, tenantId, ownerId)
    const authorization = `Bearer ${await h.userToken(ownerId)}`
    const list = (kind: string) => h.app.inject({ url: `/api/v1/integrations/${kind}?tenantId=${tenantId}`, headers: { authorization } })
    t.equal((await readiness(h.app)).statusCode, 200, 'ready before')

    await db.query(`DROP TABLE ${SCM_TABLE}`)
    const down = await readinessBecomes(h, 503)
    t.equal(down.statusCode, 503, 'readiness answers 503')
    t.ok(down.ms < NOTICED_WITHIN_MS, `within seconds (${down.ms} ms)`)
    t.same(down.body, { status: 'unavailable', database: 'up', missing: [`table ${SCM_TABLE}`] }, 'naming the table; the database is up')

    const res = await list('scm')
    t.equal(res.statusCode, 503, 'a route on the table answers 503, not 500')
    t.same(res.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'The database lacks a table this service needs; try again shortly',
      code: 'DATABASE_TABLE_MISSING',
    })
    t.equal(res.headers['retry-after'], '5', 'and says when to retry')
    t.equal((await list('ci-cd')).statusCode, 200, 'routes on the other tables still answer')
    t.equal((await h.app.inject({ url: '/health/live' })).statusCode, 200, 'the process stays live')

    const restarted = await startApp(t, db, { DB_SYNC: 'safe' })
    t.same(restarted.app.db.schema.applied, [`table ${SCM_TABLE}`], 'a start with DB_SYNC=safe recreates it')
    await restarted.app.close()
    const up = await readinessBecomes(h, 200)
    t.equal(up.statusCode, 200, 'the running service is ready again')
    t.ok(up.ms < NOTICED_WITHIN_MS, `within seconds (${up.ms} ms)`)
    t.same(up.body, { status: 'ok', database: 'up', missing: [] })
    const back = await list('scm')
    t.equal(back.statusCode, 200, 'and the route answers')
    t.same(back.json().items, [], 'from the new, empty table')
  })

  t.test('an index or a column dropped under the running service: not ready until schema apply restores it', async (t) => {
    const db = await ownDatabase(t)
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    const { tenantId, ownerId } = await h.tenant()
    const created = await connectRepository(h, tenantId, ownerId)
    const get = async () =>
      h.app.inject({ url: `/api/v1/integrations/scm/${created.id}`, headers: { authorization: `Bearer ${await h.userToken(ownerId)}` } })
    t.equal((await readiness(h.app)).statusCode, 200, 'ready before')

    await dropIndex(db, 'idx_scm_tenant')
    const noIndex = await readinessBecomes(h, 503)
    t.equal(noIndex.statusCode, 503, 'readiness answers 503')
    t.ok(noIndex.ms < NOTICED_WITHIN_MS, `within seconds (${noIndex.ms} ms)`)
    t.same(noIndex.body, { status: 'unavailable', database: 'up', missing: [`index ${SCM_TABLE}.idx_scm_tenant`] }, 'naming the index')
    t.equal((await get()).statusCode, 200, 'the integration is still served: only slower without its index')

    await db.query(`ALTER TABLE ${SCM_TABLE} DROP COLUMN verificationError`)
    const res = await get()
    t.equal(res.statusCode, 503, 'a route reading a dropped column answers 503, not 500')
    t.match(res.json(), { statusCode: 503, code: 'DATABASE_TABLE_MISSING' })
    t.same(
      (await readiness(h.app)).body,
      { status: 'unavailable', database: 'up', missing: [`column ${SCM_TABLE}.verificationError`, `index ${SCM_TABLE}.idx_scm_tenant`] },
      'and readiness, its cache dropped by that failure, names the column at once',
    )

    const apply = await schemaCommand(db, 'apply')
    t.same(
      apply,
      { code: 0, stdout: `Applied:\n  column ${SCM_TABLE}.verificationError\n  index ${SCM_TABLE}.idx_scm_tenant\n` },
      'schema apply restores both',
    )
    const up = await readinessBecomes(h, 200)
    t.equal(up.statusCode, 200, 'the running service is ready again')
    t.ok(up.ms < NOTICED_WITHIN_MS, `within seconds (${up.ms} ms)`)
    t.equal((await get()).statusCode, 200, 'and serves the integration')
  })

  t.test('with DB_SYNC=off, readiness names each missing table, column and index; a server turns ready after apply', async (t) => {
    const db = await ownDatabase(t)
    const first = await startApp(t, db)
    const { tenantId, ownerId } = await first.tenant()
    for (const kind of KINDS) await insertIntegration(first.app, kind, tenantId, ownerId)
    await first.app.close()
    await db.query(`DROP TABLE ${DROPPED_TABLE}`)
    await dropIndex(db, 'idx_scm_tenant')
    await db.query(`ALTER TABLE ${SCM_TABLE} DROP COLUMN verificationError`)
    const damaged = await schemaSnapshot(db)

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
    const readyAfter = await (await fetch(`http://127.0.0.1:${after.port}/health/ready`)).json()
    t.same(readyAfter, { status: 'ok', database: 'up', missing: [] }, 'naming nothing missing')
    after.child.kill('SIGTERM')
    t.equal((await within(after.exited, 30_000, 'SIGTERM shutdown')).code, 0, 'and stops cleanly')
  })
})
