import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import { createTestDatabase, testDialects, type Dialect, type TestDatabase } from '../../helpers/databases.js'
import {
  ALL_TABLES,
  SCM_TABLE,
  indexList,
  insertIntegration,
  openEngine,
  rebuildSqliteTable,
  replaceOnce,
  schemaCommand,
  schemaSnapshot,
  tableRows,
} from '../../helpers/schema.js'

// A fresh database per kind of drift, each started with safe and alter and checked by the CLI.
t.setTimeout(300_000)

/** Every named unique index of the owned tables, as the contract and the kind definitions name them. */
const UNIQUE_INDEXES: [table: string, index: string, fields: string[]][] = [
  ['tenant_scm_integrations', 'unique_tenant_scm_repo', ['tenantId', 'scmType', 'repositoryUrl']],
  ['tenant_target_integrations', 'unique_tenant_target_app', ['tenantId', 'targetType', 'applicationId']],
  ['tenant_cicd_integrations', 'unique_tenant_cicd_jenkins', ['tenantId', 'cicdType', 'hostUrl', 'username']],
  ['tenant_cicd_integrations', 'unique_tenant_cicd_repo', ['tenantId', 'cicdType', 'repositoryUrl']],
  ['tenant_communication_integrations', 'unique_tenant_communication_workspace', ['tenantId', 'communicationType', 'workspaceId']],
  ['tenant_project_management_integrations', 'unique_tenant_project_management_site', ['tenantId', 'projectManagementType', 'baseUrl']],
  ['tenant_test_management_integrations', 'unique_tenant_test_management_org', ['tenantId', 'testManagementType', 'baseUrl', 'orgId']],
]

interface Expected {
  action: string
  object: string
  additive: boolean
  reason: string
  sql: string[]
}

interface Drift {
  damage: (db: TestDatabase) => Promise<void>
  /** The plan's steps, in plan order. */
  steps: (dialect: Dialect) => Expected[]
}

const q = (names: string[]) => names.map((n) => `\`${n}\``).join(', ')
const listed = (fields: string[]) => fields.join(', ')

function createIndexSql(dialect: Dialect, table: string, index: string, fields: string[], unique: boolean): string {
  return dialect === 'mysql'
    ? `ALTER TABLE \`${table}\` ADD ${unique ? 'UNIQUE ' : ''}INDEX \`${index}\` (${q(fields)})`
    : `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`${index}\` ON \`${table}\` (${q(fields)})`
}

function dropIndexSql(dialect: Dialect, table: string, index: string): string {
  return dialect === 'mysql' ? `ALTER TABLE \`${table}\` DROP INDEX \`${index}\`` : `DROP INDEX \`${index}\``
}

/** Recreates every unique index as `fields(original)` with `unique`. */
async function reshapeUniqueIndexes(db: TestDatabase, unique: boolean, fields: (original: string[]) => string[]) {
  for (const [table, index, original] of UNIQUE_INDEXES) {
    await db.query(dropIndexSql(db.dialect, table, index))
    await db.query(createIndexSql(db.dialect, table, index, fields(original), unique))
  }
}

/** Runs MySQL ALTERs, or on SQLite rebuilds the SCM table with each `[from, to]` replaced in its CREATE TABLE. */
async function alterScm(db: TestDatabase, mysql: string, sqlite: [from: string, to: string][]) {
  if (db.dialect === 'mysql') await db.query(`ALTER TABLE ${SCM_TABLE} ${mysql}`)
  else await rebuildSqliteTable(db, SCM_TABLE, (sql) => sqlite.reduce((s, [from, to]) => replaceOnce(s, from, to), sql))
}

/** A column change step: MySQL gives the MODIFY, SQLite says to rebuild. */
function columnStep(dialect: Dialect, column: string, reason: { mysql: string; sqlite: string }, definition: string): Expected {
  return {
    action: 'change-column',
    object: `${SCM_TABLE}.${column}`,
    additive: false,
    reason: reason[dialect],
    sql: [
      dialect === 'mysql'
        ? `ALTER TABLE \`${SCM_TABLE}\` MODIFY \`${column}\` ${definition}`
        : `-- SQLite cannot change a column in place: rebuild ${SCM_TABLE} with \`${column}\` ${definition}, copy its rows, then swap the tables`,
    ],
  }
}

