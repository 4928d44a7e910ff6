import t from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import {
  ALL_TABLES,
  SCM_TABLE,
  connectRepository,
  insertIntegration,
  readiness,
  rowCounts,
  schemaSnapshot,
  tableNames,
  tableRows,
} from '../helpers/schema.js'

eachDatabase(t, async (t, db) => {
  t.test('three restarts with DB_SYNC=alter leave the schema byte-identical and keep every row of every table', async (t) => {
    const first = await startApp(t, db, { DB_SYNC: 'alter' })
    const { tenantId, ownerId } = await first.tenant()
    const created = await connectRepository(first, tenantId, ownerId)
    // One integration of every kind: the repository above, a row of each other kind.
    const integrations = [{ kind: 'scm', id: created.id }]
    for (const kind of KINDS.filter((k) => k.tableName !== SCM_TABLE)) {
      integrations.push({ kind: kind.segment, id: await insertIntegration(first.app, kind, tenantId, ownerId) })
    }
    await first.app.close()

    t.same(await tableNames(db), ALL_TABLES, 'the reference tables and one table per kind exist')
    const schema = await schemaSnapshot(db)
    const counts = await rowCounts(db, ALL_TABLES)
    t.same(
      counts,
      Object.fromEntries(ALL_TABLES.map((table) => [table, 1])),
      'an account, its tenant, its membership, an integration of every kind',
    )
    const rows = await tableRows(db, ALL_TABLES)

    for (const round of [1, 2, 3]) {
      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(h.app.db.schema, { missing: [], applied: [], review: [] }, `restart ${round} found nothing to add or review`)
      t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] }, `restart ${round} is ready`)
      const authorization = `Bearer ${await h.userToken(ownerId)}`
      for (const { kind, id } of integrations) {
        const got = await h.app.inject({ url: `/api/v1/integrations/${kind}/${id}`, headers: { authorization } })
        t.equal(got.statusCode, 200, `restart ${round} still serves the ${kind} integration`)
        t.equal(got.json().id, id)
        if (kind === 'scm') t.equal(got.json().repositoryUrl, created.repositoryUrl)
      }
      await h.app.close()

      t.equal(await schemaSnapshot(db), schema, `schema after restart ${round} is byte-identical`)
      t.same(await rowCounts(db, ALL_TABLES), counts, `row counts after restart ${round}`)
      t.same(await tableRows(db, ALL_TABLES), rows, `every row of every table after restart ${round} is unchanged`)
    }
  })
})
