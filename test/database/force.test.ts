import t from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import {
  OWNED_TABLES,
  REFERENCE_TABLES,
  SCM_TABLE,
  connectRepository,
  forceConfirmation,
  insertIntegration,
  readiness,
  rowCounts,
  tableDefinition,
  tableEntries,
} from '../helpers/schema.js'

eachDatabase(t, async (t, db) => {
  const first = await startApp(t, db)
  const { tenantId, ownerId } = await first.tenant()
  const member = await first.account({ [tenantId]: 'Viewer' })
  await connectRepository(first, tenantId, ownerId, 'acme/one')
  await connectRepository(first, tenantId, ownerId, 'acme/two')
  for (const kind of KINDS.filter((k) => k.tableName !== SCM_TABLE)) await insertIntegration(first.app, kind, tenantId, ownerId)
  await first.app.close()
  const ownedDefinitions = async () => Promise.all(OWNED_TABLES.map((table) => tableDefinition(db, table)))
  const definitions = await ownedDefinitions()
  const integrations = Object.fromEntries(OWNED_TABLES.map((table) => [table, table === SCM_TABLE ? 2 : 1]))
  const referenceRows = async () => Promise.all(REFERENCE_TABLES.map((table) => db.query(`SELECT * FROM ${table} ORDER BY id`)))
  const before = await referenceRows()

  t.test('DB_SYNC=force is refused with NODE_ENV=production and touches nothing', async (t) => {
    t.same(await rowCounts(db, OWNED_TABLES), integrations, 'two repositories and an integration of every other kind to lose')
    await t.rejects(
      startApp(t, db, { NODE_ENV: 'production', DB_SYNC: 'force', DB_SYNC_FORCE: forceConfirmation(db) }),
      { name: 'ConfigError', message: /DB_SYNC=force .*NODE_ENV=production/ },
      'refused even with the confirmation given',
    )
    t.same(await rowCounts(db, OWNED_TABLES), integrations, 'the integrations of every kind are still there')
  })

  t.test('DB_SYNC=force recreates every owned table empty and never drops the reference tables', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'force', DB_SYNC_FORCE: forceConfirmation(db) })
    const dropped = h.logs
      .map((line) => JSON.parse(line) as { level: number; msg: string; tables?: string[] })
      .filter((entry) => entry.msg === 'DB_SYNC=force dropped owned tables')
    t.same(
      dropped.map((entry) => ({ level: entry.level, tables: [...(entry.tables ?? [])].sort() })),
      [{ level: 40, tables: [...OWNED_TABLES].sort() }],
      'the drop is logged once as a warning naming every owned table',
    )
    t.same(h.app.db.schema, { missing: [], applied: tableEntries(OWNED_TABLES), review: [] }, 'every owned table was created again')
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] })
    await h.app.close()

    t.same(
      await rowCounts(db, OWNED_TABLES),
      Object.fromEntries(OWNED_TABLES.map((table) => [table, 0])),
      'the integrations of every kind are gone',
    )
    t.same(await ownedDefinitions(), definitions, 'every owned table came back with the same definition')
    t.same(await referenceRows(), before, 'accounts, tenants and collaborators kept every row')
    t.equal((await db.query(`SELECT id FROM accounts WHERE id = '${member}'`)).length, 1)

    const again = await startApp(t, db, { DB_SYNC: 'alter' })
    await t.resolves(connectRepository(again, tenantId, ownerId, 'acme/one'), 'the same repository can be connected again')
  })
})
