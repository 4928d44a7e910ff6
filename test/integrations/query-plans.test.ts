import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import t from 'tap'
import type { QueryOptions } from 'sequelize'
import { encodeCursor } from '../../src/integrations/cursor.js'
import { integrationRepository } from '../../src/integrations/repository.js'
import { KINDS } from '../../src/kinds/index.js'
import { providerFields, type KindDefinition, type ProviderSpec } from '../../src/kinds/define/kind.js'
import { VERIFICATION_STATUSES } from '../../src/db/models/integration-model.js'
import { startApp, type TestApp } from '../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js'

// README, Performance: a page, a read and the summary cost the same whatever the tenant's size. The service's own
// statements are captured as it issues them and explained with the same values: no sort, no walk of a whole table.

const BASE = '/api/v1/integrations'
const BIG_TENANT_ROWS = 1200
const SMALL_TENANTS = 40
const ROWS_PER_SMALL_TENANT = 30
const LIMIT = 20

interface Statement {
  sql: string
  params: unknown[]
}

interface Tenant {
  tenantId: string
  ownerId: string
  ids: string[]
}

/** Every statement the app sends from now on: on MySQL the reader's prepared statements, on SQLite Sequelize's (values inlined). */
function captureStatements(h: TestApp, db: TestDatabase): Statement[] {
  const seen: Statement[] = []
  const { sequelize } = h.app.db
  if (db.dialect === 'sqlite') {
    sequelize.addHook('afterQuery', 'capture', (_options: QueryOptions, query) => {
      const { sql } = query as unknown as { sql?: string }
      if (sql) seen.push({ sql, params: [] })
    })
    return seen
  }
  type Connection = { execute(sql: string, params: unknown[], cb: unknown): unknown }
  const manager = sequelize.connectionManager as unknown as { getConnection(options: unknown): Promise<Connection> }
  const real = manager.getConnection.bind(manager)
  const wrapped = new WeakSet<Connection>()
  manager.getConnection = async (options) => {
    const connection = await real(options)
    if (!wrapped.has(connection)) {
      const execute = connection.execute.bind(connection)
      connection.execute = (sql, params, cb) => {
        seen.push({ sql, params: [...params] })
        return execute(sql, params, cb)
      }
      wrapped.add(connection)
    }
    return connection
  }
  return seen
}

const quote = (value: string | number | null) => (value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value}'`)

/** Bulk-inserts `count` rows of a kind for a tenant: providers, isActive and verificationStatus in turn. */
async function seedRows(db: TestDatabase, kind: KindDefinition, tenant: Tenant, count: number) {
  // The kind's NOT NULL columns, and the provider's columns of the kind's unique keys, so each duplicate check finds a row.
  const keyed = new Set<string>(kind.indexes.filter((i) => i.unique).flatMap((i) => i.fields))
  const notNull = Object.entries(kind.fields).filter(([, f]) => f.column.allowNull === false && f.column.defaultValue === undefined)
  const named = new Set(kind.providers.flatMap(providerFields))
  const filled = (provider: ProviderSpec) => [
    ...new Set([
      ...notNull.map(([name]) => name),
      // A keyed column no provider names (Slack's workspaceId, recorded by verification) is filled for every row.
      ...[...keyed].filter((name) => name in kind.fields && (providerFields(provider).includes(name) || !named.has(name))),
    ]),
  ]
  const required = [...new Set(kind.providers.flatMap(filled))]
  const columns = ['id', 'tenantId', kind.providerField, 'displayName', 'isActive', 'verificationStatus', 'createdByAccountId']
  const values: string[] = []
  for (let n = 0; n < count; n++) {
    const id = randomUUID()
    tenant.ids.push(id)
    const provider = kind.providers[n % kind.providers.length]!
    const own = filled(provider)
    const row = [
      id,
      tenant.tenantId,
      provider.id,
      `Seeded ${n}`,
      n % 5 === 0 ? 0 : 1,
      VERIFICATION_STATUSES[n % VERIFICATION_STATUSES.length]!,
      tenant.ownerId,
      '2026-01-01 00:00:00.000',
      '2026-01-01 00:00:00.000',
      // URLs as URLs: a response's schema checks their format.
      ...required.map((name) =>
        !own.includes(name) ? null : name.endsWith('Url') ? `https://example.com/${name}/${id}` : `${name}-${id}`,
      ),
    ]
    values.push(`(${row.map(quote).join(', ')})`)
  }
  const names = [...columns, 'createdAt', 'updatedAt', ...required].map((c) => `\`${c}\``).join(', ')
  for (let i = 0; i < values.length; i += 500) {
    await db.query(`INSERT INTO \`${kind.tableName}\` (${names}) VALUES ${values.slice(i, i + 500).join(', ')}`)
  }
}

