import fs from 'node:fs'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { createTestDatabase, eachDatabase, type TestDatabase } from '../../helpers/databases.js'
import { KINDS } from '../../../src/kinds/index.js'
import {
  ALL_TABLES,
  OWNED_FOREIGN_KEYS,
  OWNED_TABLES,
  SERVICE_TABLES,
  REFERENCE_TABLES,
  SCM_TABLE,
  columns,
  connectRepository,
  foreignKeys,
  insertIntegration,
  readiness,
  rowCounts,
  tableDefinition,
  tableEntries,
  tableNames,
} from '../../helpers/schema.js'

const FIXTURE = fs.readFileSync(new URL('../../fixtures/delivr-reference-mysql.sql', import.meta.url), 'utf8')

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

  t.test('attaches to a Delivr database: creates its own tables with working tenant keys and leaves Delivr tables untouched', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    await db.query(FIXTURE)
    const { accountId, tenantId } = await seedDelivr(db)
    const before = await referenceDefinitions(db)

    const h = await startApp(t, db)
    t.same(
      h.app.db.schema,
      { missing: [], applied: tableEntries(SERVICE_TABLES), review: [] },
      'created exactly its own tables, in catalog order, and found nothing to review',
    )
    t.same(await tableNames(db), ALL_TABLES, 'the Delivr tables and every owned table, nothing else')
    t.same((await readiness(h.app)).body, { status: 'ok', database: 'up', missing: [] })
    t.same(await referenceDefinitions(db), before, 'accounts, tenants, collaborators: SHOW CREATE TABLE unchanged')

    const tenantsId = (await columns(db, 'tenants')).id!
    t.same([tenantsId.type, tenantsId.charset, tenantsId.collation], ['char(36)', 'utf8mb4', 'utf8mb4_bin'])
    for (const table of OWNED_TABLES) {
      const ownTenantId = (await columns(db, table)).tenantId!
      t.same([ownTenantId.type, ownTenantId.charset, ownTenantId.collation], ['char(36)', 'utf8mb4', 'utf8mb4_bin'], `${table}.tenantId`)
      t.same(await foreignKeys(db, table), OWNED_FOREIGN_KEYS, `${table} foreign keys`)
    }

    const created = await connectRepository(h, tenantId, accountId)
    t.same(await db.query(`SELECT tenantId, createdByAccountId FROM ${SCM_TABLE} WHERE id = '${created.id}'`), [
      { tenantId, createdByAccountId: accountId },
    ])
    for (const kind of KINDS) {
      if (kind.tableName !== SCM_TABLE) {
        const id = await insertIntegration(h.app, kind, tenantId, accountId)
        t.same(await db.query(`SELECT tenantId, createdByAccountId FROM ${kind.tableName} WHERE id = '${id}'`), [
          { tenantId, createdByAccountId: accountId },
        ])
      }
      await t.rejects(
        insertIntegration(h.app, kind, randomUUID(), accountId),
        { name: 'SequelizeForeignKeyConstraintError' },
        `${kind.segment}: a tenant Delivr does not know is refused`,
      )
    }
    t.same(
      await rowCounts(db, OWNED_TABLES),
      Object.fromEntries(OWNED_TABLES.map((table) => [table, 1])),
      'an integration of every kind for the tenant',
    )
    await db.query(`DELETE FROM collaborators WHERE tenantId = '${tenantId}'; DELETE FROM tenants WHERE id = '${tenantId}'`)
    t.same(
      await rowCounts(db, OWNED_TABLES),
      Object.fromEntries(OWNED_TABLES.map((table) => [table, 0])),
      'deleting the tenant in Delivr removed its integrations of every kind',
    )

    await h.app.close()
    const again = await startApp(t, db)
    t.same(again.app.db.schema, { missing: [], applied: [], review: [] }, 'a restart finds nothing to add or review')
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
    for (const table of OWNED_TABLES) {
      t.match(
        await tableDefinition(db, table),
        /^ {2}`tenantId` char\(36\) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,$/m,
        `${table}: the service declared the binary collation instead`,
      )
    }
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
    t.same(h.app.db.schema.missing, [])
    const accountsId = (await columns(db, 'accounts')).id!
    for (const table of OWNED_TABLES) {
      const own = await columns(db, table)
      t.same(
        [own.tenantId!.type, own.tenantId!.charset, own.tenantId!.collation],
        ['char(36)', 'latin1', 'latin1_bin'],
        `${table}.tenantId`,
      )
      t.same(
        [own.createdByAccountId!.charset, own.createdByAccountId!.collation],
        [accountsId.charset, accountsId.collation],
        `${table}.createdByAccountId`,
      )
      t.same(await foreignKeys(db, table), OWNED_FOREIGN_KEYS, `${table} foreign keys`)
    }
    const created = await connectRepository(h, tenantId, accountId)
    t.equal((await db.query(`SELECT id FROM ${SCM_TABLE} WHERE id = '${created.id}'`)).length, 1)
    for (const kind of KINDS.filter((k) => k.tableName !== SCM_TABLE)) {
      const id = await insertIntegration(h.app, kind, tenantId, accountId)
      t.equal((await db.query(`SELECT id FROM ${kind.tableName} WHERE id = '${id}'`)).length, 1, `${kind.segment}: stored`)
    }
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
