import fs from 'node:fs'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createTestDatabase, eachDatabase, type TestDatabase } from '../helpers/databases.js'
import {
  REFERENCE_TABLES,
  SCM_TABLE,
  columns,
  type IntegrationRow,
  connectRepository,
  foreignKeys,
  readiness,
  tableDefinition,
} from '../helpers/schema.js'

const FIXTURE = fs.readFileSync(new URL('../fixtures/delivr-reference-mysql.sql', import.meta.url), 'utf8')

/** What the main Delivr server would have written: an account, its tenant, its Owner membership. */
async function seedDelivr(db: TestDatabase) {
  const accountId = `acct-${randomUUID()}`
  const tenantId = randomUUID()
  await db.query(
    `INSERT INTO accounts (id, email, name, picture, createdTime, createdAt, updatedAt)
       VALUES ('${accountId}', '${accountId}@delivr.example', 'Delivr User', NULL, 1700000000000, NOW(), NOW());
     INSERT INTO tenants (id, displayName, createdBy, createdAt, updatedAt) VALUES ('${tenantId}', 'Acme', '${accountId}', NOW(), NOW());
     INSERT INTO collaborators (email, accountId, appId, tenantId, permission, isCreator, createdAt, updatedAt)
       VALUES ('${accountId}@delivr.example', '${accountId}', NULL, '${tenantId}', 'Owner', 1, NOW(), NOW());`,
  )
  return { accountId, tenantId }
}

async function referenceDefinitions(db: TestDatabase) {
  return Promise.all(REFERENCE_TABLES.map((table) => tableDefinition(db, table)))
}

eachDatabase(t, async (t, { dialect }) => {
  if (dialect === 'sqlite') {
    t.plan(0, 'the Delivr reference schema is MySQL DDL (CHAR(36) BINARY, InnoDB foreign keys); SQLite has no collation to mismatch')
    return
  }

  t.test('attaches to a Delivr database: creates its own table with a working tenant key and leaves Delivr tables untouched', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    await db.query(FIXTURE)
    const { accountId, tenantId } = await seedDelivr(db)
    const before = await referenceDefinitions(db)

    const h = await startApp(t, db)
    t.same(h.app.db.schema, { missing: [], applied: [`table ${SCM_TABLE}`] }, 'created only its own table')
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] })
    t.same(await referenceDefinitions(db), before, 'accounts, tenants, collaborators: SHOW CREATE TABLE unchanged')

    const tenantsId = (await columns(db, 'tenants')).id!
    const scmTenantId = (await columns(db, SCM_TABLE)).tenantId!
    t.same([scmTenantId.type, scmTenantId.charset, scmTenantId.collation], ['char(36)', 'utf8mb4', 'utf8mb4_bin'])
    t.same([tenantsId.type, tenantsId.charset, tenantsId.collation], ['char(36)', 'utf8mb4', 'utf8mb4_bin'])
    t.same(await foreignKeys(db, SCM_TABLE), [
      'createdByAccountId -> accounts.id ON DELETE RESTRICT',
      'tenantId -> tenants.id ON DELETE CASCADE',
    ])

    const created = await connectRepository(h, tenantId, accountId)
    t.same(await db.query(`SELECT tenantId, createdByAccountId FROM ${SCM_TABLE} WHERE id = '${created.id}'`), [
      { tenantId, createdByAccountId: accountId },
    ])
    const Scm = h.app.db.integrations.get('scm')!
    await t.rejects(
      Scm.create({
        id: randomUUID(),
        tenantId: randomUUID(),
        scmType: 'GITHUB',
        displayName: 'Nowhere',
        repositoryUrl: 'https://github.com/acme/nowhere',
        createdByAccountId: accountId,
      } as IntegrationRow),
      { name: 'SequelizeForeignKeyConstraintError' },
      'a tenant Delivr does not know is refused',
    )
    await db.query(`DELETE FROM collaborators WHERE tenantId = '${tenantId}'; DELETE FROM tenants WHERE id = '${tenantId}'`)
    t.same(await db.query(`SELECT id FROM ${SCM_TABLE}`), [], 'deleting the tenant in Delivr removed its integration')

    await h.app.close()
    const again = await startApp(t, db)
    t.same(again.app.db.schema, { missing: [], applied: [] })
    t.same(await referenceDefinitions(db), before, 'still unchanged after a restart')
  })

  t.test('the plain CHAR(36) key the design warns about is refused by that database (errno 150)', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    await db.query(FIXTURE)
    await t.rejects(
      db.query(
        'CREATE TABLE x (tenantId CHAR(36) NOT NULL, FOREIGN KEY (tenantId) REFERENCES tenants(id)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
      ),
      { errno: 1005, message: /errno: 150/ },
    )
    const h = await startApp(t, db)
    t.match(
      await tableDefinition(db, SCM_TABLE),
      /^ {2}`tenantId` char\(36\) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,$/m,
      'the service declared the binary collation instead',
    )
    t.same(h.app.db.schema.missing, [])
  })

  t.test('attaches to a Delivr database whose tables default to latin1', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    await db.query(`ALTER DATABASE \`${db.name}\` CHARACTER SET latin1 COLLATE latin1_swedish_ci`)
    await db.query(FIXTURE)
    const { accountId, tenantId } = await seedDelivr(db)
    const before = await referenceDefinitions(db)
    const tenantsId = (await columns(db, 'tenants')).id!
    t.same([tenantsId.charset, tenantsId.collation], ['latin1', 'latin1_bin'], 'the fixture really is latin1 here')

    const h = await startApp(t, db)
    const scm = await columns(db, SCM_TABLE)
    t.same([scm.tenantId!.type, scm.tenantId!.charset, scm.tenantId!.collation], ['char(36)', 'latin1', 'latin1_bin'])
    const accountsId = (await columns(db, 'accounts')).id!
    t.same([scm.createdByAccountId!.charset, scm.createdByAccountId!.collation], [accountsId.charset, accountsId.collation])
    const created = await connectRepository(h, tenantId, accountId)
    t.equal((await db.query(`SELECT id FROM ${SCM_TABLE} WHERE id = '${created.id}'`)).length, 1)
    t.same(await referenceDefinitions(db), before)
  })

  t.test('creates missing reference tables exactly as the Delivr server does', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    const delivr = await createTestDatabase(t, 'mysql')
    await delivr.query(FIXTURE)
    const h = await startApp(t, db)
    t.same(h.app.db.schema.missing, [])
    t.same(await referenceDefinitions(db), await referenceDefinitions(delivr), 'SHOW CREATE TABLE of accounts, tenants, collaborators')
  })
})