/** The list filters the service takes, every combination of them. */
function filterCombinations(kind: KindDefinition): Record<string, string>[] {
  const choices: Record<string, string>[] = [
    { [kind.providerField]: kind.providers.at(-1)!.id },
    { isActive: 'true' },
    { verificationStatus: 'VALID' },
  ]
  return [0, 1, 2, 3, 4, 5, 6, 7].map((mask) => Object.assign({}, ...choices.filter((_, i) => mask & (1 << i))))
}

interface MysqlPlan {
  table: string | null
  type: string | null
  key: string | null
  Extra: string | null
}

const INTEGRATION_TABLES = new Set(KINDS.map((k) => k.tableName))
const kindOf = (sql: string) => KINDS.find((k) => sql.includes(`\`${k.tableName}\``))

/** What a statement is, for messages and for which checks apply. */
function statementKind(sql: string): 'page' | 'summary' | 'by id' | 'by unique key' | 'other' {
  if (!kindOf(sql)) return 'other'
  // The caller's standing, then the first rows of every kind: one statement (see tenantSummary).
  if (KINDS.every((k) => sql.includes(`\`${k.tableName}\``))) return 'summary'
  if (/ORDER BY `id` LIMIT/.test(sql)) return 'page'
  // A user's read joins the user's collaborator rows to the row (see memberJoin).
  if (/WHERE (`\w+`\.)?`id` = /.test(sql)) return 'by id'
  return /LIMIT 1$/.test(sql) ? 'by unique key' : 'other'
}

/** Index names of a kind's table whose first column is tenantId, as its model declares them. */
function tenantLedIndexes(h: TestApp, kind: KindDefinition): string[] {
  const model = h.app.db.integrations.get(kind.segment)!
  return (model.options.indexes ?? []).filter((i) => i.fields?.[0] === 'tenantId').map((i) => i.name!)
}

const dialects = testDialects()
if (!dialects.includes('mysql')) {
  t.test(
    'EXPLAIN on MariaDB',
    { skip: 'TEST_MYSQL_URL is not set: the MariaDB plans are checked only where a MariaDB runs (CI sets it)' },
    async () => {},
  )
}

