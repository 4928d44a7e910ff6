import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startApp, type TestApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { SCM_TABLE, connectRepository, readiness, schemaCommand } from '../helpers/schema.js'

// README, Schema lifecycle: the keyset index pages walk is additive. A database from before it keeps serving (slower)
// and is not ready until `schema apply` (or a start with DB_SYNC=alter) adds it.

const INDEX = 'idx_scm_tenant_page'
const MISSING = `index ${SCM_TABLE}.${INDEX}`

function dropIndex(db: TestDatabase) {
  return db.query(db.dialect === 'mysql' ? `ALTER TABLE ${SCM_TABLE} DROP INDEX ${INDEX}` : `DROP INDEX ${INDEX}`)
}

/** Readiness reads the live tables at most once a second: polls until it answers `status`. */
async function readinessBecomes(h: TestApp, status: number) {
  const deadline = Date.now() + 5_000
  for (;;) {
    const ready = await readiness(h.app)
    if (ready.statusCode === status || Date.now() > deadline) return ready
    await sleep(50)
  }
}

eachDatabase(t, async (t, db) => {
  const first = await startApp(t, db)
  const { tenantId, ownerId } = await first.tenant()
  const created = await connectRepository(first, tenantId, ownerId)
  await first.app.close()
  await dropIndex(db)

  const pages = async (h: TestApp) => {
    const authorization = `Bearer ${await h.userToken(ownerId)}`
    const list = await h.app.inject({ url: `/api/v1/integrations/scm?tenantId=${tenantId}&scmType=GITHUB`, headers: { authorization } })
    const summary = await h.app.inject({ url: `/api/v1/integrations?tenantId=${tenantId}`, headers: { authorization } })
    return { list, summary }
  }

  t.test('a database from before the keyset index, started with DB_SYNC=safe: served, not ready, until schema apply', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    t.same(h.app.db.schema.missing, [MISSING], 'the start names the missing index')
    t.same((await readiness(h.app)).body, { status: 'unavailable', database: 'up', missing: [MISSING] }, 'and readiness too')
    const { list, summary } = await pages(h)
    t.equal(list.statusCode, 200, 'a page is still served, only without the index')
    t.same(
      list.json().items.map((i: { id: string }) => i.id),
      [created.id],
    )
    t.equal(summary.statusCode, 200, 'and the summary')

    t.same(await schemaCommand(db, 'apply'), { code: 0, stdout: `Applied:\n  ${MISSING}\n` }, 'schema apply adds it')
    t.equal((await readinessBecomes(h, 200)).statusCode, 200, 'and the running service turns ready')
    t.equal((await pages(h)).list.statusCode, 200, 'still serving')
  })

  t.test('the keyset index dropped under a service that walks it: pages answer 503, back once it is recreated', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    t.same(h.app.db.schema.missing, [], 'started with the index in place')
    await dropIndex(db)
    const { list, summary } = await pages(h)
    t.equal(list.statusCode, 503, 'a page answers 503, not 500')
    t.match(list.json(), { statusCode: 503, code: 'DATABASE_TABLE_MISSING' })
    t.equal(list.headers['retry-after'], '5', 'and says when to retry')
    t.equal(summary.statusCode, 503, 'so does the summary')
    t.same((await readiness(h.app)).body, { status: 'unavailable', database: 'up', missing: [MISSING] }, 'readiness names the index')

    const restarted = await startApp(t, db, { DB_SYNC: 'alter' })
    t.same(restarted.app.db.schema.applied, [MISSING], 'a start with DB_SYNC=alter adds it back')
    await restarted.app.close()
    t.equal((await readinessBecomes(h, 200)).statusCode, 200, 'the running service is ready again')
    t.equal((await pages(h)).list.statusCode, 200, 'and serves pages')
  })
})