const DRIFTS: Record<string, Drift> = {
  'a unique index made non-unique': {
    damage: (db) => reshapeUniqueIndexes(db, false, (fields) => fields),
    steps: (dialect) =>
      UNIQUE_INDEXES.map(([table, index, fields]) => ({
        action: 'change-index',
        object: `${table}.${index}`,
        additive: false,
        reason: `index is (${listed(fields)}), models need UNIQUE (${listed(fields)})`,
        sql: [dropIndexSql(dialect, table, index), createIndexSql(dialect, table, index, fields, true)],
      })),
  },
  'a unique index widened by a column': {
    damage: (db) => reshapeUniqueIndexes(db, true, (fields) => [...fields, 'isActive']),
    steps: (dialect) =>
      UNIQUE_INDEXES.map(([table, index, fields]) => ({
        action: 'change-index',
        object: `${table}.${index}`,
        additive: false,
        reason: `index is UNIQUE (${listed(fields)}, isActive), models need UNIQUE (${listed(fields)})`,
        sql: [dropIndexSql(dialect, table, index), createIndexSql(dialect, table, index, fields, true)],
      })),
  },
  'a unique index dropped': {
    damage: async (db) => {
      for (const [table, index] of UNIQUE_INDEXES) await db.query(dropIndexSql(db.dialect, table, index))
    },
    steps: (dialect) =>
      UNIQUE_INDEXES.map(([table, index, fields]) => ({
        action: 'add-index',
        object: `${table}.${index}`,
        additive: true,
        reason: 'index missing',
        sql: [createIndexSql(dialect, table, index, fields, true)],
      })),
  },
  'nullability changed': {
    damage: (db) =>
      alterScm(db, 'MODIFY displayName VARCHAR(255) NULL, MODIFY githubOrganization VARCHAR(255) NOT NULL', [
        ['`displayName` VARCHAR(255) NOT NULL', '`displayName` VARCHAR(255)'],
        ['`githubOrganization` VARCHAR(255),', '`githubOrganization` VARCHAR(255) NOT NULL,'],
      ]),
    steps: (dialect) => [
      columnStep(
        dialect,
        'displayName',
        {
          mysql: 'allows NULL, models need NOT NULL (now varchar(255) COLLATE utf8mb4_unicode_ci NULL)',
          sqlite: 'allows NULL, models need NOT NULL (now VARCHAR(255) NULL)',
        },
        'VARCHAR(255) NOT NULL',
      ),
      columnStep(
        dialect,
        'githubOrganization',
        {
          mysql: 'is NOT NULL, models allow NULL (now varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL)',
          sqlite: 'is NOT NULL, models allow NULL (now VARCHAR(255) NOT NULL)',
        },
        'VARCHAR(255)',
      ),
    ],
  },
  'a foreign key ON DELETE action changed': {
    damage: async (db) => {
      if (db.dialect === 'sqlite') {
        await alterScm(db, '', [
          ['REFERENCES `tenants` (`id`) ON DELETE CASCADE', 'REFERENCES `tenants` (`id`) ON DELETE RESTRICT'],
          ['REFERENCES `accounts` (`id`) ON DELETE RESTRICT', 'REFERENCES `accounts` (`id`) ON DELETE CASCADE'],
        ])
        return
      }
      const keys = (await db.query(
        `SELECT CONSTRAINT_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS
          WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = '${SCM_TABLE}'`,
      )) as { name: string }[]
      await db.query(`ALTER TABLE ${SCM_TABLE} ${keys.map((k) => `DROP FOREIGN KEY \`${k.name}\``).join(', ')}`)
      await db.query(
        `ALTER TABLE ${SCM_TABLE}
           ADD CONSTRAINT fk_scm_tenant FOREIGN KEY (tenantId) REFERENCES tenants (id) ON DELETE RESTRICT ON UPDATE CASCADE,
           ADD CONSTRAINT fk_scm_creator FOREIGN KEY (createdByAccountId) REFERENCES accounts (id) ON DELETE CASCADE ON UPDATE CASCADE`,
      )
    },
    steps: (dialect) =>
      (
        [
          ['tenantId', 'tenants', 'fk_scm_tenant', 'RESTRICT', 'CASCADE'],
          ['createdByAccountId', 'accounts', 'fk_scm_creator', 'CASCADE', 'RESTRICT'],
        ] as const
      ).map(([column, refTable, name, now, wanted]) => {
        const clause = `FOREIGN KEY (\`${column}\`) REFERENCES \`${refTable}\` (\`id\`) ON DELETE ${wanted} ON UPDATE CASCADE`
        return {
          action: 'change-foreign-key',
          object: `${SCM_TABLE}.${column}`,
          additive: false,
          reason: `foreign key is ON DELETE ${now} ON UPDATE CASCADE, models need ON DELETE ${wanted} ON UPDATE CASCADE`,
          sql:
            dialect === 'mysql'
              ? [
                  `ALTER TABLE \`${SCM_TABLE}\` DROP FOREIGN KEY \`${name}\``,
                  `ALTER TABLE \`${SCM_TABLE}\` ADD CONSTRAINT \`${name}\` ${clause}`,
                ]
              : [`-- SQLite cannot change a foreign key in place: rebuild ${SCM_TABLE} with ${clause}`],
        }
      }),
  },
  'a column type changed': {
    damage: (db) =>
      alterScm(db, 'MODIFY verificationError TEXT NULL, MODIFY isActive INTEGER NOT NULL DEFAULT 1', [
        ['`isActive` TINYINT(1) NOT NULL', '`isActive` INTEGER NOT NULL'],
        ['`verificationError` VARCHAR(1024)', '`verificationError` TEXT'],
      ]),
    steps: (dialect) => [
      columnStep(
        dialect,
        'isActive',
        {
          mysql: 'type is int(11), models need TINYINT(1) (now int(11) NOT NULL)',
          sqlite: 'type is INTEGER, models need TINYINT(1) (now INTEGER NOT NULL)',
        },
        dialect === 'mysql' ? 'TINYINT(1) NOT NULL DEFAULT true' : 'TINYINT(1) NOT NULL DEFAULT 1',
      ),
      columnStep(
        dialect,
        'verificationError',
        {
          mysql: 'type is text, models need VARCHAR(1024) (now text COLLATE utf8mb4_unicode_ci NULL)',
          sqlite: 'type is TEXT, models need VARCHAR(1024) (now TEXT NULL)',
        },
        'VARCHAR(1024)',
      ),
    ],
  },
  'a default changed, dropped or added': {
    damage: (db) =>
      alterScm(
        db,
        `ALTER githubRepository SET DEFAULT 'repo', ALTER defaultBranch SET DEFAULT 'master', ALTER isActive SET DEFAULT 0,
         ALTER verificationStatus DROP DEFAULT`,
        [
          ['`githubRepository` VARCHAR(255),', "`githubRepository` VARCHAR(255) DEFAULT 'repo',"],
          ["`defaultBranch` VARCHAR(255) DEFAULT 'main'", "`defaultBranch` VARCHAR(255) DEFAULT 'master'"],
          ['`isActive` TINYINT(1) NOT NULL DEFAULT 1', '`isActive` TINYINT(1) NOT NULL DEFAULT 0'],
          ["`verificationStatus` TEXT NOT NULL DEFAULT 'PENDING'", '`verificationStatus` TEXT NOT NULL'],
        ],
      ),
    steps: (dialect) => [
      columnStep(
        dialect,
        'githubRepository',
        {
          mysql: "default is 'repo', models need none (now varchar(255) COLLATE utf8mb4_unicode_ci NULL)",
          sqlite: "default is 'repo', models need none (now VARCHAR(255) NULL)",
        },
        'VARCHAR(255)',
      ),
      columnStep(
        dialect,
        'defaultBranch',
        {
          mysql: "default is 'master', models need 'main' (now varchar(255) COLLATE utf8mb4_unicode_ci NULL)",
          sqlite: "default is 'master', models need 'main' (now VARCHAR(255) NULL)",
        },
        "VARCHAR(255) DEFAULT 'main'",
      ),
      columnStep(
        dialect,
        'isActive',
        {
          mysql: 'default is 0, models need true (now tinyint(1) NOT NULL)',
          sqlite: 'default is 0, models need 1 (now TINYINT(1) NOT NULL)',
        },
        dialect === 'mysql' ? 'TINYINT(1) NOT NULL DEFAULT true' : 'TINYINT(1) NOT NULL DEFAULT 1',
      ),
      columnStep(
        dialect,
        'verificationStatus',
        {
          mysql:
            "default is none, models need 'PENDING' (now enum('PENDING','VALID','INVALID','EXPIRED') COLLATE utf8mb4_unicode_ci NOT NULL)",
          sqlite: "default is none, models need 'PENDING' (now TEXT NOT NULL)",
        },
        dialect === 'mysql'
          ? "ENUM('PENDING', 'VALID', 'INVALID', 'EXPIRED') NOT NULL DEFAULT 'PENDING'"
          : "TEXT NOT NULL DEFAULT 'PENDING'",
      ),
    ],
  },
}

