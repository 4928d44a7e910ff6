import diagnostics from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { ConnectionRefusedError, DatabaseError } from 'sequelize'
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../../src/db/database.js'
import { writes as writesChannel, type WriteMessage } from '../../src/db/reader.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { startApp, type TestApp } from '../helpers/app.js'
import { startTcpProxy, type CutMode } from '../helpers/tcp-proxy.js'

const SCM = '/api/v1/integrations/scm'
const CONNECT_TIMEOUT_MS = DEFAULT_CONNECT_TIMEOUT_MS
/** Well under the connect timeout: an answer this fast did not wait on a connection. */
const FAST_MS = 500

interface Outage {
  cut(): void
  restore(): void
}

type App = TestApp['app']

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(25)
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now()
  const res = await fn()
  return { res, ms: performance.now() - started }
}

/** SQLite has no server to stop: its connection fails the way a driver reports it. */
function sqliteOutage(app: App, fault: () => Error): Outage {
  const manager = app.db.sequelize.connectionManager as { getConnection: (...args: unknown[]) => Promise<unknown> }
  const real = manager.getConnection
  return {
    cut: () => (manager.getConnection = () => Promise.reject(fault())),
    restore: () => (manager.getConnection = real),
  }
}

const sqliteFaults: Record<string, () => Error> = {
  'the connection is refused': () => new ConnectionRefusedError(new Error('connect ECONNREFUSED')),
  'the connection is lost mid-query': () =>
    new DatabaseError(
      Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }) as never,
    ),
}

const mysqlCuts: Record<string, CutMode> = {
  'the server is stopped (connections closed)': 'refuse',
  'the server is unreachable (connections never answered)': 'silent',
}

/** The app on MySQL through a loopback proxy that the test can cut. */
async function behindProxy(t: Parameters<Parameters<typeof eachDatabase>[1]>[0], db: TestDatabase, mode: CutMode) {
  const url = new URL(db.url)
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 3306) })
  t.teardown(() => proxy.close())
  url.port = String(proxy.port)
  const h = await startApp(t, db, { DATABASE_URL: url.toString() })
  return { h, outage: { cut: () => proxy.cut(mode), restore: () => proxy.restore() } }
}

async function owner(h: TestApp) {
  const { tenantId, ownerId } = await h.tenant()
  return { tenantId, auth: { authorization: `Bearer ${await h.userToken(ownerId)}` } }
}

function scmBody(tenantId: string, name: string) {
  return {
    tenantId,
    scmType: 'GITHUB',
    displayName: name,
    repositoryUrl: `https://github.com/acme/${name}`,
    accessToken: 'ghp_outage_test_0123456789',
  }
}

async function outageScenario(t: Parameters<Parameters<typeof eachDatabase>[1]>[0], h: TestApp, db: TestDatabase, outage: Outage) {
  const { app } = h
  const { tenantId, auth } = await owner(h)
  const create = (name: string) => app.inject({ method: 'POST', url: SCM, headers: auth, payload: scmBody(tenantId, name) })
  const list = () => app.inject({ url: `${SCM}?tenantId=${tenantId}`, headers: auth })

  const before = await create('before-outage')
  t.equal(before.statusCode, 201, before.body)
  const id = before.json().id as string

  outage.cut()
  const noticed = await timed(list)
  t.equal(noticed.res.statusCode, 503, 'the request that meets the outage answers 503, not 500')
  t.equal(noticed.res.json().code, 'DATABASE_UNAVAILABLE')
  t.ok(noticed.ms < CONNECT_TIMEOUT_MS + 1000, `it waited ${Math.round(noticed.ms)} ms: at most the connect timeout`)
  t.equal(app.dbAvailability.state, 'down', 'the breaker knows')

  const refused = {
    list: await timed(list),
    'get one': await timed(() => app.inject({ url: `${SCM}/${id}`, headers: auth })),
    create: await timed(() => create('during-outage')),
    'tenant summary': await timed(() => app.inject({ url: `/api/v1/integrations?tenantId=${tenantId}`, headers: auth })),
  }
  for (const [what, { res, ms }] of Object.entries(refused)) {
    t.equal(res.statusCode, 503, `${what}: 503`)
    t.equal(res.json().code, 'DATABASE_UNAVAILABLE', `${what}: says why`)
    t.equal(res.headers['retry-after'], '5', `${what}: says when to retry`)
    t.ok(ms < FAST_MS, `${what}: answered in ${Math.round(ms)} ms, without waiting for a connection`)
  }

  const ready = await timed(() => app.inject({ url: '/health/ready' }))
  t.equal(ready.res.statusCode, 503)
  t.match(ready.res.json(), { status: 'unavailable', database: 'down' })
  t.ok(ready.ms < FAST_MS, 'readiness answers at once during the outage')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200, 'liveness does not depend on the database')
  const catalog = await app.inject({ url: '/api/v1/integrations/providers', headers: auth })
  t.equal(catalog.statusCode, 200, 'routes that need no database keep answering')
  const invalid = await app.inject({ method: 'POST', url: SCM, headers: auth, payload: { tenantId } })
  t.equal(invalid.statusCode, 400, 'an invalid request is still told what is wrong')

  outage.restore()
  const restoredAt = Date.now()
  await until('a read succeeds again', async () => (await list()).statusCode === 200)
  t.comment(`recovered ${Date.now() - restoredAt} ms after the database came back, without a restart`)
  t.equal(app.dbAvailability.state, 'up')
  t.match((await app.inject({ url: '/health/ready' })).json(), { status: 'ok', database: 'up' })

  const after = await create('after-outage')
  t.equal(after.statusCode, 201, after.body)
  const rows = (await db.query(`SELECT displayName FROM tenant_scm_integrations WHERE tenantId = '${tenantId}' ORDER BY displayName`)) as {
    displayName: string
  }[]
  t.same(
    rows.map((r) => r.displayName),
    ['after-outage', 'before-outage'],
    'every create answered 201 is stored; the one answered 503 left nothing',
  )
}

