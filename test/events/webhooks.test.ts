import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { listDeadLetters, replayDeadLetters } from '../../src/events/dead-letters.js'
import { startApp } from '../helpers/app.js'
import { createTestDatabase, eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { eventually } from '../helpers/eventually.js'
import { leaks } from '../helpers/samples.js'
import { startWebhookReceiver, type Delivery } from '../helpers/webhook-receiver.js'

const BASE = '/api/v1/integrations'
const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const token = (n: number) => `glpat-${String(n).repeat(20).slice(0, 20)}`

/** An app delivering to a receiver of its own, on `db`, giving up after `attempts`. */
async function delivering(t: Test, db: TestDatabase, attempts: number) {
  const receiver = await startWebhookReceiver(t, SECRET)
  const h = await startApp(t, db, {
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RETRY_BASE_MS: '20',
    WEBHOOK_MAX_ATTEMPTS: String(attempts),
  })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const gitlab = (n: number) => ({
    tenantId,
    scmType: 'GITLAB',
    displayName: `Repo ${n}`,
    repositoryUrl: `https://gitlab.example.com/acme/app-${n}`,
    accessToken: token(n),
  })
  const create = async (n: number) => {
    const res = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload: gitlab(n) })
    t.equal(res.statusCode, 201, res.body)
    return String(res.json().id)
  }
  const outbox = async () =>
    (await db.query('SELECT id, state FROM integration_events_outbox ORDER BY id')) as { id: string; state: string }[]
  return { receiver, app, tenantId, owner, gitlab, create, outbox }
}

eachDatabase(t, async (t, db) => {
  // Enough attempts that no event gives up while the receiver is down, however slowly this machine runs.
  const { receiver, app, tenantId, owner, gitlab, create, outbox } = await delivering(t, db, 100)
  let up = false
  receiver.answer = () => (up ? 204 : 503)
  const typesOf = (deliveries: Delivery[], id: string) =>
    deliveries.filter((d) => d.event.data.integrationId === id).map((d) => d.event.type)

  t.test('with the receiver down a while, every event arrives once it is back, in order, each id once after dedupe', async (t) => {
    const first = await create(1)
    const second = await create(2)
    await app.inject({ method: 'PATCH', url: `${BASE}/scm/${first}`, headers: owner, payload: { displayName: 'Renamed' } })
    await app.inject({ method: 'PUT', url: `${BASE}/scm/${second}/credentials`, headers: owner, payload: { accessToken: token(3) } })
    await app.inject({ method: 'DELETE', url: `${BASE}/scm/${first}`, headers: owner })
    const expected = (await outbox()).map((row) => row.id)
    t.equal(expected.length, 5, 'five changes, five events waiting')

    await receiver.until((attempts) => attempts.length >= 2)
    t.ok(
      receiver.attempts.every((d) => d.status === 503),
      'while down, only the first event of each integration was tried: the later ones wait behind it',
    )
    up = true
    await receiver.until(() => receiver.accepted().length === expected.length)
    const accepted = receiver.accepted()
    t.same(accepted.map((d) => d.id).sort(), expected, 'every event once after dedupe, under the id it was written with')
    t.same(typesOf(accepted, first), ['integration.created', 'integration.updated', 'integration.deleted'], 'in order')
    t.same(typesOf(accepted, second), ['integration.created', 'integration.credentials_replaced'], 'in order')
    const retried = receiver.attempts.filter((d) => d.status === 503).map((d) => d.id)
    t.ok(
      retried.every((id) => expected.includes(id)),
      'a retry carries the webhook-id of its event',
    )
    t.equal(receiver.forged, 0, 'every signature verified')
    t.match(accepted.find((d) => d.event.type === 'integration.created')!.event, {
      type: 'integration.created',
      timestamp: String,
      data: { integrationId: String, tenantId, kind: 'scm', provider: 'GITLAB', status: 'PENDING' },
    })
    const text = JSON.stringify(receiver.attempts)
    for (const n of [1, 2, 3]) t.notOk(leaks(text, token(n)), 'no payload carries a secret')
    t.same(await eventually(outbox, (rows) => rows.length === 0), [], 'the outbox is empty once all is delivered')
  })

  t.test('a change that rolls back sends nothing', async (t) => {
    const before = receiver.attempts.length
    const duplicate = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers: owner, payload: gitlab(2) })
    t.equal(duplicate.statusCode, 409)
    const missing = await app.inject({
      method: 'PATCH',
      url: `${BASE}/scm/01900000-0000-7000-8000-000000000000`,
      headers: owner,
      payload: { displayName: 'Nobody' },
    })
    t.equal(missing.statusCode, 404)
    const later = await create(4)
    await receiver.until(() => receiver.accepted().some((d) => d.event.data.integrationId === later))
    t.same(
      receiver.attempts.slice(before).map((d) => [d.event.type, d.event.data.integrationId]),
      [['integration.created', later]],
      'only the change that was made',
    )
  })

  t.test('an event the receiver keeps refusing is dead-lettered after WEBHOOK_MAX_ATTEMPTS, and replays under its id', async (t) => {
    // A database and an app of its own, giving up after three attempts.
    const own = await createTestDatabase(t, db.dialect)
    const { receiver, app, create, outbox } = await delivering(t, own, 3)
    const doomed = await create(5)
    receiver.answer = (d) => (d.event.data.integrationId === doomed ? 410 : 204)
    const dead = await eventually(
      () => listDeadLetters(app.db.events),
      (rows) => rows.length === 1,
    )
    t.match(dead, [{ type: 'integration.created', integrationId: doomed, attempts: 3, lastError: /HTTP 410/ }])
    t.equal(receiver.attempts.filter((d) => d.id === dead[0]!.id).length, 3, 'tried three times')
    const metrics = await app.inject({ method: 'GET', url: '/metrics' })
    t.match(metrics.body, /integration_events_outbox\{state="dead"\} 1/)
    t.match(metrics.body, /integration_event_delivery_failures_total\{outcome="dead"\} 1/)

    receiver.answer = () => 204
    t.equal(await replayDeadLetters(app.db.events), 1)
    await receiver.until(() => receiver.accepted().some((d) => d.id === dead[0]!.id))
    t.same(await eventually(outbox, (rows) => rows.length === 0), [])
  })
})
