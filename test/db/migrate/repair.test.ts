import t, { type Test } from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js'
import { schemaCli } from '../../helpers/processes.js'
import {
  OWNED_TABLES,
  SCM_TABLE,
  columns,
  connectRepository,
  indexList,
  insertIntegration,
  readiness,
  schemaCommand,
  schemaSnapshot,
  tableRows,
} from '../../helpers/schema.js'

const COLUMN = 'verificationError'
const INDEX = 'idx_scm_tenant'
const LOST = [`column ${SCM_TABLE}.${COLUMN}`, `index ${SCM_TABLE}.${INDEX}`]
// Two CLI processes and a dozen app starts per database: slow on a busy machine.
t.setTimeout(300_000)

function dropIndex(db: TestDatabase, index: string) {
  return db.query(db.dialect === 'mysql' ? `ALTER TABLE ${SCM_TABLE} DROP INDEX ${index}` : `DROP INDEX ${index}`)
}

/** A healthy database with an integration of every kind (the repository over HTTP), then the column and the index dropped by hand. */
async function damaged(t: Test, db: TestDatabase) {
  const h = await startApp(t, db)
  const { tenantId, ownerId } = await h.tenant()
  const created = await connectRepository(h, tenantId, ownerId)
  for (const kind of KINDS.filter((k) => k.tableName !== SCM_TABLE)) await insertIntegration(h.app, kind, tenantId, ownerId)
  await h.app.close()
  const healthy = { columns: await columns(db, SCM_TABLE), indexes: await indexList(db, SCM_TABLE), schema: await schemaSnapshot(db) }
  const rows = await tableRows(db, OWNED_TABLES)

  await dropIndex(db, INDEX)
  await db.query(`ALTER TABLE ${SCM_TABLE} DROP COLUMN ${COLUMN}`)
  t.notOk(COLUMN in (await columns(db, SCM_TABLE)), 'the column is gone')
  t.notOk(
    (await indexList(db, SCM_TABLE)).some((i) => i.startsWith(`${INDEX} `)),
    'the index is gone',
  )
  return { healthy, rows, created, ownerId }
}

type Damaged = Awaited<ReturnType<typeof damaged>>

/** The rows as they were, with the restored column empty. */
function withEmptyColumn(rows: Record<string, unknown[]>) {
  return { ...rows, [SCM_TABLE]: rows[SCM_TABLE]!.map((row) => ({ ...(row as object), [COLUMN]: null })) }
}

async function assertRestored(t: Test, db: TestDatabase, before: Damaged) {
  t.same(await columns(db, SCM_TABLE), before.healthy.columns, `${COLUMN} is back with its type, nullability and default`)
  t.ok((await indexList(db, SCM_TABLE)).includes(`${INDEX} (tenantId, isActive)`), `${INDEX} is back on its columns`)
  t.same(await indexList(db, SCM_TABLE), before.healthy.indexes, 'and no other index changed')
  t.same(await tableRows(db, OWNED_TABLES), withEmptyColumn(before.rows), 'every row of every owned table kept')
}

/** `check` as a process (`cli`), or in this process: the same command, without tsx's start-up. */
async function assertCheckFails(t: Test, db: TestDatabase, cli: boolean) {
  const check = cli ? await schemaCli(t, db, 'check') : { ...(await schemaCommand(db, 'check')), stderr: '' }
  t.equal(check.code, 1, 'check fails: a deploy gate would stop here')
  t.match(check.stdout, /^Schema check failed: 2 difference\(s\)\./, 'and says how many differences')
  t.match(
    check.stdout,
    `-- additive: add-column ${SCM_TABLE}.${COLUMN}: column missing\nALTER TABLE \`${SCM_TABLE}\` ADD \`${COLUMN}\` VARCHAR(1024);\n`,
    'names the column, with the SQL that adds it',
  )
  t.match(check.stdout, `-- additive: add-index ${SCM_TABLE}.${INDEX}: index missing\n`, 'names the index')
  t.equal(check.stderr, '', 'a difference is not an error')
}

async function assertCheckPasses(t: Test, db: TestDatabase) {
  t.same(await schemaCommand(db, 'check'), { code: 0, stdout: 'Schema check passed: nothing is missing or different.\n' }, 'check passes')
}

