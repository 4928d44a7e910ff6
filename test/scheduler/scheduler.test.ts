import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'
import { eachDatabase } from '../helpers/databases.js'
import { githubRepository } from '../helpers/github-api.js'
import { startProviderDouble } from '../helpers/provider-double.js'
import { providerEnv } from '../helpers/provider-env.js'
import { localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'
const DAY_MS = 86_400_000
const INTERVAL_SECONDS = 3600

/** GitHub's expiry header for a token expiring `days` from now. */
const expiringIn = (days: number) =>
  new Date(Date.now() + days * DAY_MS)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')

eachDatabase(t, async (t, db) => {
  const api = await startProviderDouble(t)
  const host = await startProviderDouble(t, { tls: await localhostCertificate(), hostname: 'localhost' })
  const slack = await startProviderDouble(t)
  const providers = await providerEnv(t, { api, slack, host })
  const keys = { CREDENTIAL_KEYS: `t1:${Buffer.alloc(32, 7).toString('base64')}`, AUTH_JWT_SECRET: 'x'.repeat(40) }
  const repos = { valid: 'app-0', outage: 'app-1', expiring: 'app-2', inactive: 'app-3' }
  const expiry = expiringIn(5)
  api
    .on('GET', `/repos/acme/${repos.valid}`, { body: githubRepository(repos.valid) })
    .on('GET', `/repos/acme/${repos.outage}`, {
      status: 429,
      // Short, as every GitHub integration on this replica waits it out before the test can look.
      headers: { 'retry-after': '3' },
      body: { message: 'API rate limit exceeded' },
    })
    .on('GET', `/repos/acme/${repos.expiring}`, {
      headers: { 'github-authentication-token-expiration': expiry },
      body: githubRepository(repos.expiring),
    })
    .otherwise((request) => ({ body: { name: 'main', path: request.path } }))

  // Seeded with the scheduler off: integrations due an hour ago, an audit event past retention.
  const seed = await startApp(t, db, { ...providers, ...keys })
  const { tenantId, ownerId } = await seed.tenant()
  const owner = { authorization: `Bearer ${await seed.userToken(ownerId)}` }
  const ids: Record<string, string> = {}
  for (const [name, repo] of Object.entries(repos)) {
    const payload = {
      tenantId,
      scmType: 'GITHUB',
      displayName: name,
      repositoryUrl: `https://github.com/acme/${repo}`,
      accessToken: `ghp_${name.padEnd(36, 'x')}`,
      isActive: name !== 'inactive',
    }
    const res = await seed.app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload })
    t.equal(res.statusCode, 201, res.body)
    ids[name] = String(res.json().id)
  }
  const due = new Date(Date.now() - 3600_000)
  await seed.app.db.events.Schedule.bulkCreate(Object.values(ids).map((id) => ({ id, kind: 'scm', provider: 'GITHUB', nextVerifyAt: due })))
  const ancient = new Date(Date.now() - 400 * DAY_MS)
  await seed.app.db.events.Audit.create({
    id: '01000000-0000-7000-8000-000000000000',
    tenantId,
    kind: 'scm',
    integrationId: ids.valid!,
    action: 'updated',
    actor: ownerId,
    requestId: null,
    at: ancient,
    changedFields: null,
    fingerprintsBefore: null,
    fingerprintsAfter: null,
    verdictBefore: null,
    verdictAfter: null,
  })
  await seed.app.close()

  const started = Date.now()
  const h = await startApp(t, db, {
    ...providers,
    ...keys,
    SCHEDULER: 'on',
    REVERIFY_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    EXPIRY_WARNING_DAYS: '14',
    AUDIT_RETENTION_DAYS: '365',
  })
  const { app } = h
  const schedule = async () =>
    Object.fromEntries(
      (await app.db.events.Schedule.findAll()).map((row) => [row.id, { next: new Date(row.nextVerifyAt).getTime(), leased: row.leasedBy }]),
    )
  // Every due integration handled: each one's next time moved into the future and its lease given back.
  const done = await eventually(schedule, (rows) => Object.values(rows).every((r) => r.next > started && r.leased === null))
  const status = async (id: string) => {
    const res = await app.inject({ method: 'GET', url: `${BASE}/scm/${id}`, headers: owner })
    return res.json<{ verificationStatus: string; lastVerifiedAt: string | null; credentialExpiresAt: string | null }>()
  }
  const audit = async (id: string) =>
    (await app.db.events.Audit.findAll({ where: { integrationId: id }, order: [['id', 'ASC']] })).map((r) => [r.action, r.actor])
  const events = async (id: string) =>
    (await app.db.events.Outbox.findAll({ where: { integrationId: id }, order: [['id', 'ASC']] })).map(
      (r) => JSON.parse(r.payload) as { type: string; data: Record<string, unknown> },
    )

  t.test('re-verifies a due integration through the stored-verify path, recording the verdict as the scheduler', async (t) => {
    t.match(await status(ids.valid!), { verificationStatus: 'VALID', lastVerifiedAt: String })
    t.same((await audit(ids.valid!)).at(-1), ['verification_changed', 'system:scheduler'])
    t.match((await events(ids.valid!)).at(-1), { type: 'integration.verification_changed', data: { from: 'PENDING', to: 'VALID' } })
    const next = done[ids.valid!]!.next - Date.now()
    t.ok(next > INTERVAL_SECONDS * 1000 * 0.85 && next <= INTERVAL_SECONDS * 1000 * 1.1, 'next due about one interval on, jittered')
  })

  t.test('a rate-limited provider reschedules after its Retry-After rather than marking the integration INVALID', async (t) => {
    t.match(await status(ids.outage!), { verificationStatus: 'PENDING', lastVerifiedAt: null })
    t.ok(done[ids.outage!]!.next >= started + 3_000, 'not before the provider said')
    t.same(
      (await audit(ids.outage!)).map(([action]) => action),
      ['created'],
    )
  })

  t.test('a credential expiring within EXPIRY_WARNING_DAYS raises credential_expiring once per expiry', async (t) => {
    const expiring = await status(ids.expiring!)
    t.match(expiring, { verificationStatus: 'VALID', credentialExpiresAt: String })
    const warnings = async () => (await events(ids.expiring!)).filter((e) => e.type === 'integration.credential_expiring')
    t.match(await warnings(), [{ data: { expiresAt: expiring.credentialExpiresAt, integrationId: ids.expiring, provider: 'GITHUB' } }])

    await app.db.events.Schedule.update({ nextVerifyAt: new Date(Date.now() - 1000) }, { where: { id: ids.expiring! } })
    const before = (await status(ids.expiring!)).lastVerifiedAt
    await eventually(
      () => status(ids.expiring!),
      (s) => s.lastVerifiedAt !== before,
    )
    await eventually(schedule, (rows) => rows[ids.expiring!]!.leased === null)
    t.equal((await warnings()).length, 1, 'verified again, the same expiry is not announced twice')
  })

  t.test('an inactive integration is not asked about', async (t) => {
    t.match(await status(ids.inactive!), { verificationStatus: 'PENDING', lastVerifiedAt: null })
    t.notOk(
      api.received.some((r) => r.path.startsWith(`/repos/acme/${repos.inactive}`)),
      'the provider never heard of it',
    )
  })

  t.test('prunes audit events past AUDIT_RETENTION_DAYS and keeps the rest', async (t) => {
    t.same(await app.db.events.Audit.count({ where: { at: ancient } }), 0)
    t.ok((await app.db.events.Audit.count()) > 0)
  })

  t.test('/metrics shows the schedule: nothing due, no lag', async (t) => {
    // The rate-limited integration comes due again every 3 s (its Retry-After), so a slow run can scrape it due.
    // Moved an hour on while no replica holds it, nothing is due: what the gauges must then say.
    const later = new Date(Date.now() + 3600_000)
    await eventually(
      async () => (await app.db.events.Schedule.update({ nextVerifyAt: later }, { where: { id: ids.outage!, leasedBy: null } }))[0],
      (updated) => updated === 1,
    )
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    t.match(res.body, /integration_reverify_due 0/)
    t.match(res.body, /integration_reverify_oldest_lag_seconds 0/)
  })
})
