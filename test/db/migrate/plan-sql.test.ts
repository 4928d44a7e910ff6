import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import t, { type Test } from 'tap'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js'
import { childEnv, schemaCli, tempDir, track } from '../../helpers/processes.js'
import {
  ALL_TABLES,
  SCM_TABLE,
  columns,
  connectRepository,
  indexList,
  rowCount,
  schemaSnapshot,
  tableDefinition,
  tableNames,
} from '../../helpers/schema.js'

/** `mariadb -h127.0.0.1 -uroot <db> < file`, as a reviewer would apply the plan. */
async function mariadbClient(t: Test, db: TestDatabase, file: string) {
  const server = new URL(db.url)
  const args = [`-h${server.hostname}`, `-P${server.port || '3306'}`, `-u${decodeURIComponent(server.username)}`, db.name]
  const env = childEnv(server.password ? { MYSQL_PWD: decodeURIComponent(server.password) } : {})
  const input = fs.openSync(file, 'r')
  try {
    const child = spawn('mariadb', args, { env, stdio: [input, 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' })
    return await track(t, child)
  } finally {
    fs.closeSync(input)
  }
}

if (!testDialects().includes('mysql')) {
  t.plan(0, 'the plan is applied with the mariadb command-line client')
} else {
  t.test('plan output applied by the mariadb client to an empty database gives the schema a start with safe creates', async (t) => {
    const planned = await createTestDatabase(t, 'mysql')
    const started = await createTestDatabase(t, 'mysql')

    const plan = await schemaCli(t, planned, 'plan')
    t.equal(plan.code, 0, 'plan succeeds')
    t.equal(plan.stderr, '', 'and complains about nothing')
    t.notMatch(plan.stdout, /NEEDS REVIEW/, 'on an empty database every step is additive')
    t.same(await tableNames(planned), [], 'plan itself changes nothing')
    const file = path.join(tempDir(t), 'plan.sql')
    fs.writeFileSync(file, plan.stdout)

    const client = await mariadbClient(t, planned, file)
    t.equal(client.code, 0, 'the mariadb client runs it')
    t.equal(client.stderr, '', 'without an error or warning')

    const h = await startApp(t, started, { DB_SYNC: 'safe' })
    await h.app.close()

    t.same(await tableNames(planned), ALL_TABLES, 'the same tables')
    for (const table of ALL_TABLES) {
      t.equal(await tableDefinition(planned, table), await tableDefinition(started, table), `SHOW CREATE TABLE ${table} is identical`)
    }
    t.equal(await schemaSnapshot(planned), await schemaSnapshot(started), 'and so is every index list')

    const check = await schemaCli(t, planned, 'check')
    t.equal(check.code, 0, 'check passes on the planned database')
    const again = await schemaCli(t, planned, 'plan')
    t.equal(again.stdout, '-- The schema already has everything the service needs.\n', 'and a new plan is empty')
  })

  t.test('plan output for a missing column and index, applied by the client, restores them', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    const h = await startApp(t, db)
    await h.tenant().then(({ tenantId, ownerId }) => connectRepository(h, tenantId, ownerId))
    await h.app.close()
    const healthy = { columns: await columns(db, SCM_TABLE), indexes: await indexList(db, SCM_TABLE) }
    await db.query(`ALTER TABLE ${SCM_TABLE} DROP INDEX idx_scm_tenant, DROP COLUMN verificationError`)

    const plan = await schemaCli(t, db, 'plan')
    t.equal(plan.code, 0, 'plan succeeds')
    t.equal(
      plan.stdout,
      [
        `-- additive: add-column ${SCM_TABLE}.verificationError: column missing`,
        `ALTER TABLE \`${SCM_TABLE}\` ADD \`verificationError\` VARCHAR(1024);`,
        '',
        `-- additive: add-index ${SCM_TABLE}.idx_scm_tenant: index missing`,
        `ALTER TABLE \`${SCM_TABLE}\` ADD INDEX \`idx_scm_tenant\` (\`tenantId\`, \`isActive\`);`,
        '',
      ].join('\n'),
      'two additive steps, each with its SQL',
    )
    const file = path.join(tempDir(t), 'plan.sql')
    fs.writeFileSync(file, plan.stdout)
    const client = await mariadbClient(t, db, file)
    t.equal(client.code, 0, 'the mariadb client runs it')
    t.same(await columns(db, SCM_TABLE), healthy.columns, 'the column is back as the service declares it')
    t.same(await indexList(db, SCM_TABLE), healthy.indexes, 'and the index')
    t.equal(await rowCount(db, SCM_TABLE), 1, 'the row kept')
    t.equal((await schemaCli(t, db, 'check')).code, 0, 'check passes')
  })
}