eachDatabase(t, async (t, db) => {
  if (db.dialect === 'sqlite') {
    for (const [name, fault] of Object.entries(sqliteFaults)) {
      t.test(`answers 503 at once and recovers by itself when ${name}`, async (t) => {
        const h = await startApp(t, db)
        await outageScenario(t, h, db, sqliteOutage(h.app, fault))
      })
    }
  } else {
    for (const [name, mode] of Object.entries(mysqlCuts)) {
      t.test(`answers 503 at once and recovers by itself when ${name}`, async (t) => {
        const { h, outage } = await behindProxy(t, db, mode)
        await outageScenario(t, h, db, outage)
      })
    }
  }

  t.test(
    'writes each create, change and delete in one transaction with its audit row and event, so a failure cannot leave it half-written',
    async (t) => {
      const h = await startApp(t, db)
      const { tenantId, auth } = await owner(h)
      const writes: { type: string; transaction: unknown }[] = []
      // Every write statement as the service sends it (on MySQL a prepared statement on the transaction's connection).
      const count = (message: unknown) => {
        const { sql, transaction } = message as WriteMessage
        writes.push({ type: sql.split(' ', 1)[0]!, transaction })
      }
      diagnostics.subscribe(writesChannel.name, count)
      t.teardown(() => diagnostics.unsubscribe(writesChannel.name, count))
      const counted = async (res: Promise<{ statusCode: number; json(): { id?: string } }>, status: number) => {
        writes.length = 0
        const answer = await res
        t.equal(answer.statusCode, status)
        const transactions = new Set(writes.map((w) => w.transaction))
        t.ok(transactions.size === 1 && !transactions.has(undefined), 'every statement in one transaction')
        return { answer, writes: writes.map((w) => w.type) }
      }

      const created = await counted(
        h.app.inject({ method: 'POST', url: SCM, headers: auth, payload: scmBody(tenantId, 'one-insert') }),
        201,
      )
      t.same(created.writes, ['INSERT', 'INSERT', 'INSERT'], 'create: the row, its audit row, its event')
      const id = created.answer.json().id
      const patched = await counted(
        h.app.inject({
          method: 'PATCH',
          url: `${SCM}/${id}`,
          headers: auth,
          payload: { displayName: 'renamed', accessToken: 'ghp_new_0123456789' },
        }),
        200,
      )
      t.same(patched.writes, ['UPDATE', 'INSERT', 'INSERT'], 'change with a new secret: the row, its audit row, its event')
      const deleted = await counted(h.app.inject({ method: 'DELETE', url: `${SCM}/${id}`, headers: auth }), 204)
      t.same(deleted.writes, ['DELETE', 'INSERT', 'INSERT'], 'delete: the row, its audit row, its event')
    },
  )
})