/** A database as the service makes it, with an integration of every kind (the SCM one naming its organization). */
async function healthyDatabase(t: Test, dialect: Dialect) {
  const db = await createTestDatabase(t, dialect)
  const { database } = await openEngine(t, db, 'safe')
  const accountId = `acct-${randomUUID()}`
  const tenantId = randomUUID()
  await database.models.Account.create({
    id: accountId,
    email: `${accountId}@example.test`,
    name: 'Owner',
    picture: null,
    createdTime: null,
  })
  await database.models.Tenant.create({ id: tenantId, displayName: 'Acme', createdBy: accountId })
  for (const kind of KINDS) await insertIntegration({ db: database }, kind, tenantId, accountId)
  await database.close()
  await db.query(`UPDATE ${SCM_TABLE} SET githubOrganization = 'acme'`)
  return db
}

const shape = (steps: Expected[]) => steps.map(({ action, object, additive, reason, sql }) => ({ action, object, additive, reason, sql }))
const label = (step: Expected) => `index ${step.object}`

for (const dialect of testDialects()) {
  t.test(dialect, async (t) => {
    for (const [drift, { damage, steps }] of Object.entries(DRIFTS)) {
      t.test(`${drift}: classed, reported at start-up and by check, applied only when additive`, async (t) => {
        const db = await healthyDatabase(t, dialect)
        await damage(db)
        const expected = steps(dialect)
        const additive = expected.every((s) => s.additive)
        const damaged = await schemaSnapshot(db)
        const rows = await tableRows(db, ALL_TABLES)

        const check = await schemaCommand(db, 'check')
        t.equal(check.code, 1, 'check fails')
        t.equal(check.stdout.split('\n')[0], `Schema check failed: ${expected.length} difference(s).`, 'counting each difference')
        for (const step of expected) {
          const header = `-- ${step.additive ? 'additive' : 'NEEDS REVIEW'}: ${step.action} ${step.object}: ${step.reason}`
          t.ok(check.stdout.includes(`${header}\n${step.sql.map((s) => (s.startsWith('--') ? s : `${s};`)).join('\n')}\n`), header)
        }

        const safe = await openEngine(t, db, 'safe')
        t.same(shape(safe.database.schema.review), additive ? [] : expected, 'safe: classed for review, each with its SQL')
        t.same(safe.database.schema.missing, additive ? expected.map(label) : [], 'safe: missing when absent')
        t.same(safe.database.schema.applied, [], 'safe: applied nothing')
        t.same(
          safe.logs.filter((l) => l.msg === 'schema difference needs review').map((l) => [l.level, l.object, l.sql]),
          additive ? [] : expected.map((s) => ['warn', s.object, s.sql]),
          'safe: each difference for review logged as a warning with its SQL',
        )
        await safe.database.close()
        t.equal(await schemaSnapshot(db), damaged, 'safe: changed nothing')

        const alter = await openEngine(t, db, 'alter')
        t.same(shape(alter.database.schema.review), additive ? [] : expected, 'alter: the same review')
        t.same(alter.database.schema.applied, additive ? expected.map(label) : [], 'alter: applied only what is additive')
        t.same(alter.database.schema.missing, [], 'alter: nothing left missing')
        await alter.database.close()
        if (additive) {
          for (const [table, index, fields] of UNIQUE_INDEXES) {
            t.ok((await indexList(db, table)).includes(`UNIQUE ${index} (${listed(fields)})`), `${index} is unique again`)
          }
        } else t.equal(await schemaSnapshot(db), damaged, 'alter: changed nothing')

        // The SQL each step gives is the fix (SQLite only describes a rebuild for columns and keys).
        const runnable = expected.flatMap((s) => s.sql).filter((sql) => !sql.startsWith('--'))
        if (!additive && runnable.length === expected.flatMap((s) => s.sql).length) {
          for (const sql of runnable) await db.query(sql)
          t.same(await schemaCommand(db, 'check'), { code: 0, stdout: 'Schema check passed: nothing is missing or different.\n' }, 'fixed')
        }
        t.same(await tableRows(db, ALL_TABLES), rows, 'every row kept')
      })
    }
  })
}
