import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { githubRepository } from '../helpers/github-api.js'
import { hold, startProviderDouble } from '../helpers/provider-double.js'
import { providerEnv } from '../helpers/provider-env.js'
import { leaks } from '../helpers/samples.js'
import { localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'
const AUDIT = `${BASE}/audit-events`
const token = (n: number) => `ghp_${String(n).repeat(36).slice(0, 36)}`

type Json = Record<string, unknown>

eachDatabase(t, async (t, db) => {
  const api = await startProviderDouble(t)
  const host = await startProviderDouble(t, { tls: await localhostCertificate(), hostname: 'localhost' })
  const slack = await startProviderDouble(t)
  const h = await startApp(t, db, await providerEnv(t, { api, slack, host }))
  const { app } = h
  const answer = () =>
    api
      .on('GET', '/repos/acme/app-0', { body: githubRepository('app-0') })
      .on('GET', '/repos/acme/app-0/branches/main', { body: { name: 'main' } })
  answer()

  const { tenantId, ownerId } = await h.tenant()
  const editorId = await h.account({ [tenantId]: 'Editor' })
  const viewerId = await h.account({ [tenantId]: 'Viewer' })
  const strangerId = await h.account()
  const as = async (accountId: string) => ({ authorization: `Bearer ${await h.userToken(accountId)}` })
  const owner = await as(ownerId)
  const editor = await as(editorId)
  const consumer = { authorization: `Bearer ${await h.serviceToken('release-bot', 'integrations:read integrations:credentials:read')}` }
  const secrets = [token(1), token(2)]

  const trail = async (query: string, headers = editor) => {
    const res = await app.inject({ method: 'GET', url: `${AUDIT}?tenantId=${tenantId}${query}`, headers })
    return { status: res.statusCode, body: res.json<{ items: Json[]; nextCursor: string | null } & Json>() }
  }
  const rows = async (table: string) => (await db.query(`SELECT * FROM ${table}`)) as Json[]

  const create = await app.inject({
    method: 'POST',
    url: `${BASE}/scm`,
    headers: { ...owner, 'x-request-id': 'req-create' },
    payload: { tenantId, scmType: 'GITHUB', displayName: 'App', repositoryUrl: 'https://github.com/acme/app-0', accessToken: secrets[0] },
  })
  t.equal(create.statusCode, 201)
  const created = create.json<Json>()
  const id = String(created.id)
  const at = (path = '') => `${BASE}/scm/${id}${path}`
  const steps = [
    { method: 'PATCH', url: at(), headers: { ...owner, 'x-request-id': 'req-patch' }, payload: { displayName: 'Renamed' } },
    { method: 'PUT', url: at('/credentials'), headers: { ...owner, 'x-request-id': 'req-rotate' }, payload: { accessToken: secrets[1] } },
    { method: 'POST', url: at('/verify'), headers: { ...editor, 'x-request-id': 'req-verify' } },
    { method: 'POST', url: at('/verify'), headers: { ...editor, 'x-request-id': 'req-verify-again' } },
    { method: 'GET', url: at('/credentials'), headers: { ...consumer, 'x-request-id': 'req-read' } },
    { method: 'POST', url: at('/access-token'), headers: { ...consumer, 'x-request-id': 'req-mint' } },
  ] as const
  const answers: Json[] = []
  for (const step of steps) {
    const res = await app.inject(step)
    t.ok(res.statusCode < 300, `${step.method} ${step.url}: ${res.statusCode} ${res.body}`)
    answers.push(res.json())
  }
  const rotated = answers[1]!

  t.test('answers who did what, in order, for every change, verdict change, read and mint', async (t) => {
    const { status, body } = await trail('')
    t.equal(status, 200)
    t.same(
      body.items.map((e) => [e.action, e.actor, e.requestId, e.verdictBefore, e.verdictAfter]),
      [
        ['created', ownerId, 'req-create', null, 'PENDING'],
        ['updated', ownerId, 'req-patch', 'PENDING', 'PENDING'],
        ['credentials_replaced', ownerId, 'req-rotate', 'PENDING', 'PENDING'],
        ['verification_changed', editorId, 'req-verify', 'PENDING', 'VALID'],
        ['credentials_read', 'service:release-bot', 'req-read', null, null],
        ['access_token_issued', 'service:release-bot', 'req-mint', null, null],
      ],
      'the second verify left the verdict as it was: nothing to record',
    )
    t.match(body.items[0], { tenantId, kind: 'scm', integrationId: id, changedFields: ['scmType', 'displayName', 'isActive'] })
    t.ok((body.items[0]!.changedFields as string[]).includes('accessToken'), 'names the secret field, not its value')
    t.same(body.items[1]!.changedFields, ['displayName'])
    t.same(body.items[2], {
      ...body.items[2],
      changedFields: ['accessToken'],
      fingerprintsBefore: { accessToken: created.accessTokenFingerprint },
      fingerprintsAfter: { accessToken: rotated.accessTokenFingerprint },
    })
    t.not(created.accessTokenFingerprint, rotated.accessTokenFingerprint)
    t.equal(body.nextCursor, null)
  })

  t.test('a delete is recorded with the fingerprint that went', async (t) => {
    const res = await app.inject({ method: 'DELETE', url: at(), headers: { ...owner, 'x-request-id': 'req-delete' } })
    t.equal(res.statusCode, 204)
    const { body } = await trail(`&action=deleted`)
    t.match(body.items, [
      {
        action: 'deleted',
        actor: ownerId,
        requestId: 'req-delete',
        integrationId: id,
        verdictBefore: 'VALID',
        fingerprintsBefore: { accessToken: rotated.accessTokenFingerprint },
        fingerprintsAfter: { accessToken: null },
      },
    ])
  })

  t.test('holds no secret, nor does any change event', async (t) => {
    for (const table of ['integration_audit_events', 'integration_events_outbox']) {
      const text = JSON.stringify(await rows(table))
      for (const secret of secrets) t.notOk(leaks(text, secret), `${table} holds no secret`)
    }
    for (const secret of secrets)
      t.notOk(
        h.logs.some((line) => leaks(line, secret)),
        'nor does the log',
      )
  })

  t.test('writes one change event per change, in the same order, and none for reads and mints', async (t) => {
    const events = (await rows('integration_events_outbox')).sort((a, b) => String(a.id).localeCompare(String(b.id)))
    t.same(
      events.map((e) => e.type),
      [
        'integration.created',
        'integration.updated',
        'integration.credentials_replaced',
        'integration.verification_changed',
        'integration.deleted',
      ],
    )
    t.same(JSON.parse(String(events[3]!.payload)).data, {
      integrationId: id,
      tenantId,
      kind: 'scm',
      provider: 'GITHUB',
      status: 'VALID',
      from: 'PENDING',
      to: 'VALID',
      reason: JSON.parse(String(events[3]!.payload)).data.reason,
    })
  })

  t.test('a write that fails leaves neither an audit event nor a change event', async (t) => {
    const before = [(await rows('integration_audit_events')).length, (await rows('integration_events_outbox')).length]
    const body = {
      tenantId,
      scmType: 'GITHUB',
      displayName: 'Again',
      repositoryUrl: 'https://github.com/acme/app-0',
      accessToken: token(3),
    }
    const first = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload: body })
    t.equal(first.statusCode, 201)
    const duplicate = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload: body })
    t.equal(duplicate.statusCode, 409, 'a duplicate is refused by the unique index')

    // A verdict reached on a version changed meanwhile: refused (409), recorded nowhere.
    const second = String(first.json().id)
    const gate = hold(1)
    api.on('GET', '/repos/acme/app-0', gate.route({ body: githubRepository('app-0') }))
    t.teardown(() => {
      gate.release()
      answer()
    })
    const verifying = app.inject({ method: 'POST', url: `${BASE}/scm/${second}/verify`, headers: editor })
    await gate.arrived()
    const patch = await app.inject({ method: 'PATCH', url: `${BASE}/scm/${second}`, headers: owner, payload: { displayName: 'Meanwhile' } })
    t.equal(patch.statusCode, 200)
    gate.release()
    t.equal((await verifying).statusCode, 409)
    t.same(
      [(await rows('integration_audit_events')).length, (await rows('integration_events_outbox')).length],
      [before[0]! + 2, before[1]! + 2],
      'only the create and the PATCH that succeeded are recorded',
    )
  })

  t.test('filters by integration, kind, action and time, and pages with a cursor', async (t) => {
    const all = (await trail('&limit=100')).body.items
    const one = await trail(`&integrationId=${id}&limit=3`)
    t.same(
      one.body.items.map((e) => e.id),
      all
        .filter((e) => e.integrationId === id)
        .map((e) => e.id)
        .slice(0, 3),
    )
    const next = await trail(`&integrationId=${id}&limit=3&cursor=${one.body.nextCursor}`)
    t.same(
      next.body.items.map((e) => e.id),
      all
        .filter((e) => e.integrationId === id)
        .map((e) => e.id)
        .slice(3, 6),
    )
    t.same((await trail('&kind=ci-cd')).body.items, [])
    t.same(
      (await trail('&action=credentials_read')).body.items.map((e) => e.requestId),
      ['req-read'],
    )
    const future = new Date(Date.now() + 3600_000).toISOString()
    t.same((await trail(`&since=${future}`)).body.items, [])
    t.equal((await trail(`&until=${future}`)).body.items.length, Math.min(all.length, 50))
  })

  t.test('Owners, Editors and services with integrations:read may read it; Viewers may not; strangers see no tenant', async (t) => {
    t.equal((await trail('', owner)).status, 200)
    t.equal((await trail('', { authorization: `Bearer ${await h.serviceToken('auditor', 'integrations:read')}` })).status, 200)
    t.equal((await trail('', await as(viewerId))).status, 403)
    t.equal((await trail('', { authorization: `Bearer ${await h.serviceToken('other', 'integrations:credentials:read')}` })).status, 403)
    t.match(await trail('', await as(strangerId)), { status: 404, body: { message: 'Tenant not found' } })
  })

  t.test('refuses bad input with 400 naming the field', async (t) => {
    const cases: [string, RegExp][] = [
      ['&since=yesterday', /querystring\/since/],
      ['&integrationId=nope', /querystring\/integrationId/],
      ['&kind=svn', /querystring\/kind/],
      ['&action=stolen', /querystring\/action/],
      ['&limit=0', /querystring\/limit/],
      ['&cursor=abc', /querystring\/cursor/],
      ['&colour=red', /parameter this route does not take/],
      [`&since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z`, /querystring\/until/],
    ]
    for (const [query, message] of cases) t.match(await trail(query), { status: 400, body: { message } }, query)
    const missing = await app.inject({ method: 'GET', url: AUDIT, headers: editor })
    t.match(missing, { statusCode: 400 })
    t.match(missing.json(), { message: /tenantId/ })
  })
})