for (const dialect of testDialects()) {
  t.test(dialect, async (t) => {
    t.test('safe and off only report a dropped column and index: not ready, naming them, schema left as it is', async (t) => {
      const db = await createTestDatabase(t, dialect)
      await damaged(t, db)
      const before = await schemaSnapshot(db)
      for (const mode of ['safe', 'off']) {
        const h = await startApp(t, db, { DB_SYNC: mode })
        const ready = await readiness(h.app)
        t.equal(ready.statusCode, 503, `${mode}: not ready`)
        t.same(ready.body, { status: 'unavailable', database: 'up', missing: LOST }, `${mode}: names what is missing`)
        t.same(h.app.db.schema, { missing: LOST, applied: [], review: [] }, `${mode}: applied nothing, nothing to review`)
        await h.app.close()
        t.equal(await schemaSnapshot(db), before, `${mode}: schema left as it was`)
      }
    })

    t.test('alter restores them and keeps the rows; check fails before and passes after', async (t) => {
      const db = await createTestDatabase(t, dialect)
      const before = await damaged(t, db)
      await assertCheckFails(t, db, false)

      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(h.app.db.schema, { missing: [], applied: LOST, review: [] }, 'the start added both and reports them')
      const ready = await readiness(h.app)
      t.equal(ready.statusCode, 200)
      t.same(ready.body, { status: 'ok', database: 'up', missing: [] })
      const got = await h.app.inject({
        url: `/api/v1/integrations/scm/${before.created.id}`,
        headers: { authorization: `Bearer ${await h.userToken(before.ownerId)}` },
      })
      t.equal(got.statusCode, 200, 'the integration is served again')
      t.equal(got.json().repositoryUrl, before.created.repositoryUrl)
      await h.app.close()
      await assertRestored(t, db, before)
      await assertCheckPasses(t, db)

      const afterRepair = await schemaSnapshot(db)
      const again = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(again.app.db.schema, { missing: [], applied: [], review: [] }, 'a further start finds nothing to do or review')
      await again.app.close()
      t.equal(await schemaSnapshot(db), afterRepair, 'and changes nothing')
      if (dialect === 'mysql') {
        // Only the SCM table's verificationError line: every other owned table has one too, and must not move.
        const scmColumn = new RegExp(`(CREATE TABLE \`${SCM_TABLE}\` \\((?:\\n {2}(?!\`${COLUMN}\` )[^\\n]*)*)\\n {2}\`${COLUMN}\` [^\\n]*`)
        // The re-added index is listed after the keyset index created with the table; the index lists below still compare it.
        const scmIndex = new RegExp(`\\n {2}KEY \`${INDEX}\` [^\\n]*`)
        const withoutColumn = (schema: string) => {
          const without = schema.replace(scmColumn, '$1')
          t.not(without, schema, `the ${SCM_TABLE} definition has a ${COLUMN} line to set aside`)
          const neither = without.replace(scmIndex, '')
          t.not(neither, without, `and an ${INDEX} line`)
          return neither
        }
        t.equal(
          withoutColumn(afterRepair),
          withoutColumn(before.healthy.schema),
          'apart from where the SCM column and index sit, every table the same as before the damage',
        )
      }
    })

    t.test('apply restores them the same way, and a start afterwards finds nothing to do', async (t) => {
      const db = await createTestDatabase(t, dialect)
      const before = await damaged(t, db)
      await assertCheckFails(t, db, true)

      const apply = await schemaCli(t, db, 'apply')
      t.equal(apply.code, 0, apply.stderr)
      t.equal(apply.stdout, `Applied:\n${LOST.map((l) => `  ${l}`).join('\n')}\n`, 'apply lists what it added')
      await assertRestored(t, db, before)
      await assertCheckPasses(t, db)
      t.same(await schemaCommand(db, 'apply'), { code: 0, stdout: 'Nothing to apply.\n' }, 'a second apply has nothing to do')

      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(h.app.db.schema, { missing: [], applied: [], review: [] }, 'a start afterwards finds nothing to do')
    })

    t.test('alter does not invent a dropped required column: it reports it and readiness says so', async (t) => {
      const db = await createTestDatabase(t, dialect)
      const first = await startApp(t, db)
      await first.app.close()
      await db.query(`ALTER TABLE ${SCM_TABLE} DROP COLUMN displayName`)
      const before = await schemaSnapshot(db)

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
      t.equal(await schemaSnapshot(db), before, 'nothing was added or rebuilt')
    })
  })
}
