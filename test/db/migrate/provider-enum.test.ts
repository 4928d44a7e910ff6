import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { KINDS } from '../../../src/kinds/index.js'
import type { KindDefinition, ProviderSpec } from '../../../src/kinds/define/kind.js'
import { scm } from '../../../src/kinds/scm/definition.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js'
import { SCM_TABLE, columns, openEngine, schemaCommand, schemaSnapshot, type IntegrationRow } from '../../helpers/schema.js'

// Each case starts a database or two and the engine several times.
t.setTimeout(240_000)

const COLUMN = `${SCM_TABLE}.scmType`
const FOUNDING = "enum('GITHUB','GITLAB','BITBUCKET')"
const WITH_GITEA = "enum('GITHUB','GITLAB','BITBUCKET','GITEA')"

/** Every kind as the service has it, but source control's providers are `ids` (copies of GitLab's spec for new ones). */
function scmProviders(...ids: string[]): KindDefinition[] {
  const providers = ids.map((id): ProviderSpec => scm.providers.find((p) => p.id === id) ?? { ...scm.providers[1]!, id, label: id })
  return KINDS.map((k) => (k.segment === 'scm' ? { ...scm, providers } : k))
}
const GITEA_APPENDED = scmProviders('GITHUB', 'GITLAB', 'BITBUCKET', 'GITEA')

/** A database made by the service as it is (the founding providers), holding one GitHub repository. */
async function foundingDatabase(t: Test, dialect: TestDatabase['dialect']) {
  const db = await createTestDatabase(t, dialect)
  const { database } = await openEngine(t, db, 'safe')
  const existing = await insertScm(database, 'GITHUB')
  await database.close()
  return { db, existing }
}

async function insertScm(database: Awaited<ReturnType<typeof openEngine>>['database'], scmType: string) {
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
  const id = randomUUID()
  await database.integrations.get('scm')!.create({
    id,
    tenantId,
    scmType,
    displayName: `A ${scmType} repository`,
    repositoryUrl: `https://${scmType.toLowerCase()}.example.com/acme/app`,
    createdByAccountId: accountId,
  } as IntegrationRow)
  return { id, scmType }
}

/** The SCM rows by provider name (MySQL would order an ENUM by position). */
const scmRows = async (db: TestDatabase) =>
  ((await db.query(`SELECT id, scmType FROM ${SCM_TABLE}`)) as { scmType: string }[]).sort((a, b) => a.scmType.localeCompare(b.scmType))

