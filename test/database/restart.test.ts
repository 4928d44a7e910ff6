import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import {
  REFERENCE_TABLES,
  SCM_TABLE,
  connectRepository,
  readiness,
  rowCount,
  schemaSnapshot,
  tableNames,
  OWNED_TABLES,
} from '../helpers/schema.js'

eachDatabase(t, async (t, db) => {
  t.test('three restarts with DB_SYNC=alter leave the schema byte-identical and keep every row', async (t) => {
    const first = await startApp(t, db, { DB_SYNC: 'alter' })
    const { tenantId, ownerId } = await first.tenant()
    const created = await connectRepository(first, tenantId, ownerId)
    await first.app.close()

    t.same(await tableNames(db), [...REFERENCE_TABLES, ...OWNED_TABLES].sort(), 'the reference tables and one table per kind exist')
    const schema = await schemaSnapshot(db)
    const tables = [...REFERENCE_TABLES, ...OWNED_TABLES]
    const counts = await Promise.all(tables.map((table) => rowCount(db, table)))
    t.same(counts, [1, 1, 1, 1], 'an account, its tenant, its membership, an integration')
    const row = await db.query(`SELECT * FROM ${SCM_TABLE}`)

    for (const round of [1, 2, 3]) {
      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(h.app.db.schema, { missing: [], applied: [] }, `restart ${round} found nothing to add`)
      t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] }, `restart ${round} is ready`)
      const got = await h.app.inject({
        url: `/api/v1/integrations/scm/${created.id}`,
        headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
      })
      t.equal(got.statusCode, 200, `restart ${round} still serves the integration`)
      t.equal(got.json().repositoryUrl, created.repositoryUrl)
      await h.app.close()

      t.equal(await schemaSnapshot(db), schema, `schema after restart ${round} is byte-identical`)
      t.same(await Promise.all(tables.map((table) => rowCount(db, table))), counts, `row counts after restart ${round}`)
      t.same(await db.query(`SELECT * FROM ${SCM_TABLE}`), row, `the integration row after restart ${round} is unchanged`)
    }
  })
})
