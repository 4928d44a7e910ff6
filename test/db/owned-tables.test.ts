import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { KINDS } from '../../src/kinds/index.js'
import {
  OWNED_TABLES,
  SCM_TABLE,
  columns,
  type IntegrationRow,
  connectRepository,
  foreignKeys,
  indexList,
  insertIntegration,
  tableDefinition,
} from '../helpers/schema.js'

const OTHER_KINDS = KINDS.filter((k) => k.tableName !== SCM_TABLE)

/** The founding document's columns: type as each dialect spells it, nullability where the document fixes it, default. */
const EXPECTED: Record<string, { mysql: RegExp; sqlite: RegExp; nullable?: boolean; default?: string | null }> = {
  id: { mysql: /^varchar\(255\)$/, sqlite: /^VARCHAR\(255\)$/, nullable: false },
  tenantId: { mysql: /^char\(36\)$/, sqlite: /^CHAR( BINARY)?\(36\)$/, nullable: false },
  scmType: { mysql: /^enum\('GITHUB','GITLAB','BITBUCKET'\)$/, sqlite: /^TEXT$/, nullable: false },
  displayName: { mysql: /^varchar\(255\)$/, sqlite: /^VARCHAR\(255\)$/, nullable: false },
  githubOrganization: { mysql: /^varchar\(255\)$/, sqlite: /^VARCHAR\(255\)$/, nullable: true, default: null },
  githubRepository: { mysql: /^varchar\(255\)$/, sqlite: /^VARCHAR\(255\)$/, nullable: true, default: null },
  repositoryUrl: { mysql: /^varchar\(512\)$/, sqlite: /^VARCHAR\(512\)$/, nullable: false },
  defaultBranch: { mysql: /^varchar\(255\)$/, sqlite: /^VARCHAR\(255\)$/, default: "'main'" },
  accessToken: { mysql: /^text$/, sqlite: /^TEXT$/, nullable: true, default: null },
  isActive: { mysql: /^tinyint\(1\)$/, sqlite: /^TINYINT\(1\)$/, default: '1' },
  verificationStatus: { mysql: /^enum\('PENDING','VALID','INVALID','EXPIRED'\)$/, sqlite: /^TEXT$/, default: "'PENDING'" },
  lastVerifiedAt: { mysql: /^datetime(\(\d\))?$/, sqlite: /^DATETIME$/, nullable: true, default: null },
  createdByAccountId: { mysql: /^varchar\(255\)$/, sqlite: /^VARCHAR\(255\)$/, nullable: false },
  createdAt: { mysql: /^datetime(\(\d\))?$/, sqlite: /^DATETIME$/, nullable: false },
  updatedAt: { mysql: /^datetime(\(\d\))?$/, sqlite: /^DATETIME$/, nullable: false },
}

