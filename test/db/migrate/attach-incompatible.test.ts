import fs from 'node:fs'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js'
import { schemaCli } from '../../helpers/processes.js'
import {
  OWNED_FOREIGN_KEYS,
  OWNED_TABLES,
  SERVICE_TABLES,
  REFERENCE_TABLES,
  SCM_TABLE,
  columns,
  foreignKeys,
  rowCount,
  tableDefinition,
  tableNames,
} from '../../helpers/schema.js'

const FIXTURE = fs.readFileSync(new URL('../../fixtures/delivr-reference-mysql.sql', import.meta.url), 'utf8')
const FIX = `ALTER TABLE \`${SCM_TABLE}\` MODIFY \`tenantId\` char(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL`

/**
 * The SCM table as this service creates it, but with the key an older sync would have
 * made: `tenantId` a plain CHAR(36) in the table's utf8mb4_unicode_ci, and no foreign key.
 */
async function plainKeyTable(t: Parameters<typeof createTestDatabase>[0]): Promise<string> {
  const model = await createTestDatabase(t, 'mysql')
  const h = await startApp(t, model)
  await h.app.close()
  const lines = (await tableDefinition(model, SCM_TABLE)).split('\n')
  const column = lines.findIndex((l) => l.startsWith('  `tenantId` '))
  const key = lines.findIndex((l) => l.includes('FOREIGN KEY (`tenantId`)'))
  if (column === -1 || key === -1) throw new Error(`unexpected definition:\n${lines.join('\n')}`)
  lines[column] = '  `tenantId` char(36) NOT NULL,'
  lines.splice(key, 1)
  // The line before `)` must not end with a comma.
  const close = lines.findIndex((l) => l.startsWith(')'))
  lines[close - 1] = lines[close - 1]!.replace(/,$/, '')
  return lines.join('\n')
}

async function seedDelivr(db: TestDatabase) {
  const accountId = `acct-${randomUUID()}`
  const tenantId = randomUUID()
  await db.query(
    `INSERT INTO accounts (id, email, name, createdAt, updatedAt) VALUES ('${accountId}', '${accountId}@delivr.example', 'Delivr User', NOW(), NOW());
     INSERT INTO tenants (id, displayName, createdBy, createdAt, updatedAt) VALUES ('${tenantId}', 'Acme', '${accountId}', NOW(), NOW());`,
  )
  return { accountId, tenantId }
}

if (!testDialects().includes('mysql')) {
  t.plan(0, 'the Delivr reference schema and its utf8mb4_bin tenant key are MySQL; SQLite has no collation to mismatch')
} else {
  t.test('an owned table whose tenantId cannot hold a key to Delivr tenants stops the start, naming the fix', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    await db.query(FIXTURE)
    await db.query(await plainKeyTable(t))
    const { accountId, tenantId } = await seedDelivr(db)
    await db.query(
      `INSERT INTO ${SCM_TABLE} (id, tenantId, scmType, displayName, repositoryUrl, createdByAccountId, createdAt, updatedAt)
       VALUES ('${randomUUID()}', '${tenantId}', 'GITHUB', 'Existing', 'https://github.com/acme/app', '${accountId}', NOW(), NOW())`,
    )
    const tenantKey = (await columns(db, SCM_TABLE)).tenantId!
    t.same([tenantKey.type, tenantKey.collation], ['char(36)', 'utf8mb4_unicode_ci'], 'the attached table has the plain key')
    const before = await Promise.all([...REFERENCE_TABLES, SCM_TABLE].map((table) => tableDefinition(db, table)))

    for (const mode of ['alter', 'safe']) {
      const error = await startApp(t, db, { DB_SYNC: mode }).then(
        () => undefined,
        (err: unknown) => err as Error & { steps?: { action: string; object: string; additive: boolean; sql: string[] }[] },
      )
      t.equal(error?.name, 'SchemaIncompatibleError', `${mode}: the start fails with SchemaIncompatibleError`)
      t.match(error?.message, `change-column ${SCM_TABLE}.tenantId: collation is utf8mb4_unicode_ci`, `${mode}: naming table and column`)
      t.match(error?.message, `${FIX};`, `${mode}: and the SQL that would fix it`)
      t.same(
        error?.steps?.map(({ action, object, additive, sql }) => ({ action, object, additive, sql })),
        [{ action: 'change-column', object: `${SCM_TABLE}.tenantId`, additive: false, sql: [FIX] }],
        `${mode}: that change alone`,
      )
    }
    t.same(await tableNames(db), [...REFERENCE_TABLES, SCM_TABLE].sort(), 'no other table was created')
    t.same(
      await Promise.all([...REFERENCE_TABLES, SCM_TABLE].map((table) => tableDefinition(db, table))),
      before,
      'the Delivr tables and the attached table are as they were',
    )

    const check = await schemaCli(t, db, 'check')
    t.equal(check.code, 1, 'check fails')
    t.match(check.stdout, `-- NEEDS REVIEW: change-column ${SCM_TABLE}.tenantId: collation is utf8mb4_unicode_ci`, 'naming the column')
    const apply = await schemaCli(t, db, 'apply')
    t.equal(apply.code, 2, 'apply refuses')
    t.match(apply.stderr, /^The database schema is incompatible with this service; review and apply:\n/, 'saying why')
    t.match(apply.stderr, FIX, 'and what to run')
    t.same(await tableNames(db), [...REFERENCE_TABLES, SCM_TABLE].sort(), 'and creates nothing either')

    t.test('once the given SQL is applied, the service starts, keys the table and cascades Delivr deletes', async (t) => {
      await db.query(FIX)
      const h = await startApp(t, db)
      t.same(
        h.app.db.schema.applied,
        [`foreign key ${SCM_TABLE}.tenantId`, ...SERVICE_TABLES.filter((table) => table !== SCM_TABLE).map((table) => `table ${table}`)],
        'it added the missing key and the missing tables',
      )
      t.same(h.app.db.schema.review, [], 'nothing left to review')
      for (const table of OWNED_TABLES) t.same(await foreignKeys(db, table), OWNED_FOREIGN_KEYS, `${table} foreign keys`)
      t.same(await Promise.all(REFERENCE_TABLES.map((table) => tableDefinition(db, table))), before.slice(0, 3), 'Delivr tables untouched')
      t.equal(await rowCount(db, SCM_TABLE), 1, 'the existing integration is kept')
      await db.query(`DELETE FROM tenants WHERE id = '${tenantId}'`)
      t.equal(await rowCount(db, SCM_TABLE), 0, 'and goes with its tenant')
    })
  })
}
