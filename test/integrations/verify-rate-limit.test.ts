import t, { type Test } from 'tap'
import type { LightMyRequestResponse as Response } from 'fastify'
import { KINDS } from '../../src/kinds/index.js'
import { countOutbound, startApp } from '../helpers/app.js'
import { providerEnv } from '../helpers/provider-env.js'
import { eachDatabase } from '../helpers/databases.js'
import { startProviderDouble } from '../helpers/provider-double.js'
import { bodyAt, SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'
import { localhostCertificate } from '../helpers/tls.js'

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

// README: RATE_LIMIT_VERIFY_MAX requests that call a provider per caller per RATE_LIMIT_WINDOW_MS, 429 beyond. Every
// route that can call a provider draws on the same budget: both verify routes, a create or a credential replacement
// that verifies (or whose provider always verifies); a request that calls no provider is not counted.
eachDatabase(t, async (t, db) => {
  const api = await startProviderDouble(t)
  const slack = await slackWorkspaceDouble(t)
  const host = await startProviderDouble(t, { tls: await localhostCertificate(), hostname: 'localhost' })
  const h = await startApp(t, db, {
    RATE_LIMIT_VERIFY_MAX: String(MAX),
    RATE_LIMIT_WINDOW_MS: '60000',
    ...(await providerEnv(t, { api, slack, host })),
  })
  const { app } = h
  // Every provider call goes through the app's one outbound client: counted here.
  const outboundCalls = countOutbound(app)
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  /** A caller of its own, so no other test's calls count against it. */
  const newCaller = async (role: 'Owner' | 'Editor' = 'Owner') => ({
    authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: role }))}`,
  })

  /** Calls `call` MAX times, each answered and asking the provider, then once more: 429 RATE_LIMITED, nothing sent. */
  async function spendsTheBudget(t: Test, call: (i: number) => Promise<Response>) {
    for (let i = 1; i <= MAX; i++) {
      const calls = outboundCalls()
      const res = await call(i)
      t.not(res.statusCode, 429, `call ${i} is answered: ${res.body}`)
      t.ok(outboundCalls() > calls, `call ${i} asked the provider`)
      t.match(
        res.headers,
        { 'x-ratelimit-limit': String(MAX), 'x-ratelimit-remaining': String(MAX - i), 'x-ratelimit-reset': /^\d+$/ },
        `call ${i} says what is left of the budget`,
      )
    }
    const calls = outboundCalls()
    const limited = await call(MAX + 1)
    t.equal(limited.statusCode, 429, limited.body)
    t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED' })
    t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when')
    t.match(limited.headers, { 'x-ratelimit-limit': String(MAX), 'x-ratelimit-remaining': '0' }, 'the budget is spent')
    t.equal(outboundCalls(), calls, 'the provider was not asked')
  }

  t.test('one provider of every kind is covered', async (t) => {
    t.same(
      PER_KIND.map((p) => p.kind),
      KINDS.map((k) => k.segment),
    )
  })

  for (const { kind, provider, userHost } of PER_KIND) {
    const sample = SAMPLES.find((s) => s.kind === kind && s.provider === provider)!
    const body = (n: number) => (userHost ? bodyAt(sample, tenantId, host.origin, n) : sample.body(tenantId, n))
    const url = `${BASE}/${kind}`
    const create = async (n: number) => {
      const created = await app.inject({ method: 'POST', url, headers: owner, payload: body(n) })
      if (created.statusCode !== 201) throw new Error(created.body)
      return created.json<{ id: string }>().id
    }

    t.test(`${kind}: the draft verify answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
      const caller = await newCaller()
      const payload = body(1)
      await spendsTheBudget(t, () => app.inject({ method: 'POST', url: `${url}/verify`, headers: caller, payload }))
    })

    t.test(`${kind}: re-verifying a stored integration answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
      const id = await create(2)
      const caller = await newCaller('Editor')
      await spendsTheBudget(t, () => app.inject({ method: 'POST', url: `${url}/${id}/verify`, headers: caller }))
    })

    t.test(`${kind}: creating with verify=true answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
      const caller = await newCaller()
      await spendsTheBudget(t, (i) => app.inject({ method: 'POST', url: `${url}?verify=true`, headers: caller, payload: body(10 + i) }))
    })

    t.test(`${kind}: replacing credentials with verify=true answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
      const id = await create(3)
      const caller = await newCaller()
      await spendsTheBudget(t, () =>
        app.inject({
          method: 'PUT',
          url: `${url}/${id}/credentials?verify=true`,
          headers: caller,
          payload: { [sample.secret]: sample.newSecret() },
        }),
      )
    })
  }

  t.test(`communication: a Slack create, always verified, answers 429 RATE_LIMITED to a caller's call ${MAX + 1}`, async (t) => {
    const sample = SAMPLES.find((s) => s.provider === 'SLACK')!
    const caller = await newCaller()
    await spendsTheBudget(t, () =>
      app.inject({ method: 'POST', url: `${BASE}/communication`, headers: caller, payload: sample.body(tenantId) }),
    )
  })

  t.test(`communication: a PATCH of the Slack bot token, always verified, answers 429 RATE_LIMITED to call ${MAX + 1}`, async (t) => {
    const sample = SAMPLES.find((s) => s.provider === 'SLACK')!
    const creator = await newCaller()
    const created = await app.inject({ method: 'POST', url: `${BASE}/communication`, headers: creator, payload: sample.body(tenantId) })
    t.equal(created.statusCode, 201, created.body)
    const caller = await newCaller()
    const url = `${BASE}/communication/${created.json().id}`
    await spendsTheBudget(t, () => app.inject({ method: 'PATCH', url, headers: caller, payload: { botToken: sample.newSecret() } }))
  })

  t.test('every route that calls a provider, of every kind, draws on one budget per caller', async (t) => {
    const caller = await newCaller()
    const github = SAMPLES.find((s) => s.provider === 'GITHUB')!
    const appStore = SAMPLES.find((s) => s.provider === 'APP_STORE')!
    const slackSample = SAMPLES.find((s) => s.provider === 'SLACK')!
    const calls = [
      () => app.inject({ method: 'POST', url: `${BASE}/scm/verify`, headers: caller, payload: github.body(tenantId, 20) }),
      () => app.inject({ method: 'POST', url: `${BASE}/targets?verify=true`, headers: caller, payload: appStore.body(tenantId, 20) }),
      () => app.inject({ method: 'POST', url: `${BASE}/communication`, headers: caller, payload: slackSample.body(tenantId) }),
    ]
    t.equal(calls.length, MAX + 1)
    await spendsTheBudget(t, (i) => calls[i - 1]!())
  })

  t.test('creates that call no provider are not counted', async (t) => {
    const caller = await newCaller()
    const github = SAMPLES.find((s) => s.provider === 'GITHUB')!
    const calls = outboundCalls()
    for (let i = 1; i <= MAX + 1; i++) {
      const res = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: caller, payload: github.body(tenantId, 30 + i) })
      t.equal(res.statusCode, 201, res.body)
    }
    t.equal(outboundCalls(), calls, 'no provider was asked')
    await spendsTheBudget(t, () =>
      app.inject({ method: 'POST', url: `${BASE}/scm/verify`, headers: caller, payload: github.body(tenantId, 40) }),
    )
  })

  for (const { kind, provider, userHost } of PER_KIND.filter((p) => p.provider !== 'SLACK')) {
    const sample = SAMPLES.find((s) => s.kind === kind && s.provider === provider)!
    t.test(`${kind}: a duplicate create with verify=true is refused with 409 before the provider is asked, uncounted`, async (t) => {
      const caller = await newCaller()
      const payload = userHost ? bodyAt(sample, tenantId, host.origin, 50) : sample.body(tenantId, 50)
      t.equal((await app.inject({ method: 'POST', url: `${BASE}/${kind}`, headers: caller, payload })).statusCode, 201)
      const calls = outboundCalls()
      for (let i = 1; i <= MAX + 1; i++) {
        const res = await app.inject({ method: 'POST', url: `${BASE}/${kind}?verify=true`, headers: caller, payload })
        t.equal(res.statusCode, 409, res.body)
        t.match(res.json(), { code: 'DUPLICATE', message: KINDS.find((k) => k.segment === kind)!.duplicateMessage })
      }
      t.equal(outboundCalls(), calls, 'the provider was not asked')
      const verify = await app.inject({ method: 'POST', url: `${BASE}/${kind}/verify`, headers: caller, payload })
      t.not(verify.statusCode, 429, 'the refused creates took nothing from the budget')
    })
  }
})
