import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../../helpers/databases.js'
import { schemaCli } from '../../helpers/processes.js'
import {
  SCM_TABLE,
  columns,
  connectRepository,
  readiness,
  rebuildSqliteTable,
  replaceOnce,
  schemaSnapshot,
  tableRows,
} from '../../helpers/schema.js'

const OBJECT = `${SCM_TABLE}.displayName`

async function changeType(db: TestDatabase, size: number) {
  if (db.dialect === 'mysql') await db.query(`ALTER TABLE ${SCM_TABLE} MODIFY displayName VARCHAR(${size}) NOT NULL`)
  else {
    const from = `\`displayName\` VARCHAR(${size === 100 ? 255 : 100}) NOT NULL`
    await rebuildSqliteTable(db, SCM_TABLE, (sql) => replaceOnce(sql, from, `\`displayName\` VARCHAR(${size}) NOT NULL`))
  }
}

// Server processes and CLI runs per database: more than the default file timeout on a busy machine.
t.setTimeout(180_000)

eachDatabase(t, async (t, db) => {
  const first = await startApp(t, db)
  const { tenantId, ownerId } = await first.tenant()
  const created = await connectRepository(first, tenantId, ownerId)
  await first.app.close()
  await changeType(db, 100)
  const narrowed = await schemaSnapshot(db)
  const rows = await tableRows(db, [SCM_TABLE])
  t.match((await columns(db, SCM_TABLE)).displayName, { type: /^varchar\(100\)$/i, nullable: false }, 'displayName narrowed by hand')

  const expectedSql =
    db.dialect === 'mysql'
      ? `ALTER TABLE \`${SCM_TABLE}\` MODIFY \`displayName\` VARCHAR(255) NOT NULL`
      : `-- SQLite cannot change a column in place: rebuild ${SCM_TABLE} with \`displayName\` VARCHAR(255) NOT NULL, copy its rows, then swap the tables`

  t.test('a start with alter reports it as needing review, with its SQL, leaves it alone and serves', async (t) => {
    const h = await startApp(t, db, { DB_SYNC: 'alter' })
    const { missing, applied, review } = h.app.db.schema
    t.same({ missing, applied }, { missing: [], applied: [] }, 'nothing missing, nothing applied')
    t.same(
      review.map(({ action, object, additive, sql }) => ({ action, object, additive, sql })),
      [{ action: 'change-column', object: OBJECT, additive: false, sql: [expectedSql] }],
      'one change for review, with the SQL that would make it',
    )
    t.match(review[0]?.reason, /type is varchar\(100\), models need VARCHAR\(255\)/i, 'saying what differs')
    const logged = h.logs.map((l) => JSON.parse(l) as { level: number; msg: string; object?: string; sql?: string[] })
    t.same(
      logged.filter((l) => l.msg === 'schema difference needs review').map((l) => ({ level: l.level, object: l.object, sql: l.sql })),
      [{ level: 40, object: OBJECT, sql: [expectedSql] }],
      'and logs it once as a warning with the SQL',
    )
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] }, 'the service is ready')
    const got = await h.app.inject({
      url: `/api/v1/integrations/scm/${created.id}`,
      headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
    })
    t.equal(got.statusCode, 200, 'and serves the integration stored before')
    await h.app.close()
    t.equal(await schemaSnapshot(db), narrowed, 'the column and everything else left as they were')
    t.same(await tableRows(db, [SCM_TABLE]), rows, 'the row kept')
  })

  t.test('apply leaves it alone too and shows it; check keeps failing on it', async (t) => {
    const apply = await schemaCli(t, db, 'apply')
    t.equal(apply.code, 0, 'apply succeeds')
    t.match(
      apply.stdout,
      /^Nothing to apply\.\n\nStill needs review:\n-- NEEDS REVIEW: change-column tenant_scm_integrations\.displayName: type is varchar\(100\)/i,
      'nothing applied; the change shown for review',
    )
    t.match(apply.stdout, expectedSql, 'with its SQL')
    t.equal(await schemaSnapshot(db), narrowed, 'apply changed nothing')

    const check = await schemaCli(t, db, 'check')
    t.equal(check.code, 1, 'check fails while the type differs')
    t.match(check.stdout, `Schema check failed: 1 difference(s).\n\n-- NEEDS REVIEW: change-column ${OBJECT}: type is`, 'naming it')
    t.match(check.stdout, expectedSql, 'with its SQL')

    const plan = await schemaCli(t, db, 'plan')
    t.equal(plan.code, 0, 'plan succeeds')
    t.match(plan.stdout, expectedSql, 'plan prints the same SQL for a reviewer')
  })

  t.test('the SQL it gives is the fix: once applied, nothing differs', async (t) => {
    if (db.dialect === 'mysql') await db.query(expectedSql)
    else await changeType(db, 255)
    t.match((await columns(db, SCM_TABLE)).displayName, { type: /^varchar\(255\)$/i, nullable: false }, 'displayName widened again')
    const check = await schemaCli(t, db, 'check')
    t.equal(check.code, 0, 'check passes')
    const h = await startApp(t, db, { DB_SYNC: 'alter' })
    t.same(h.app.db.schema, { missing: [], applied: [], review: [] }, 'nothing left to review')
    t.same(await tableRows(db, [SCM_TABLE]), rows, 'the row kept')
  })
})