for (const dialect of testDialects()) {
  t.test(dialect, async (t) => {
    // SQLite stores an ENUM as plain TEXT with no CHECK (the model validates the values): nothing to migrate.
    const mysql = dialect === 'mysql'

    t.test('plan prints a provider appended to the ENUM as an additive step with its SQL', async (t) => {
      const { db } = await foundingDatabase(t, dialect)
      t.match((await columns(db, SCM_TABLE)).scmType, { type: mysql ? FOUNDING : 'TEXT', nullable: false }, 'the founding column')
      const plan = await schemaCommand(db, 'plan', GITEA_APPENDED)
      t.equal(
        plan.stdout,
        mysql
          ? [
              `-- additive: extend-enum ${COLUMN}: 'GITEA' appended to the values of ${FOUNDING}`,
              `ALTER TABLE \`${SCM_TABLE}\` MODIFY \`scmType\` ENUM('GITHUB', 'GITLAB', 'BITBUCKET', 'GITEA') CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL;`,
              '',
            ].join('\n')
          : '-- The schema already has everything the service needs.\n',
        mysql ? 'one additive step, keeping the column NOT NULL and in its collation' : 'TEXT takes any value: no step at all',
      )
      t.equal((await schemaCommand(db, 'check', GITEA_APPENDED)).code, mysql ? 1 : 0, 'check fails while the value is missing')
    })

    for (const mode of ['safe', 'alter'] as const) {
      t.test(`DB_SYNC=${mode} appends it at start-up; the column then takes the new provider`, async (t) => {
        const { db, existing } = await foundingDatabase(t, dialect)
        const before = await schemaSnapshot(db)
        const { database, logs } = await openEngine(t, db, mode, GITEA_APPENDED)
        const applied = mysql ? [`enum values ${COLUMN}`] : []
        t.same(database.schema, { missing: [], applied, review: [] }, mysql ? 'applied without review' : 'nothing to do')
        t.same(
          logs.filter((l) => l.msg === 'schema brought up to date').map((l) => l.applied),
          mysql ? [applied] : [],
          'and says so in the log',
        )
        t.match((await columns(db, SCM_TABLE)).scmType, {
          type: mysql ? WITH_GITEA : 'TEXT',
          nullable: false,
          ...(mysql ? { collation: 'utf8mb4_unicode_ci' } : {}),
        })
        if (!mysql) t.equal(await schemaSnapshot(db), before, 'the SQLite table was not rebuilt or touched')
        const gitea = await insertScm(database, 'GITEA')
        t.same(
          await scmRows(db),
          [gitea, existing].sort((a, b) => a.scmType.localeCompare(b.scmType)),
          'the new row stored, the old one kept',
        )
        await database.close()

        const after = await schemaSnapshot(db)
        const again = await openEngine(t, db, mode, GITEA_APPENDED)
        t.same(again.database.schema, { missing: [], applied: [], review: [] }, 'a restart finds nothing to do')
        t.equal(await schemaSnapshot(db), after, 'and changes nothing')
      })
    }

    t.test('schema apply appends it without review', async (t) => {
      const { db } = await foundingDatabase(t, dialect)
      const apply = await schemaCommand(db, 'apply', GITEA_APPENDED)
      t.same(apply, { code: 0, stdout: mysql ? `Applied:\n  enum values ${COLUMN}\n` : 'Nothing to apply.\n' })
      t.match((await columns(db, SCM_TABLE)).scmType, { type: mysql ? WITH_GITEA : 'TEXT' })
      t.same(await schemaCommand(db, 'check', GITEA_APPENDED), {
        code: 0,
        stdout: 'Schema check passed: nothing is missing or different.\n',
      })
    })

    t.test('DB_SYNC=off leaves it and reports the values missing, as readiness does', async (t) => {
      const { db } = await foundingDatabase(t, dialect)
      const before = await schemaSnapshot(db)
      const { database } = await openEngine(t, db, 'off', GITEA_APPENDED)
      t.same(database.schema, { missing: mysql ? [`enum values ${COLUMN}`] : [], applied: [], review: [] })
      t.equal(await schemaSnapshot(db), before, 'nothing changed')
    })

    // Whether the column then lacks a value the models may write (reported missing: readiness 503 on MySQL).
    const notAppended: Record<string, { ids: string[]; lacksValues: boolean }> = {
      reordered: { ids: ['GITLAB', 'GITHUB', 'BITBUCKET'], lacksValues: false },
      removed: { ids: ['GITHUB', 'GITLAB'], lacksValues: false },
      renamed: { ids: ['GITHUB', 'GITLAB', 'BITBUCKET_CLOUD'], lacksValues: true },
      'inserted before the end': { ids: ['GITHUB', 'GITEA', 'GITLAB', 'BITBUCKET'], lacksValues: true },
      'appended with a value renamed': { ids: ['GITHUB', 'GITLAB', 'BITBUCKET_CLOUD', 'GITEA'], lacksValues: true },
    }
    for (const [change, { ids, lacksValues }] of Object.entries(notAppended)) {
      t.test(`a value ${change} needs review: safe and alter leave the column alone`, async (t) => {
        const { db, existing } = await foundingDatabase(t, dialect)
        const before = await schemaSnapshot(db)
        const kinds = scmProviders(...ids)
        const wanted = `ENUM(${ids.map((id) => `'${id}'`).join(', ')})`
        const sql = `ALTER TABLE \`${SCM_TABLE}\` MODIFY \`scmType\` ${wanted} NOT NULL`
        for (const mode of ['safe', 'alter'] as const) {
          const { database } = await openEngine(t, db, mode, kinds)
          t.same(database.schema.applied, [], `${mode}: nothing applied`)
          t.same(database.schema.missing, mysql && lacksValues ? [`enum values ${COLUMN}`] : [], `${mode}: missing values reported`)
          t.same(
            database.schema.review.map(({ action, object, additive, reason, sql }) => ({ action, object, additive, reason, sql })),
            mysql
              ? [
                  {
                    action: 'change-column',
                    object: COLUMN,
                    additive: false,
                    reason: `type is ${FOUNDING}, models need ${wanted} (now ${FOUNDING} COLLATE utf8mb4_unicode_ci NOT NULL)`,
                    sql: [sql],
                  },
                ]
              : [],
            mysql ? `${mode}: one change for review, with its SQL` : `${mode}: TEXT has no values to review`,
          )
          await database.close()
          t.equal(await schemaSnapshot(db), before, `${mode}: the column and everything else as they were`)
        }
        if (mysql) {
          const plan = await schemaCommand(db, 'plan', kinds)
          t.match(plan.stdout, `-- NEEDS REVIEW: change-column ${COLUMN}: type is ${FOUNDING}, models need ${wanted}`)
          t.notMatch(plan.stdout, /-- additive/, 'nothing in the plan is additive')
        }
        t.same(await scmRows(db), [existing], 'the stored row kept')
      })
    }
  })
}
