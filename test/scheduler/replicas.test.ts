import { randomBytes, randomUUID } from 'node:crypto'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js'
import { eventually } from '../helpers/eventually.js'
import { githubRepository } from '../helpers/github-api.js'
import { startProviderDouble, type ProviderDouble } from '../helpers/provider-double.js'
import { startServer, waitReady, within } from '../helpers/processes.js'

const REPLICAS = 4
const INTEGRATIONS = 240
const CONCURRENCY = 3

/** `2030-01-02 03:04:05.678`: how a DATETIME(3) compares with an instant, whatever the session's time zone. */
const sqlTime = (at: Date) => at.toISOString().replace('T', ' ').replace('Z', '')

/** Polls the shared database, which only the replicas change, until it holds. */
/** Reads the database every 200 ms, for up to 3 minutes (four replicas on two cores verify slowly). */
const settled = (read: () => Promise<number>, done: (n: number) => boolean, what: string, withinMs = 180_000) =>
  eventually(read, done, { what, withinMs, everyMs: 200 })

/** Requests per repository at the GitHub double, from `since` (an index into what it received). */
function perRepository(api: ProviderDouble, since = 0): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of api.received.slice(since)) {
    const repo = /^\/repos\/acme\/(app-\d+)$/.exec(r.path)?.[1]
    if (repo) counts.set(repo, (counts.get(repo) ?? 0) + 1)
  }
  return counts
}

async function seed(t: Parameters<typeof startApp>[0], db: TestDatabase, keys: Record<string, string>) {
  const h = await startApp(t, db, keys)
  const { tenantId, ownerId } = await h.tenant()
  const Scm = h.app.db.integrations.get('scm')!
  const rows = Array.from({ length: INTEGRATIONS }, (_, n) => {
    const id = randomUUID()
    const token = `ghp_${randomBytes(18).toString('hex')}`
    return {
      id,
      tenantId,
      scmType: 'GITHUB',
      displayName: `App ${n}`,
      githubOrganization: 'acme',
      githubRepository: `app-${n}`,
      repositoryUrl: `https://github.com/acme/app-${n}`,
      accessToken: h.app.cipher.encrypt(token, { tenantId, kind: 'scm', id, field: 'accessToken' }),
      accessTokenFingerprint: h.app.cipher.fingerprint(token),
      createdByAccountId: ownerId,
    }
  })
  await Scm.bulkCreate(rows)
  await h.app.close()
}

if (!testDialects().includes('mysql')) {
  t.plan(0, 'MariaDB only: replicas coordinate through a shared MySQL database (SKIP LOCKED); SQLite runs one process')
} else {
  t.test(`${REPLICAS} replicas on one MariaDB database verify each due integration once, and finish after one is killed`, async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    const api = await startProviderDouble(t)
    // Slow enough that a replica is killed with work in hand.
    api.otherwise((request) => {
      const repo = /^\/repos\/acme\/(app-\d+)$/.exec(request.path)?.[1]
      const body = repo ? githubRepository(repo) : { name: 'main' }
      return {
        respond: (res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)), 20),
      }
    })
    const keys = { CREDENTIAL_KEYS: `k1:${randomBytes(32).toString('base64')}`, AUTH_JWT_SECRET: randomBytes(32).toString('hex') }
    await seed(t, db, keys)
    const due = async () => db.query(`UPDATE integration_verify_schedule SET nextVerifyAt = '${sqlTime(new Date(Date.now() - 60_000))}'`)
    const verifiedSince = async (at: Date) =>
      Number(
        (
          (await db.query(`SELECT COUNT(*) AS n FROM tenant_scm_integrations WHERE lastVerifiedAt >= '${sqlTime(at)}'`)) as { n: number }[]
        )[0]!.n,
      )

    const env = {
      ...keys,
      GITHUB_API_URL: api.origin,
      SCHEDULER: 'on',
      REVERIFY_INTERVAL_SECONDS: '86400',
      REVERIFY_CONCURRENCY: String(CONCURRENCY),
      VERIFY_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'warn',
    }
    const replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startServer(t, db, env)))
    t.same(
      await Promise.all(replicas.map((r) => waitReady(r, 120_000))),
      replicas.map(() => 200),
      'every replica is ready',
    )
    // The replicas add every integration to the schedule on start; all of them are due now.
    await settled(
      async () => Number(((await db.query('SELECT COUNT(*) AS n FROM integration_verify_schedule')) as { n: number }[])[0]!.n),
      (n) => n === INTEGRATIONS,
      'scheduled',
    )
    const first = new Date()
    await due()

    await settled(
      () => verifiedSince(first),
      (n) => n === INTEGRATIONS,
      'verified',
    )
    const once = perRepository(api)
    t.equal(once.size, INTEGRATIONS, 'the provider was asked about every integration')
    t.same(
      [...once.values()].filter((n) => n !== 1),
      [],
      'and about each exactly once',
    )
    const recorded = (await db.query(
      "SELECT integrationId, COUNT(*) AS n FROM integration_audit_events WHERE action = 'verification_changed' GROUP BY integrationId",
    )) as { n: number }[]
    t.same(
      [recorded.length, recorded.filter((r) => Number(r.n) !== 1).length],
      [INTEGRATIONS, 0],
      'each verdict recorded once, by the scheduler',
    )

    // Due again; one replica is killed with leases in hand.
    const second = new Date()
    const before = api.received.length
    await due()
    await settled(
      async () => [...perRepository(api, before).values()].length,
      (n) => n >= INTEGRATIONS / 4,
      'under way',
    )
    replicas[0]!.child.kill('SIGKILL')
    await within(replicas[0]!.exited, 10_000, 'the kill')

    await settled(
      () => verifiedSince(second),
      (n) => n === INTEGRATIONS,
      'verified again after the kill',
    )
    const again = perRepository(api, before)
    t.equal(again.size, INTEGRATIONS, 'every integration was verified again')
    const twice = [...again.values()].filter((n) => n > 1)
    t.ok(
      twice.every((n) => n === 2),
      'none more than twice',
    )
    t.ok(
      twice.length <= CONCURRENCY,
      `only what the killed replica had in flight was asked again (${twice.length}, at most ${CONCURRENCY})`,
    )
    // A verdict lands before its schedule row is given back: wait for the last few.
    const leftover = async () =>
      Number(
        (
          (await db.query(
            `SELECT COUNT(*) AS n FROM integration_verify_schedule WHERE leasedBy IS NOT NULL OR nextVerifyAt < '${sqlTime(new Date())}'`,
          )) as { n: number }[]
        )[0]!.n,
      )
    t.equal(await settled(leftover, (n) => n === 0, 'released', 30_000), 0, 'nothing left due or leased')
    for (const replica of replicas.slice(1)) replica.child.kill('SIGTERM')
    await within(Promise.all(replicas.slice(1).map((r) => r.exited)), 30_000, 'SIGTERM shutdown')
  })
}
