import t from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { loadConfig } from '../../../src/config/load-config.js'
import { startApp, testEnv } from '../../helpers/app.js'
import { eachDatabase } from '../../helpers/databases.js'
import {
  OWNED_TABLES,
  SERVICE_TABLES,
  REFERENCE_TABLES,
  SCM_TABLE,
  connectRepository,
  forceConfirmation,
  insertIntegration,
  readiness,
  rowCounts,
  schemaSnapshot,
  tableDefinition,
  tableEntries,
  tableRows,
} from '../../helpers/schema.js'

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

eachDatabase(t, async (t, db) => {
  const first = await startApp(t, db)
  const { tenantId, ownerId } = await first.tenant()
  await first.account({ [tenantId]: 'Viewer' })
  await connectRepository(first, tenantId, ownerId, 'acme/one')
  for (const kind of KINDS.filter((k) => k.tableName !== SCM_TABLE)) await insertIntegration(first.app, kind, tenantId, ownerId)
  await first.app.close()
  // A table of someone else's in the same database: force must not know it exists.
  await db.query('CREATE TABLE release_notes (id INTEGER NOT NULL PRIMARY KEY, body VARCHAR(255) NOT NULL)')
  await db.query("INSERT INTO release_notes (id, body) VALUES (1, 'kept')")
  const name = forceConfirmation(db)
  const populated = await schemaSnapshot(db)
  const counts = await rowCounts(db, [...REFERENCE_TABLES, ...OWNED_TABLES, 'release_notes'])

  const refusals: [string, Record<string, string>, RegExp][] = [
    [
      'with NODE_ENV=production, even confirmed',
      { NODE_ENV: 'production', DB_SYNC: 'force', DB_SYNC_FORCE: name },
      /DB_SYNC=force drops every owned table and is refused with NODE_ENV=production/,
    ],
    [
      'without DB_SYNC_FORCE, naming the variable and the value it needs',
      { DB_SYNC: 'force' },
      new RegExp(`DB_SYNC=force drops every owned table: confirm with DB_SYNC_FORCE=${escape(name)} `),
    ],
    [
      'when DB_SYNC_FORCE names another database',
      { DB_SYNC: 'force', DB_SYNC_FORCE: `${name}_production` },
      new RegExp(`confirm with DB_SYNC_FORCE=${escape(name)} `),
    ],
  ]
  for (const [when, env, message] of refusals) {
    t.test(`force is refused ${when}`, async (t) => {
      t.throws(() => loadConfig(testEnv(t, db, env)), { name: 'ConfigError', message }, 'loadConfig refuses it')
      await t.rejects(startApp(t, db, env), { name: 'ConfigError' }, 'so the service does not start')
      t.equal(await schemaSnapshot(db), populated, 'no table was dropped or changed')
      t.same(await rowCounts(db, Object.keys(counts)), counts, 'no row was lost')
    })
  }

  t.test('confirmed, force drops and recreates the owned tables only', async (t) => {
    const owned = await Promise.all(OWNED_TABLES.map((table) => tableDefinition(db, table)))
    const others = await Promise.all([...REFERENCE_TABLES, 'release_notes'].map((table) => tableDefinition(db, table)))
    const otherRows = await tableRows(db, [...REFERENCE_TABLES, 'release_notes'])

    const h = await startApp(t, db, { DB_SYNC: 'force', DB_SYNC_FORCE: name })
    const dropped = h.logs
      .map((line) => JSON.parse(line) as { level: number; msg: string; tables?: string[] })
      .filter((entry) => entry.msg === 'DB_SYNC=force dropped owned tables')
    t.same(
      dropped.map((entry) => ({ level: entry.level, tables: [...(entry.tables ?? [])].sort() })),
      [{ level: 40, tables: [...SERVICE_TABLES].sort() }],
      'one warning naming exactly the owned tables',
    )
    t.same(h.app.db.schema, { missing: [], applied: tableEntries(SERVICE_TABLES), review: [] }, 'it recreated exactly those')
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] }, 'and is ready')
    await h.app.close()

    t.same(await rowCounts(db, OWNED_TABLES), Object.fromEntries(OWNED_TABLES.map((table) => [table, 0])), 'the owned tables are empty')
    t.same(await Promise.all(OWNED_TABLES.map((table) => tableDefinition(db, table))), owned, 'with the definitions they had')
    t.same(
      await Promise.all([...REFERENCE_TABLES, 'release_notes'].map((table) => tableDefinition(db, table))),
      others,
      'the reference tables and the foreign table keep their definitions',
    )
    t.same(await tableRows(db, [...REFERENCE_TABLES, 'release_notes']), otherRows, 'and every row')

    const again = await startApp(t, db, { DB_SYNC: 'alter' })
    t.same(again.app.db.schema, { missing: [], applied: [], review: [] }, 'a following start finds nothing to do')
    await t.resolves(connectRepository(again, tenantId, ownerId, 'acme/one'), 'and the tenant can connect the repository again')
  })
})
