import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { REFERENCE_TABLES, SCM_TABLE, connectRepository, readiness, rowCount, tableDefinition } from '../helpers/schema.js'

eachDatabase(t, async (t, db) => {
  const first = await startApp(t, db)
  const { tenantId, ownerId } = await first.tenant()
  const member = await first.account({ [tenantId]: 'Viewer' })
  await connectRepository(first, tenantId, ownerId, 'acme/one')
  await connectRepository(first, tenantId, ownerId, 'acme/two')
  await first.app.close()
  const scmDefinition = await tableDefinition(db, SCM_TABLE)
  const referenceRows = async () => Promise.all(REFERENCE_TABLES.map((table) => db.query(`SELECT * FROM ${table} ORDER BY id`)))
  const before = await referenceRows()

  t.test('DB_SYNC=force is refused with NODE_ENV=production and touches nothing', async (t) => {
    await t.rejects(startApp(t, db, { NODE_ENV: 'production', DB_SYNC: 'force' }), { message: /DB_SYNC=force/ })
    t.equal(await rowCount(db, SCM_TABLE), 2, 'the integrations are still there')
  })

  t.test('DB_SYNC=force recreates owned tables empty and never drops the reference tables', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'force' })
    t.ok(
      h.logs.some((line) => line.includes('DB_SYNC=force dropped owned tables') && line.includes(SCM_TABLE)),
      'the drop is logged as a warning naming the table',
    )
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] })
    await h.app.close()

    t.equal(await rowCount(db, SCM_TABLE), 0, 'the integrations are gone')
    t.equal(await tableDefinition(db, SCM_TABLE), scmDefinition, 'the table came back with the same definition')
    t.same(await referenceRows(), before, 'accounts, tenants and collaborators kept every row')
    t.equal((await db.query(`SELECT id FROM accounts WHERE id = '${member}'`)).length, 1)

    const again = await startApp(t, db, { DB_SYNC: 'alter' })
    await t.resolves(connectRepository(again, tenantId, ownerId, 'acme/one'), 'the same repository can be connected again')
  })
})
