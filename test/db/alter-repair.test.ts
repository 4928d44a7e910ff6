import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { KINDS } from '../../src/kinds/index.js'
import {
  OWNED_TABLES,
  SCM_TABLE,
  columns,
  connectRepository,
  indexList,
  insertIntegration,
  readiness,
  schemaSnapshot,
  tableRows,
} from '../helpers/schema.js'

const OTHER_TABLES = OWNED_TABLES.filter((table) => table !== SCM_TABLE)
const LOST = [`column ${SCM_TABLE}.verificationError`, `index ${SCM_TABLE}.idx_scm_tenant`]

/** SQLite learnt ALTER TABLE ... DROP COLUMN in 3.35. */
async function canDropColumns(db: TestDatabase): Promise<string | undefined> {
  if (db.dialect !== 'sqlite') return undefined
  const [row] = (await db.query('SELECT sqlite_version() AS v')) as { v: string }[]
  const [major, minor] = row!.v.split('.').map(Number) as [number, number]
  return major > 3 || (major === 3 && minor >= 35) ? undefined : `SQLite ${row!.v} cannot DROP COLUMN (needs 3.35)`
}

async function dropColumn(db: TestDatabase, column: string) {
  await db.query(`ALTER TABLE ${SCM_TABLE} DROP COLUMN ${column}`)
}

eachDatabase(t, async (t, db) => {
  const unsupported = await canDropColumns(db)

  t.test(
    'alter restores a dropped index and nullable column and keeps the rows; safe and off only report them',
    { skip: unsupported },
    async (t) => {
      const first = await startApp(t, db)
      const { tenantId, ownerId } = await first.tenant()
      const created = await connectRepository(first, tenantId, ownerId)
      for (const kind of KINDS.filter((k) => k.tableName !== SCM_TABLE)) await insertIntegration(first.app, kind, tenantId, ownerId)
      await first.app.close()
      const healthy = await schemaSnapshot(db)
      const otherRows = await tableRows(db, OTHER_TABLES)

      await db.query(db.dialect === 'mysql' ? `ALTER TABLE ${SCM_TABLE} DROP INDEX idx_scm_tenant` : 'DROP INDEX idx_scm_tenant')
      await dropColumn(db, 'verificationError')
      const damaged = await schemaSnapshot(db)
      t.notOk('verificationError' in (await columns(db, SCM_TABLE)), 'the column is gone')
      t.notOk(
        (await indexList(db, SCM_TABLE)).some((i) => i.startsWith('idx_scm_tenant ')),
        'the index is gone',
      )

      for (const mode of ['safe', 'off']) {
        const h = await startApp(t, db, { DB_SYNC: mode })
        const ready = await readiness(h.app)
        t.equal(ready.statusCode, 503, `${mode}: not ready`)
        t.same(ready.body, { status: 'unavailable', database: 'up', missing: LOST }, `${mode}: names what is missing`)
        t.same(h.app.db.schema, { missing: LOST, applied: [], review: [] }, `${mode}: applied nothing, nothing to review`)
        await h.app.close()
        t.equal(await schemaSnapshot(db), damaged, `${mode}: schema left as it was`)
      }

      const repaired = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(repaired.app.db.schema, { missing: [], applied: LOST, review: [] }, 'alter added both back')
      const ready = await readiness(repaired.app)
      t.equal(ready.statusCode, 200)
      t.same(ready.body, { status: 'ok', database: 'up', missing: [] })
      const got = await repaired.app.inject({
        url: `/api/v1/integrations/scm/${created.id}`,
        headers: { authorization: `Bearer ${await repaired.userToken(ownerId)}` },
      })
      t.equal(got.statusCode, 200, 'the integration is served again')
      await repaired.app.close()

      const column = (await columns(db, SCM_TABLE)).verificationError
      t.match(column, { type: db.dialect === 'mysql' ? 'varchar(1024)' : 'VARCHAR(1024)', nullable: true }, 'verificationError is back')
      t.ok((await indexList(db, SCM_TABLE)).includes('idx_scm_tenant (tenantId, isActive)'), 'idx_scm_tenant is back on its columns')
      t.same(await db.query(`SELECT id, tenantId, repositoryUrl, verificationError FROM ${SCM_TABLE}`), [
        { id: created.id, tenantId, repositoryUrl: created.repositoryUrl, verificationError: null },
      ])
      t.same(await tableRows(db, OTHER_TABLES), otherRows, 'the rows of every other owned table are untouched')

      const afterRepair = await schemaSnapshot(db)
      const again = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(again.app.db.schema, { missing: [], applied: [], review: [] }, 'a further start finds nothing to do or review')
      await again.app.close()
      t.equal(await schemaSnapshot(db), afterRepair, 'and changes nothing')
      if (db.dialect === 'mysql') {
        // Only the SCM table's verificationError line: every other owned table has one too, and must not move.
        const scmColumn = new RegExp(
          `(CREATE TABLE \`${SCM_TABLE}\` \\((?:\\n {2}(?!\`verificationError\` )[^\\n]*)*)\\n {2}\`verificationError\` [^\\n]*`,
        )
        const withoutColumn = (schema: string) => {
          const without = schema.replace(scmColumn, '$1')
          t.not(without, schema, `the ${SCM_TABLE} definition has a verificationError line to set aside`)
          return without
        }
        t.equal(
          withoutColumn(afterRepair),
          withoutColumn(healthy),
          'apart from where the SCM column sits, every table the same as before the damage',
        )
      }
    },
  )

  t.test('alter does not invent a dropped required column: it reports it and readiness says so', { skip: unsupported }, async (t) => {
    const first = await startApp(t, db)
    await first.app.close()
    await dropColumn(db, 'displayName')
    const damaged = await schemaSnapshot(db)

    const h = await startApp(t, db, { DB_SYNC: 'alter' })
    const ready = await readiness(h.app)
    t.equal(ready.statusCode, 503)
    t.same(ready.body.missing, [`column ${SCM_TABLE}.displayName`])
    const { applied, review } = h.app.db.schema
    t.same(applied, [], 'alter applied nothing')
    t.same(
      review.map(({ action, object, additive, sql }) => ({ action, object, additive, sql })),
      [
        {
          action: 'add-column',
          object: `${SCM_TABLE}.displayName`,
          additive: false,
          sql: [`ALTER TABLE \`${SCM_TABLE}\` ADD \`displayName\` VARCHAR(255) NOT NULL`],
        },
      ],
      'it is left for review, with the SQL that would add it',
    )
    t.match(review[0]?.reason, /NOT NULL without a default/, 'saying why it was not added')
    await h.app.close()
    t.equal(await schemaSnapshot(db), damaged, 'nothing was added or rebuilt')
  })
})