eachDatabase(t, async (t, db) => {
  const h = await startApp(t, db)
  const { app } = h
  const Scm = app.db.integrations.get('scm')!

  t.test('has every column of the founding document with its type, nullability and default', async (t) => {
    const actual = await columns(db, SCM_TABLE)
    for (const [name, want] of Object.entries(EXPECTED)) {
      const column = actual[name]
      if (!t.ok(column, `column ${name} exists`)) continue
      t.match(column!.type, want[db.dialect], `${name} type`)
      if (want.nullable !== undefined) t.equal(column!.nullable, want.nullable, `${name} ${want.nullable ? 'NULL' : 'NOT NULL'}`)
      if (want.default !== undefined) t.equal(column!.default, want.default, `${name} default`)
    }
  })

  t.test('every owned table stores tenantId exactly like tenants.id and createdByAccountId like accounts.id', async (t) => {
    const tenantId = (await columns(db, 'tenants')).id!
    const accountId = (await columns(db, 'accounts')).id!
    for (const table of OWNED_TABLES) {
      const own = await columns(db, table)
      t.same(
        [own.tenantId!.type, own.tenantId!.charset, own.tenantId!.collation],
        [tenantId.type, tenantId.charset, tenantId.collation],
        `${table}.tenantId`,
      )
      t.same(
        [own.createdByAccountId!.type, own.createdByAccountId!.charset, own.createdByAccountId!.collation],
        [accountId.type, accountId.charset, accountId.collation],
        `${table}.createdByAccountId`,
      )
      if (db.dialect === 'mysql') {
        t.equal(own.tenantId!.collation, 'utf8mb4_bin', `${table}: a binary collation, as Delivr declares tenants.id`)
        t.match(await tableDefinition(db, table), /^ {2}`tenantId` char\(36\) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,$/m)
      }
    }
  })

  t.test('fills defaultBranch, isActive and verificationStatus when a row leaves them out', async (t) => {
    const { tenantId, ownerId } = await h.tenant()
    const id = randomUUID()
    await db.query(
      `INSERT INTO ${SCM_TABLE} (id, tenantId, scmType, displayName, repositoryUrl, createdByAccountId, createdAt, updatedAt)
       VALUES ('${id}', '${tenantId}', 'GITLAB', 'Bare row', 'https://gitlab.example.com/a/b', '${ownerId}', '2024-01-02 03:04:05', '2024-01-02 03:04:05')`,
    )
    const rows = (await db.query(
      `SELECT defaultBranch, isActive, verificationStatus, lastVerifiedAt, accessToken FROM ${SCM_TABLE} WHERE id = '${id}'`,
    )) as {
      isActive: number
    }[]
    t.same(rows, [{ defaultBranch: 'main', isActive: 1, verificationStatus: 'PENDING', lastVerifiedAt: null, accessToken: null }])
  })

  t.test('names its indexes idx_scm_tenant and unique_tenant_scm_repo, on the documented columns', async (t) => {
    const indexes = await indexList(db, SCM_TABLE)
    t.ok(indexes.includes('idx_scm_tenant (tenantId, isActive)'), indexes.join('; '))
    t.ok(indexes.includes('UNIQUE unique_tenant_scm_repo (tenantId, scmType, repositoryUrl)'), indexes.join('; '))
  })

  t.test("gives every owned table the keyset index pages walk, (tenantId, id), named uniquely in the kinds' style", async (t) => {
    const expected = {
      tenant_scm_integrations: 'idx_scm_tenant_page (tenantId, id)',
      tenant_target_integrations: 'idx_target_tenant_page (tenantId, id)',
      tenant_cicd_integrations: 'idx_cicd_tenant_page (tenantId, id)',
      tenant_communication_integrations: 'idx_communication_tenant_page (tenantId, id)',
      tenant_project_management_integrations: 'idx_project_management_tenant_page (tenantId, id)',
      tenant_test_management_integrations: 'idx_test_management_tenant_page (tenantId, id)',
    }
    t.same(Object.keys(expected).sort(), [...OWNED_TABLES].sort(), 'one expectation per owned table')
    for (const [table, index] of Object.entries(expected)) {
      const indexes = await indexList(db, table)
      t.ok(indexes.includes(index), `${table}: ${index} in ${indexes.join('; ')}`)
    }
  })

  t.test(
    'every owned table has the named indexes its kind declares: one on tenantId and isActive, a unique one led by tenantId',
    async (t) => {
      for (const kind of KINDS) {
        const indexes = await indexList(db, kind.tableName)
        for (const index of kind.indexes) {
          const listed = `${index.unique ? 'UNIQUE ' : ''}${index.name} (${index.fields.join(', ')})`
          t.ok(indexes.includes(listed), `${kind.tableName}: ${listed} in ${indexes.join('; ')}`)
        }
        t.ok(
          kind.indexes.some((i) => /^idx_\w+_tenant$/.test(i.name) && !i.unique && i.fields.join(', ') === 'tenantId, isActive'),
          `${kind.tableName} has an idx_*_tenant index on (tenantId, isActive)`,
        )
        t.ok(
          kind.indexes.some((i) => /^unique_tenant_\w+$/.test(i.name) && i.unique && i.fields[0] === 'tenantId'),
          `${kind.tableName} has a unique_tenant_* index led by tenantId`,
        )
      }
    },
  )

  t.test('the database itself refuses the same repository twice for one tenant, not for another', async (t) => {
    const { tenantId, ownerId } = await h.tenant()
    const other = await h.tenant()
    const row = (extra: Record<string, string>) =>
      ({
        id: randomUUID(),
        tenantId,
        scmType: 'GITHUB',
        displayName: 'App',
        repositoryUrl: 'https://github.com/acme/dup',
        createdByAccountId: ownerId,
        ...extra,
      }) as IntegrationRow
    await Scm.create(row({}))
    await t.rejects(Scm.create(row({ displayName: 'Again' })), { name: 'SequelizeUniqueConstraintError' })
    await t.resolves(Scm.create(row({ scmType: 'GITLAB' })), 'another provider for the same URL is a different connection')
    await t.resolves(Scm.create(row({ tenantId: other.tenantId, createdByAccountId: other.ownerId })), 'another tenant may connect it')
    t.equal((await db.query(`SELECT id FROM ${SCM_TABLE} WHERE repositoryUrl = 'https://github.com/acme/dup'`)).length, 3)
  })

  t.test('refuses a provider or verification status outside its enum', async (t) => {
    const { tenantId, ownerId } = await h.tenant()
    const row = (extra: Record<string, string>) =>
      ({
        id: randomUUID(),
        tenantId,
        scmType: 'GITHUB',
        displayName: 'App',
        repositoryUrl: 'https://github.com/acme/enum',
        createdByAccountId: ownerId,
        ...extra,
      }) as IntegrationRow
    const invalid = { name: 'SequelizeValidationError' }
    await t.rejects(Scm.create(row({ scmType: 'SVN' })), invalid, 'scmType SVN')
    await t.rejects(Scm.create(row({ verificationStatus: 'UNKNOWN' })), invalid, 'verificationStatus UNKNOWN')
    const valid = await Scm.create(row({}))
    await t.rejects(
      Scm.update({ verificationStatus: 'UNKNOWN' } as never, { where: { id: valid.id } }),
      invalid,
      'verificationStatus UNKNOWN by update',
    )
    if (db.dialect === 'mysql') {
      await t.rejects(
        db.query(
          `INSERT INTO ${SCM_TABLE} (id, tenantId, scmType, displayName, repositoryUrl, createdByAccountId, createdAt, updatedAt)
           VALUES ('${randomUUID()}', '${tenantId}', 'SVN', 'raw', 'https://x.example/a', '${ownerId}', NOW(), NOW())`,
        ),
        { message: /scmType/ },
        'MariaDB refuses it too',
      )
    }
    t.same(
      await db.query(`SELECT id, scmType, verificationStatus FROM ${SCM_TABLE} WHERE tenantId = '${tenantId}'`),
      [{ id: valid.id, scmType: 'GITHUB', verificationStatus: 'PENDING' }],
      'only the valid row is stored, unchanged',
    )
  })

  t.test('every owned table references tenants with ON DELETE CASCADE and accounts with ON DELETE RESTRICT', async (t) => {
    for (const table of OWNED_TABLES) {
      t.same(
        await foreignKeys(db, table),
        ['createdByAccountId -> accounts.id ON DELETE RESTRICT', 'tenantId -> tenants.id ON DELETE CASCADE'],
        table,
      )
      if (db.dialect === 'mysql') {
        t.match(await tableDefinition(db, table), 'FOREIGN KEY (`tenantId`) REFERENCES `tenants` (`id`) ON DELETE CASCADE')
      }
    }
  })

  t.test('refuses an integration for a tenant that does not exist', async (t) => {
    const { ownerId } = await h.tenant()
    const ghost = randomUUID()
    await t.rejects(
      Scm.create({
        id: randomUUID(),
        tenantId: ghost,
        scmType: 'GITHUB',
        displayName: 'Ghost',
        repositoryUrl: 'https://github.com/a/ghost',
        createdByAccountId: ownerId,
      } as IntegrationRow),
      { name: 'SequelizeForeignKeyConstraintError' },
    )
    for (const kind of OTHER_KINDS) {
      await t.rejects(insertIntegration(app, kind, ghost, ownerId), { name: 'SequelizeForeignKeyConstraintError' }, kind.segment)
    }
    for (const table of OWNED_TABLES) {
      t.equal((await db.query(`SELECT id FROM ${table} WHERE tenantId = '${ghost}'`)).length, 0, `nothing in ${table}`)
    }
  })

  t.test('deleting a tenant removes its integrations of every kind and leaves other tenants alone', async (t) => {
    const doomed = await h.tenant()
    const kept = await h.tenant()
    await connectRepository(h, doomed.tenantId, doomed.ownerId, 'acme/one')
    await connectRepository(h, doomed.tenantId, doomed.ownerId, 'acme/two')
    const survivors: Record<string, { id: string }[]> = {
      [SCM_TABLE]: [{ id: (await connectRepository(h, kept.tenantId, kept.ownerId, 'acme/one')).id }],
    }
    for (const kind of OTHER_KINDS) {
      await insertIntegration(app, kind, doomed.tenantId, doomed.ownerId)
      survivors[kind.tableName] = [{ id: await insertIntegration(app, kind, kept.tenantId, kept.ownerId) }]
    }
    const sql = app.db.sequelize
    await sql.query('DELETE FROM collaborators WHERE tenantId = ?', { replacements: [doomed.tenantId] })
    await sql.query('DELETE FROM tenants WHERE id = ?', { replacements: [doomed.tenantId] })
    for (const table of OWNED_TABLES) {
      t.same(await db.query(`SELECT id FROM ${table} WHERE tenantId = '${doomed.tenantId}'`), [], `${table}: the tenant's rows are gone`)
      t.same(
        await db.query(`SELECT id FROM ${table} WHERE tenantId = '${kept.tenantId}'`),
        survivors[table],
        `${table}: the other tenant's row is kept`,
      )
    }
  })

  t.test('refuses to delete an account that created an integration of any kind, until the integration is gone', async (t) => {
    const { tenantId } = await h.tenant()
    const sql = app.db.sequelize
    // One creator per table, each with a single integration there: every table's key restricts on its own.
    for (const kind of KINDS) {
      const table = kind.tableName
      const creator = await h.account({ [tenantId]: 'Owner' })
      const id =
        table === SCM_TABLE ? (await connectRepository(h, tenantId, creator)).id : await insertIntegration(app, kind, tenantId, creator)
      await sql.query('DELETE FROM collaborators WHERE accountId = ?', { replacements: [creator] })
      await t.rejects(
        sql.query('DELETE FROM accounts WHERE id = ?', { replacements: [creator] }),
        { name: 'SequelizeForeignKeyConstraintError' },
        `${table}: refused while the integration is there`,
      )
      t.equal((await db.query(`SELECT id FROM accounts WHERE id = '${creator}'`)).length, 1, `${table}: the account is still there`)
      t.same(await db.query(`SELECT createdByAccountId FROM ${table} WHERE id = '${id}'`), [{ createdByAccountId: creator }])

      await sql.query(`DELETE FROM ${table} WHERE id = ?`, { replacements: [id] })
      await t.resolves(
        sql.query('DELETE FROM accounts WHERE id = ?', { replacements: [creator] }),
        `${table}: deletable once nothing it created remains`,
      )
      t.equal((await db.query(`SELECT id FROM accounts WHERE id = '${creator}'`)).length, 0)
    }
  })
})