for (const dialect of dialects) {
  t.test(dialect, async (t) => {
    const db = await createTestDatabase(t, dialect)
    const h = await startApp(t, db)
    const big: Tenant = { ...(await h.tenant()), ids: [] }
    const small: Tenant = { ...(await h.tenant()), ids: [] }
    const others: Tenant[] = []
    for (let i = 0; i < SMALL_TENANTS; i++) others.push({ ...(await h.tenant()), ids: [] })
    for (const kind of KINDS) {
      await seedRows(db, kind, big, BIG_TENANT_ROWS)
      for (const tenant of [small, ...others]) await seedRows(db, kind, tenant, ROWS_PER_SMALL_TENANT)
    }
    await db.query(dialect === 'mysql' ? `ANALYZE TABLE ${[...INTEGRATION_TABLES].map((n) => `\`${n}\``).join(', ')}` : 'ANALYZE')

    const seen = captureStatements(h, db)
    const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read integrations:credentials:read')}` }
    const get = async (url: string, headers = service) => {
      const res = await h.app.inject({ url, headers })
      t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`)
    }
    // A user's reads carry the user's standing in the tenant in the same statement: explained as well.
    const owner = { authorization: `Bearer ${await h.userToken(small.ownerId)}` }
    for (const tenant of [big, small]) {
      // A cursor in the middle of the tenant's rows: ids are random, so sort them as the database does (ASCII).
      const middle = [...tenant.ids].sort()[Math.floor(tenant.ids.length / 2)]!
      for (const kind of KINDS) {
        for (const filters of filterCombinations(kind)) {
          for (const cursor of [undefined, encodeCursor(middle)]) {
            const query = new URLSearchParams({
              tenantId: tenant.tenantId,
              limit: String(LIMIT),
              ...filters,
              ...(cursor ? { cursor } : {}),
            })
            await get(`${BASE}/${kind.segment}?${query.toString()}`)
          }
        }
      }
      await get(`${BASE}?tenantId=${tenant.tenantId}`)
    }
    for (const kind of KINDS) {
      const [row] = (await db.query(`SELECT id FROM \`${kind.tableName}\` WHERE tenantId = '${small.tenantId}' ORDER BY id LIMIT 1`)) as {
        id: string
      }[]
      await get(`${BASE}/${kind.segment}/${row!.id}`)
      await get(`${BASE}/${kind.segment}/${row!.id}/credentials`)
      await get(`${BASE}/${kind.segment}/${row!.id}`, owner)
      await get(`${BASE}/${kind.segment}?tenantId=${small.tenantId}&limit=${LIMIT}`, owner)
      // The duplicate check a create makes before verifying: one lookup per unique key of the kind, for a row it finds.
      const repository = integrationRepository(h.app.db, kind)
      for (const index of kind.indexes.filter((i) => i.unique)) {
        const [keyed] = (await db.query(
          `SELECT * FROM \`${kind.tableName}\` WHERE ${index.fields.map((f) => `\`${f}\` IS NOT NULL`).join(' AND ')} LIMIT 1`,
        )) as Record<string, unknown>[]
        t.ok(
          await repository.existsWith(
            index.fields,
            [...index.fields].map((f) => keyed![f]),
          ),
          `${index.name}: finds the row`,
        )
      }
    }

    const statements = seen.filter((s) => s.sql.startsWith('SELECT') && kindOf(s.sql))
    const count = (what: string) => statements.filter((s) => statementKind(s.sql) === what).length
    t.equal(count('page'), 2 * KINDS.length * 16 + KINDS.length, 'a page per tenant, kind, filter combination and cursor was captured')
    t.equal(count('summary'), 2, 'the summary is one statement per tenant')
    t.equal(count('by id'), 3 * KINDS.length, "a get and a credentials read per kind, and a user's get")
    t.equal(count('by unique key'), KINDS.flatMap((k) => k.indexes.filter((i) => i.unique)).length, 'a duplicate check per unique key')

    if (dialect === 'mysql') {
      const connection = await mysql.createConnection(db.url)
      t.teardown(() => connection.end())
      for (const { sql, params } of statements) {
        const what = statementKind(sql)
        const [plans] = (await connection.execute(`EXPLAIN ${sql}`, params as never[])) as unknown as [MysqlPlan[]]
        const onTables = plans.filter((p) => p.table !== null && INTEGRATION_TABLES.has(p.table))
        // MariaDB shows no table for a lookup it answered while planning ("Impossible WHERE"): the seed makes every one find its row.
        t.ok(onTables.length > 0, `${what} explained on its table: ${sql} ${JSON.stringify(plans)}`)
        for (const plan of onTables) {
          const shown = `${what} ${sql} ${JSON.stringify(params, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}: ${JSON.stringify(plan)}`
          t.notMatch(plan.Extra ?? '', /Using filesort/, `no sort: ${shown}`)
          t.not(plan.type, 'ALL', `no table scan: ${shown}`)
          t.not(plan.type, 'index', `no walk of a whole index: ${shown}`)
          if (what === 'page' || what === 'summary') {
            const kind = KINDS.find((k) => k.tableName === plan.table)!
            t.ok(tenantLedIndexes(h, kind).includes(plan.key ?? ''), `through an index led by tenantId: ${shown}`)
          }
          if (what === 'by id') t.same([plan.type, plan.key], ['const', 'PRIMARY'], `one row by its primary key: ${shown}`)
          if (what === 'by unique key') t.ok(plan.type === 'const' || plan.type === 'ref', `a lookup on the unique index: ${shown}`)
        }
      }
    } else {
      for (const { sql } of statements) {
        const plan = (await db.query(`EXPLAIN QUERY PLAN ${sql}`)) as { detail: string }[]
        const shown = `${statementKind(sql)} ${sql}: ${plan.map((p) => p.detail).join(' | ')}`
        t.notOk(
          plan.some((p) => /TEMP B-TREE/.test(p.detail)),
          `no sort: ${shown}`,
        )
        // A page is a LIMITed subquery of its union on SQLite: reading that subquery's rows ("SCAN page") is the page.
        // `collaborators` is Delivr's table, indexed as Delivr's server sees fit (the embedded one has no index on it).
        t.notOk(
          plan.some((p) => /^SCAN (?!page$|collaborators$|member LEFT-JOIN$)/.test(p.detail)),
          `no scan: ${shown}`,
        )
      }
    }
  })
}
