import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createTestDatabase, eachDatabase } from '../helpers/databases.js'
import { REFERENCE_TABLES, SCM_TABLE, readiness, schemaSnapshot, tableNames, OWNED_TABLES } from '../helpers/schema.js'

const ALL_TABLES = [...REFERENCE_TABLES, ...OWNED_TABLES].sort()

eachDatabase(t, async (t, db) => {
  t.test('DB_SYNC=off on an empty database creates nothing and is not ready, naming every missing table', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'off' })
    const ready = await readiness(h.app)
    t.equal(ready.statusCode, 503)
    t.match(ready.body, { status: 'unavailable', database: 'up' })
    t.same(
      [...(ready.body.missing ?? [])].sort(),
      ALL_TABLES.map((table) => `table ${table}`),
    )
    t.same(h.app.db.schema.applied, [])
    await h.app.close()
    t.same(await tableNames(db), [], 'no table was created')
    if (db.dialect === 'sqlite') t.same(await db.query('SELECT name FROM sqlite_master'), [], 'not even an index')
  })

  t.test('DB_SYNC=safe on an empty database creates every table, the same schema alter would', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] })
    await h.app.close()
    t.same(await tableNames(db), ALL_TABLES)

    const other = await createTestDatabase(t, db.dialect)
    const altered = await startApp(t, other, { DB_SYNC: 'alter' })
    await altered.app.close()
    t.equal(await schemaSnapshot(db), await schemaSnapshot(other), 'byte-identical to an alter-created database')
  })
})
