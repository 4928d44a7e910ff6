import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, eachDatabase } from '../../helpers/databases.js'
import { ALL_TABLES, SERVICE_TABLES, REFERENCE_TABLES, readiness, schemaSnapshot, tableEntries, tableNames } from '../../helpers/schema.js'

/** Reference tables first (owned tables reference them), each in the order its keys need. */
const CREATED = tableEntries([...REFERENCE_TABLES, ...SERVICE_TABLES])

eachDatabase(t, async (t, db) => {
  t.test('DB_SYNC=off on an empty database creates nothing and is not ready, naming every missing table', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'off' })
    const ready = await readiness(h.app)
    t.equal(ready.statusCode, 503)
    t.match(ready.body, { status: 'unavailable', database: 'up' })
    t.same([...(ready.body.missing ?? [])].sort(), tableEntries(ALL_TABLES), 'every reference and every owned table')
    t.same([...h.app.db.schema.missing].sort(), tableEntries(ALL_TABLES), 'the schema report names them too')
    t.same(h.app.db.schema.applied, [])
    t.same(h.app.db.schema.review, [], 'nothing to review: only absent tables')
    await h.app.close()
    t.same(await tableNames(db), [], 'no table was created')
    if (db.dialect === 'sqlite') t.same(await db.query('SELECT name FROM sqlite_master'), [], 'not even an index')
  })

  t.test('DB_SYNC=safe on an empty database creates every table, the same schema alter would', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] })
    t.same(h.app.db.schema, { missing: [], applied: CREATED, review: [] }, 'created every reference and owned table')
    await h.app.close()
    t.same(await tableNames(db), ALL_TABLES, 'the reference tables and every owned table, nothing else')

    const other = await createTestDatabase(t, db.dialect)
    const altered = await startApp(t, other, { DB_SYNC: 'alter' })
    t.same(altered.app.db.schema, { missing: [], applied: CREATED, review: [] }, 'alter created the same tables')
    await altered.app.close()
    t.same(await tableNames(other), ALL_TABLES)
    t.equal(await schemaSnapshot(db), await schemaSnapshot(other), 'byte-identical to an alter-created database')
  })
})
