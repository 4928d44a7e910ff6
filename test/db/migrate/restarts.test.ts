import t from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { startApp } from '../../helpers/app.js'
import { eachDatabase } from '../../helpers/databases.js'
import { ALL_TABLES, OWNED_TABLES, indexList, insertIntegration, rowCounts, schemaSnapshot, tableRows } from '../../helpers/schema.js'

const STARTS = 20
// Twenty app starts per database, with a full schema read after each: more than the default file timeout.
t.setTimeout(240_000)

eachDatabase(t, async (t, db) => {
  t.test(`${STARTS} consecutive starts with DB_SYNC=alter leave every definition, index and row as they were`, async (t) => {
    const first = await startApp(t, db, { DB_SYNC: 'alter' })
    // Two tenants, each with a second member and an integration of every kind: rows that
    // cascade from tenants and restrict accounts, which a table rebuild would lose.
    for (const n of [1, 2]) {
      const { tenantId, ownerId } = await first.tenant()
      await first.account({ [tenantId]: n === 1 ? 'Editor' : 'Viewer' })
      for (const kind of KINDS) await insertIntegration(first.app, kind, tenantId, ownerId)
    }
    await first.app.close()

    t.same(
      await rowCounts(db, OWNED_TABLES),
      Object.fromEntries(OWNED_TABLES.map((table) => [table, 2])),
      'two integrations in every owned table',
    )
    t.same(
      await rowCounts(db, ['accounts', 'tenants', 'collaborators']),
      { accounts: 4, tenants: 2, collaborators: 4 },
      'two tenants, each with an owner and a member',
    )
    const schema = await schemaSnapshot(db)
    const indexes = await Promise.all(ALL_TABLES.map((table) => indexList(db, table)))
    const rows = await tableRows(db, ALL_TABLES)

    const reports: unknown[] = []
    const changed: number[] = []
    for (let start = 1; start <= STARTS; start++) {
      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      reports.push(h.app.db.schema)
      await h.app.close()
      const same =
        (await schemaSnapshot(db)) === schema &&
        JSON.stringify(await Promise.all(ALL_TABLES.map((table) => indexList(db, table)))) === JSON.stringify(indexes)
      if (!same) changed.push(start)
    }

    t.same(
      reports,
      Array.from({ length: STARTS }, () => ({ missing: [], applied: [], review: [] })),
      'no start found anything to add, apply or review',
    )
    t.same(
      changed,
      [],
      `no start changed a definition or an index list (${db.dialect === 'mysql' ? 'SHOW CREATE TABLE' : 'sqlite_master'})`,
    )
    t.equal(await schemaSnapshot(db), schema, `after ${STARTS} starts the schema is byte-identical`)
    t.same(await Promise.all(ALL_TABLES.map((table) => indexList(db, table))), indexes, 'and so is every index list')
    t.same(await tableRows(db, ALL_TABLES), rows, 'every row of every table, child rows included, is unchanged')
  })
})
