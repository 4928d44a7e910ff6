import t, { type Test } from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js'
import { schemaCli } from '../../helpers/processes.js'
import { OWNED_TABLES, columns, indexList, insertIntegration, tableRows } from '../../helpers/schema.js'

const kind = KINDS.find((k) => k.segment === 'ci-cd')!
const TABLE = kind.tableName
const INDEX = kind.indexes.find((i) => !i.unique)!.name
const COLUMN = 'verificationError'
// Eight CLI processes per database besides the app starts.
t.setTimeout(180_000)

const LOST = [`column ${TABLE}.${COLUMN}`, `index ${TABLE}.${INDEX}`]

/** A healthy database with a row in every owned table, then the column and the index dropped by hand. */
async function damaged(t: Test, db: TestDatabase) {
  const h = await startApp(t, db)
  const { tenantId, ownerId } = await h.tenant()
  for (const k of KINDS) await insertIntegration(h.app, k, tenantId, ownerId)
  await h.app.close()
  const healthy = { columns: await columns(db, TABLE), indexes: await indexList(db, TABLE) }
  const rows = await tableRows(db, OWNED_TABLES)

  await db.query(db.dialect === 'mysql' ? `ALTER TABLE ${TABLE} DROP INDEX ${INDEX}` : `DROP INDEX ${INDEX}`)
  await db.query(`ALTER TABLE ${TABLE} DROP COLUMN ${COLUMN}`)
  t.notOk(COLUMN in (await columns(db, TABLE)), 'the column is gone')
  t.notOk(
    (await indexList(db, TABLE)).some((i) => i.startsWith(`${INDEX} `)),
    'the index is gone',
  )
  return { healthy, rows }
}

/** The rows as they were, with the restored column empty. */
function withEmptyColumn(rows: Record<string, unknown[]>) {
  return { ...rows, [TABLE]: rows[TABLE]!.map((row) => ({ ...(row as object), [COLUMN]: null })) }
}

async function assertRestored(t: Test, db: TestDatabase, before: Awaited<ReturnType<typeof damaged>>) {
  t.same(await columns(db, TABLE), before.healthy.columns, `${COLUMN} is back with its type, nullability and default`)
  t.same(await indexList(db, TABLE), before.healthy.indexes, `${INDEX} is back on its columns, and no other index changed`)
  t.same(await tableRows(db, OWNED_TABLES), withEmptyColumn(before.rows), 'every row kept')
}

async function assertCheckFails(t: Test, db: TestDatabase) {
  const check = await schemaCli(t, db, 'check')
  t.equal(check.code, 1, 'check fails: a deploy gate would stop here')
  t.match(check.stdout, /^Schema check failed: 2 difference\(s\)\./, 'and says how many differences')
  t.match(
    check.stdout,
    `-- additive: add-column ${TABLE}.${COLUMN}: column missing\nALTER TABLE \`${TABLE}\` ADD \`${COLUMN}\` VARCHAR(1024);\n`,
    'names the column, with the SQL that adds it',
  )
  t.match(check.stdout, `-- additive: add-index ${TABLE}.${INDEX}: index missing\n`, 'names the index')
  t.equal(check.stderr, '', 'a difference is not an error')
}

for (const dialect of testDialects()) {
  t.test(dialect, async (t) => {
    t.test('alter restores a column and an index dropped by hand; check fails before and passes after', async (t) => {
      const db = await createTestDatabase(t, dialect)
      const before = await damaged(t, db)
      await assertCheckFails(t, db)

      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(h.app.db.schema, { missing: [], applied: LOST, review: [] }, 'the start added both and reports them')
      await h.app.close()
      await assertRestored(t, db, before)

      const check = await schemaCli(t, db, 'check')
      t.equal(check.code, 0, 'check passes')
      t.equal(check.stdout, 'Schema check passed: nothing is missing or different.\n')
    })

    t.test('apply restores them the same way, and a start afterwards finds nothing to do', async (t) => {
      const db = await createTestDatabase(t, dialect)
      const before = await damaged(t, db)
      await assertCheckFails(t, db)

      const apply = await schemaCli(t, db, 'apply')
      t.equal(apply.code, 0, apply.stderr)
      t.equal(apply.stdout, `Applied:\n${LOST.map((l) => `  ${l}`).join('\n')}\n`, 'apply lists what it added')
      await assertRestored(t, db, before)

      const check = await schemaCli(t, db, 'check')
      t.equal(check.code, 0, 'check passes')
      t.equal(check.stdout, 'Schema check passed: nothing is missing or different.\n')
      const again = await schemaCli(t, db, 'apply')
      t.equal(again.stdout, 'Nothing to apply.\n', 'a second apply has nothing to do')

      const h = await startApp(t, db, { DB_SYNC: 'alter' })
      t.same(h.app.db.schema, { missing: [], applied: [], review: [] }, 'a start afterwards finds nothing to do')
    })
  })
}
