import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { eachDatabase } from '../../helpers/databases.js'
import { ALL_TABLES, SERVICE_TABLES, columns, indexList, tableDefinition, tableEntries, tableNames } from '../../helpers/schema.js'

eachDatabase(t, async (t, db) => {
  t.test('never alters an existing accounts table, even one shaped unlike its own model', async (t) => {
    const engine = db.dialect === 'mysql' ? ' ENGINE=InnoDB' : ''
    // An extra column and no `picture`: a shape the service would never create.
    await db.query(
      `CREATE TABLE accounts (id VARCHAR(255) NOT NULL PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL,
         legacyRole VARCHAR(32) NULL, createdAt DATETIME NOT NULL, updatedAt DATETIME NOT NULL)${engine}`,
    )
    await db.query(
      "INSERT INTO accounts (id, email, name, legacyRole, createdAt, updatedAt) VALUES ('acct-old', 'old@example.test', 'Old', 'admin', '2020-01-01 00:00:00', '2020-01-01 00:00:00')",
    )
    const definition = await tableDefinition(db, 'accounts')
    const indexes = await indexList(db, 'accounts')

    for (const round of [1, 2]) {
      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.notOk(
        h.app.db.schema.applied.some((a) => a.includes('accounts')),
        `start ${round} reports no change to accounts`,
      )
      t.same(
        h.app.db.schema.applied,
        round === 1 ? tableEntries(['tenants', 'collaborators', ...SERVICE_TABLES]) : [],
        round === 1 ? 'start 1 created the missing reference tables and every owned table' : `start ${round} created nothing`,
      )
      t.same(h.app.db.schema.review, [], `start ${round}: nothing to review, however accounts is shaped`)
      await h.app.close()
      t.equal(await tableDefinition(db, 'accounts'), definition, `start ${round}: accounts definition byte-identical`)
      t.same(await indexList(db, 'accounts'), indexes, `start ${round}: no index added to accounts`)
      const cols = Object.keys(await columns(db, 'accounts'))
      t.same(
        cols,
        ['id', 'email', 'name', 'legacyRole', 'createdAt', 'updatedAt'],
        `start ${round}: no picture column added, legacyRole kept`,
      )
    }
    t.same(await db.query('SELECT id, legacyRole FROM accounts'), [{ id: 'acct-old', legacyRole: 'admin' }], 'its row is intact')
    t.same(await tableNames(db), ALL_TABLES, 'the missing tables were still created: tenants, collaborators and every owned table')
  })
})
