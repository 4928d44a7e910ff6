import t, { type Test } from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { providerEnv } from '../helpers/provider-env.js'
import { eachDatabase } from '../helpers/databases.js'
import { githubRepository } from '../helpers/github-api.js'
import { hold, startProviderDouble, type Hold, type Reply } from '../helpers/provider-double.js'
import { bodyAt, SAMPLES, slackAuthTest, type ProviderSample } from '../helpers/samples.js'
import { localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'
/** What every provider but Slack answers here: a refusal (an OAuth one for Google's token endpoint), a verdict like any other. */
const refused: Reply = { status: 401, body: { message: 'Bad credentials', error: 'invalid_grant' } }

type Json = Record<string, unknown>

/** The non-secret fields that tell connection 1 from connection 0: what a PATCH can move the row to. */
function moved(sample: ProviderSample, zero: Json, one: Json): Json {
  return Object.fromEntries(Object.entries(one).filter(([field, value]) => field !== sample.secret && value !== zero[field]))
}

// A verdict may only land on the state it verified: a write made while the provider was being asked makes it stale
// (409 VERIFICATION_STALE, the row as that write left it), a delete makes it a 404.
eachDatabase(t, async (t, db) => {
  const api = await startProviderDouble(t)
  const host = await startProviderDouble(t, { tls: await localhostCertificate(), hostname: 'localhost' })
  const slack = await startProviderDouble(t)
  const h = await startApp(t, db, {
    ...(await providerEnv(t, { api, slack, host })),
  })
  const { app } = h
  const githubValid = () => {
    api
      .on('GET', '/repos/acme/app-0', { body: githubRepository('app-0') })
      .on('GET', '/repos/acme/app-0/branches/main', { body: { name: 'main' } })
  }

  /** Every provider answers at once. */
  const answerAtOnce = () => {
    api.otherwise(refused)
    host.otherwise(refused)
    slack.on('POST', '/auth.test', slackAuthTest)
    githubValid()
  }
  answerAtOnce()

  /** Every provider holds the first `count` calls until the test releases them. */
  function holdProviders(t: Test, count = 1): Hold {
    const gate = hold(count)
    api.otherwise(gate.route(refused))
    host.otherwise(gate.route(refused))
    slack.on('POST', '/auth.test', gate.route(slackAuthTest))
    api
      .on('GET', '/repos/acme/app-0', gate.route({ body: githubRepository('app-0') }))
      .on('GET', '/repos/acme/app-0/branches/main', gate.route({ body: { name: 'main' } }))
    t.teardown(() => {
      gate.release()
      answerAtOnce()
    })
    return gate
  }

  /** Starts a `PUT …/credentials?verify=true` whose provider call waits; answers the pending answer and the release. */
  async function replaceHeld(t: Test, kind: string, id: string, owner: Record<string, string>, payload: Json) {
    const gate = holdProviders(t)
    const replacing = app.inject({ method: 'PUT', url: `${BASE}/${kind}/${id}/credentials?verify=true`, headers: owner, payload })
    await gate.arrived()
    return { replacing, gate }
  }

  async function tenant() {
    const { tenantId, ownerId } = await h.tenant()
    return { tenantId, owner: { authorization: `Bearer ${await h.userToken(ownerId)}` } }
  }

  for (const sample of SAMPLES) {
    const url = `${BASE}/${sample.kind}`
    const table = KINDS.find((k) => k.segment === sample.kind)!.tableName
    const body = (tenantId: string, n = 0) => (sample.userHost ? bodyAt(sample, tenantId, host.origin, n) : sample.body(tenantId, n))
    const label = `${sample.kind} ${sample.provider}`

    /** Creates connection 0 and starts a re-verify that waits at the provider; answers its id, the pending answer and the release. */
    async function reverifyHeld(t: Test, tenantId: string, owner: Record<string, string>) {
      const created = await app.inject({ method: 'POST', url, headers: owner, payload: body(tenantId) })
      t.equal(created.statusCode, 201, created.body)
      const { id } = created.json<{ id: string }>()
      const gate = holdProviders(t)
      const verifying = app.inject({ method: 'POST', url: `${url}/${id}/verify`, headers: owner })
      await gate.arrived()
      return { id, verifying, gate }
    }

    const patch = moved(sample, body('t', 0), body('t', 1))
    if (Object.keys(patch).length > 0) {
      t.test(`${label}: a re-verify that outlives a PATCH answers 409 and leaves the row as the PATCH left it`, async (t) => {
        const { tenantId, owner } = await tenant()
        const { id, verifying, gate } = await reverifyHeld(t, tenantId, owner)
        const patched = await app.inject({ method: 'PATCH', url: `${url}/${id}`, headers: owner, payload: patch })
        t.equal(patched.statusCode, 200, patched.body)
        t.match(patched.json(), { ...patch, verificationStatus: 'PENDING', lastVerifiedAt: null })
        gate.release()
        const res = await verifying
        t.equal(res.statusCode, 409, res.body)
        t.match(res.json(), { statusCode: 409, error: 'Conflict', code: 'VERIFICATION_STALE' })
        t.same((await app.inject({ url: `${url}/${id}`, headers: owner })).json(), patched.json(), 'the verdict did not land')
      })
    }

    t.test(`${label}: a re-verify that outlives a credential replacement answers 409 and leaves the new secret's state`, async (t) => {
      const { tenantId, owner } = await tenant()
      const { id, verifying, gate } = await reverifyHeld(t, tenantId, owner)
      const replaced = await app.inject({
        method: 'PUT',
        url: `${url}/${id}/credentials`,
        headers: owner,
        payload: { [sample.secret]: sample.newSecret() },
      })
      t.equal(replaced.statusCode, 200, replaced.body)
      gate.release()
      const res = await verifying
      t.equal(res.statusCode, 409, res.body)
      t.match(res.json(), { code: 'VERIFICATION_STALE' })
      t.same((await app.inject({ url: `${url}/${id}`, headers: owner })).json(), replaced.json(), 'the verdict did not land')
    })

    t.test(`${label}: a re-verify that outlives a delete answers 404 and brings nothing back`, async (t) => {
      const { tenantId, owner } = await tenant()
      const { id, verifying, gate } = await reverifyHeld(t, tenantId, owner)
      const deleted = await app.inject({ method: 'DELETE', url: `${url}/${id}`, headers: owner })
      t.equal(deleted.statusCode, 204, deleted.body)
      gate.release()
      const res = await verifying
      t.equal(res.statusCode, 404, res.body)
      t.match(res.json(), { code: 'NOT_FOUND' })
      t.same(await db.query(`SELECT id FROM ${table} WHERE id = '${id}'`), [])
    })
  }

  const github = SAMPLES.find((s) => s.provider === 'GITHUB')!
  const slackSample = SAMPLES.find((s) => s.provider === 'SLACK')!

  t.test('scm GITHUB: verified credentials that outlive a PATCH are not stored: 409, the row as the PATCH left it', async (t) => {
    const { tenantId, owner } = await tenant()
    const created = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload: github.body(tenantId) })
    const { id } = created.json<{ id: string }>()
    const { replacing, gate } = await replaceHeld(t, 'scm', id, owner, { accessToken: github.newSecret() })
    const patched = await app.inject({
      method: 'PATCH',
      url: `${BASE}/scm/${id}`,
      headers: owner,
      payload: { repositoryUrl: 'https://github.com/acme/app-1' },
    })
    t.equal(patched.statusCode, 200, patched.body)
    gate.release()
    const res = await replacing
    t.equal(res.statusCode, 409, res.body)
    t.match(res.json(), { code: 'VERIFICATION_STALE' })
    const row = (await app.inject({ url: `${BASE}/scm/${id}`, headers: owner })).json()
    t.same(row, patched.json(), 'neither the new token nor its verdict was stored')
    t.match(row, { repositoryUrl: 'https://github.com/acme/app-1', verificationStatus: 'PENDING' })
    t.equal(row.accessTokenFingerprint, created.json().accessTokenFingerprint)
  })

  t.test('scm GITHUB: verified credentials that outlive a delete answer 404 and bring nothing back', async (t) => {
    const { tenantId, owner } = await tenant()
    const created = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload: github.body(tenantId) })
    const { id } = created.json<{ id: string }>()
    const { replacing, gate } = await replaceHeld(t, 'scm', id, owner, { accessToken: github.newSecret() })
    t.equal((await app.inject({ method: 'DELETE', url: `${BASE}/scm/${id}`, headers: owner })).statusCode, 204)
    gate.release()
    const res = await replacing
    t.equal(res.statusCode, 404, res.body)
    t.same(await db.query(`SELECT id FROM tenant_scm_integrations WHERE id = '${id}'`), [])
  })

  t.test('communication SLACK: verified credentials that outlive another replacement answer 409; the later one stays', async (t) => {
    const { tenantId, owner } = await tenant()
    const created = await app.inject({ method: 'POST', url: `${BASE}/communication`, headers: owner, payload: slackSample.body(tenantId) })
    t.equal(created.statusCode, 201, created.body)
    const { id } = created.json<{ id: string }>()
    const { replacing: first, gate } = await replaceHeld(t, 'communication', id, owner, { botToken: slackSample.newSecret() })
    const second = await app.inject({
      method: 'PUT',
      url: `${BASE}/communication/${id}/credentials?verify=true`,
      headers: owner,
      payload: { botToken: slackSample.newSecret() },
    })
    t.equal(second.statusCode, 200, second.body)
    gate.release()
    const res = await first
    t.equal(res.statusCode, 409, res.body)
    t.match(res.json(), { code: 'VERIFICATION_STALE' })
    t.same((await app.inject({ url: `${BASE}/communication/${id}`, headers: owner })).json(), second.json())
  })

  for (const [sample, query] of [
    [github, '?verify=true'],
    [slackSample, ''],
  ] as const) {
    t.test(`${sample.kind} ${sample.provider}: two identical verified creates at once end in one row and a 409`, async (t) => {
      const { tenantId, owner } = await tenant()
      const payload = sample.body(tenantId)
      const gate = holdProviders(t, 2)
      const both = [0, 1].map(() => app.inject({ method: 'POST', url: `${BASE}/${sample.kind}${query}`, headers: owner, payload }))
      await gate.arrived(2)
      gate.release()
      const answers = await Promise.all(both)
      t.same(answers.map((a) => a.statusCode).sort(), [201, 409], answers.map((a) => a.body).join('\n'))
      t.match(answers.find((a) => a.statusCode === 409)!.json(), { code: 'DUPLICATE' })
      const table = KINDS.find((k) => k.segment === sample.kind)!.tableName
      t.equal((await db.query(`SELECT id FROM ${table} WHERE tenantId = '${tenantId}'`)).length, 1)
    })
  }
})
