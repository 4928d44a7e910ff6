import t from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { startApp } from '../../helpers/app.js'
import { eachDatabase } from '../../helpers/databases.js'
import {
  ALL_TABLES,
  OWNED_TABLES,
  SCM_TABLE,
  connectRepository,
  indexList,
  insertIntegration,
  readiness,
  rowCounts,
  schemaSnapshot,
  tableNames,
  tableRows,
} from '../../helpers/schema.js'

const STARTS = 20
// Twenty app starts per database, with a full schema read after each: minutes on a busy machine.
t.setTimeout(480_000)

eachDatabase(t, async (t, db) => {
  t.test(`${STARTS} consecutive starts with DB_SYNC=alter leave every definition, index and row as they were, and serve`, async (t) => {
    const first = await startApp(t, db, { DB_SYNC: 'alter' })
    // Two tenants, each with a second member and an integration of every kind: rows that
    // cascade from tenants and restrict accounts, which a table rebuild would lose. The first
    // tenant's repository is connected over HTTP, as a user would.
    const integrations: { kind: string; id: string; ownerId: string; repositoryUrl?: string }[] = []
    for (const n of [1, 2]) {
      const { tenantId, ownerId } = await first.tenant()
      await first.account({ [tenantId]: n === 1 ? 'Editor' : 'Viewer' })
      for (const kind of KINDS) {
        if (n === 1 && kind.tableName === SCM_TABLE) {
          const { id, repositoryUrl } = await connectRepository(first, tenantId, ownerId)
          integrations.push({ kind: kind.segment, id, ownerId, repositoryUrl })
        } else integrations.push({ kind: kind.segment, id: await insertIntegration(first.app, kind, tenantId, ownerId), ownerId })
      }
    }
    await first.app.close()

    t.same(await tableNames(db), ALL_TABLES, 'the reference tables and one table per kind exist')
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
    const indexes = JSON.stringify(await Promise.all(ALL_TABLES.map((table) => indexList(db, table))))
    const rows = JSON.stringify(await tableRows(db, ALL_TABLES))

    const reports: unknown[] = []
    const readies: unknown[] = []
    const unserved: string[] = []
    const changed: string[] = []
    for (let start = 1; start <= STARTS; start++) {
      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      reports.push(h.app.db.schema)
      readies.push((await readiness(h.app)).body)
      const tokens = new Map<string, string>()
      for (const { kind, id, ownerId, repositoryUrl } of integrations) {
        if (!tokens.has(ownerId)) tokens.set(ownerId, await h.userToken(ownerId))
        const got = await h.app.inject({
          url: `/api/v1/integrations/${kind}/${id}`,
          headers: { authorization: `Bearer ${tokens.get(ownerId)}` },
        })
        const body = got.json<{ id?: string; repositoryUrl?: string }>()
        if (got.statusCode !== 200 || body.id !== id || (repositoryUrl && body.repositoryUrl !== repositoryUrl)) {
          unserved.push(`start ${start}: ${kind} ${id} answered ${got.statusCode}`)
        }
      }
      await h.app.close()
      if ((await schemaSnapshot(db)) !== schema) changed.push(`start ${start}: a definition`)
      if (JSON.stringify(await Promise.all(ALL_TABLES.map((table) => indexList(db, table)))) !== indexes)
        changed.push(`start ${start}: an index list`)
      if (JSON.stringify(await tableRows(db, ALL_TABLES)) !== rows) changed.push(`start ${start}: a row`)
    }

    t.same(
      reports,
      Array.from({ length: STARTS }, () => ({ missing: [], applied: [], review: [] })),
      'no start found anything to add, apply or review',
    )
    t.same(
      readies,
      Array.from({ length: STARTS }, () => ({ status: 'ok', database: 'up', missing: [] })),
      'every start is ready',
    )
    t.same(unserved, [], 'every start serves every integration of every kind, the repository with its URL')
    t.same(
      changed,
      [],
      `no start changed a definition (${db.dialect === 'mysql' ? 'SHOW CREATE TABLE' : 'sqlite_master'}), an index list or a row`,
    )
    t.equal(await schemaSnapshot(db), schema, `after ${STARTS} starts the schema is byte-identical`)
    t.equal(JSON.stringify(await tableRows(db, ALL_TABLES)), rows, 'every row of every table, child rows included, is unchanged')
  })
})
