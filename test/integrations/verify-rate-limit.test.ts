import t from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { startProviderDouble } from '../helpers/provider-double.js'
import { bodyAt, SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'
import { localhostCaFile, localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'
const MAX = 2

/** One provider per kind, and whether its verifier calls a host the tenant gives (then aimed at the https double). */
const PER_KIND = [
  { kind: 'scm', provider: 'GITHUB', userHost: false },
  { kind: 'targets', provider: 'APP_STORE', userHost: false },
  { kind: 'ci-cd', provider: 'JENKINS', userHost: true },
  { kind: 'communication', provider: 'SLACK', userHost: false },
  { kind: 'project-management', provider: 'JIRA', userHost: true },
  { kind: 'test-management', provider: 'CHECKMATE', userHost: true },
]

// README: RATE_LIMIT_VERIFY_MAX verify calls per caller per RATE_LIMIT_WINDOW_MS, 429 beyond; both verify routes of
// every kind reach third parties, so both are limited.
eachDatabase(t, async (t, db) => {
  const api = await startProviderDouble(t)
  const slack = await slackWorkspaceDouble(t)
  const host = await startProviderDouble(t, { tls: await localhostCertificate(), hostname: 'localhost' })
  const h = await startApp(t, db, {
    RATE_LIMIT_VERIFY_MAX: String(MAX),
    RATE_LIMIT_WINDOW_MS: '60000',
    GITHUB_API_URL: api.origin,
    BITBUCKET_API_URL: api.origin,
    APPSTORE_API_URL: api.origin,
    GOOGLE_TOKEN_URL: `${api.origin}/token`,
    PLAY_API_URL: api.origin,
    SLACK_API_URL: slack.origin,
    OUTBOUND_ALLOWED_HOSTS: `localhost:${host.port}`,
    OUTBOUND_CA_FILE: await localhostCaFile(t),
  })
  const { app } = h
  // Every provider call goes through the app's one outbound client: counted here.
  let outboundCalls = 0
  const send = app.outbound.request.bind(app.outbound)
  app.outbound.request = (request) => {
    outboundCalls++
    return send(request)
  }
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }

  t.test('one provider of every kind is covered', async (t) => {
    t.same(
      PER_KIND.map((p) => p.kind),
      KINDS.map((k) => k.segment),
    )
  })

  for (const { kind, provider, userHost } of PER_KIND) {
    const sample = SAMPLES.find((s) => s.kind === kind && s.provider === provider)!
    const body = (n: number) => (userHost ? bodyAt(sample, tenantId, host.origin, n) : sample.body(tenantId, n))

    t.test(`${kind}: the draft verify answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
      // A caller of its own, so no other test's calls count against it.
      const caller = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Owner' }))}` }
      const payload = body(1)
      for (let i = 1; i <= MAX; i++) {
        const calls = outboundCalls
        const res = await app.inject({ method: 'POST', url: `${BASE}/${kind}/verify`, headers: caller, payload })
        t.not(res.statusCode, 429, `call ${i} is answered`)
        t.ok(outboundCalls > calls, `call ${i} asked the provider`)
      }
      const calls = outboundCalls
      const limited = await app.inject({ method: 'POST', url: `${BASE}/${kind}/verify`, headers: caller, payload })
      t.equal(limited.statusCode, 429, limited.body)
      t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED' })
      t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when')
      t.equal(outboundCalls, calls, 'the provider was not asked')
    })

    t.test(`${kind}: re-verifying a stored integration answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
      const created = await app.inject({ method: 'POST', url: `${BASE}/${kind}`, headers: owner, payload: body(2) })
      t.equal(created.statusCode, 201, created.body)
      const url = `${BASE}/${kind}/${created.json().id}/verify`
      const caller = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Editor' }))}` }
      for (let i = 1; i <= MAX; i++) {
        const calls = outboundCalls
        const res = await app.inject({ method: 'POST', url, headers: caller })
        t.not(res.statusCode, 429, `call ${i} is answered`)
        t.ok(outboundCalls > calls, `call ${i} asked the provider`)
      }
      const calls = outboundCalls
      const limited = await app.inject({ method: 'POST', url, headers: caller })
      t.equal(limited.statusCode, 429, limited.body)
      t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED' })
      t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when')
      t.equal(outboundCalls, calls, 'the provider was not asked')
    })
  }
})
