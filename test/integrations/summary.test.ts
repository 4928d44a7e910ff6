import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'

eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { app } = h

  /** A tenant with two integrations of every provider; returns its Owner's headers and the ids made, per kind. */
  async function populatedTenant() {
    const { tenantId, ownerId } = await h.tenant()
    const headers = { authorization: `Bearer ${await h.userToken(ownerId)}` }
    const made: Record<string, string[]> = {}
    for (const sample of SAMPLES) {
      for (const n of [1, 2]) {
        const res = await app.inject({ method: 'POST', url: `${BASE}/${sample.kind}`, headers, payload: sample.body(tenantId, n) })
        t.equal(res.statusCode, 201, res.body)
        ;(made[sample.kind] ??= []).push(res.json().id)
      }
    }
    return { tenantId, headers, made }
  }

  t.test("the summary lists the tenant's own integrations and none of another tenant's", async (t) => {
    const first = await populatedTenant()
    const second = await populatedTenant()
    const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read')}` }

    for (const [name, tenant, other] of [
      ['first', first, second],
      ['second', second, first],
    ] as const) {
      for (const headers of [tenant.headers, service]) {
        const res = await app.inject({ url: `${BASE}?tenantId=${tenant.tenantId}`, headers })
        t.equal(res.statusCode, 200, res.body)
        const { tenantId, kinds } = res.json<{ tenantId: string; kinds: Record<string, { id: string }[]> }>()
        t.equal(tenantId, tenant.tenantId)
        t.same(
          Object.keys(kinds).sort(),
          ['ci-cd', 'communication', 'project-management', 'scm', 'targets', 'test-management'],
          'every kind is in the summary',
        )
        for (const [kind, ids] of Object.entries(tenant.made)) {
          const listed = kinds[kind]!.map((i) => i.id)
          t.same([...listed].sort(), [...ids].sort(), `${name} tenant, ${kind}: exactly its own integrations`)
          t.notOk(
            listed.some((id) => other.made[kind]!.includes(id)),
            `${name} tenant, ${kind}: none of the other tenant's`,
          )
        }
      }
    }
  })

  t.test('a tenant without integrations has an empty summary even when others have many', async (t) => {
    await populatedTenant()
    const { tenantId, ownerId } = await h.tenant()
    const res = await app.inject({
      url: `${BASE}?tenantId=${tenantId}`,
      headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
    })
    t.equal(res.statusCode, 200, res.body)
    t.same(res.json(), {
      tenantId,
      kinds: { scm: [], targets: [], 'ci-cd': [], communication: [], 'project-management': [], 'test-management': [] },
      nextCursors: { scm: null, targets: null, 'ci-cd': null, communication: null, 'project-management': null, 'test-management': null },
    })
  })

  t.test("the summary answers at most `limit` of each kind, and a cursor the kind's list continues from", async (t) => {
    const { tenantId, headers, made } = await populatedTenant()
    // Three more source-control integrations than populatedTenant made (two per provider).
    const scm = SAMPLES.find((s) => s.kind === 'scm')!
    for (const n of [3, 4, 5]) {
      const res = await app.inject({ method: 'POST', url: `${BASE}/scm`, headers, payload: scm.body(tenantId, n) })
      t.equal(res.statusCode, 201, res.body)
      made.scm!.push(res.json().id)
    }
    const all = [...made.scm!].sort()

    for (const limit of [1, 2, 4]) {
      const res = await app.inject({ url: `${BASE}?tenantId=${tenantId}&limit=${limit}`, headers })
      t.equal(res.statusCode, 200, res.body)
      const summary = res.json<{ kinds: Record<string, { id: string }[]>; nextCursors: Record<string, string | null> }>()
      t.same(
        summary.kinds.scm!.map((i) => i.id),
        all.slice(0, limit),
        `limit ${limit}: the oldest ${limit} source-control integrations`,
      )
      for (const [kind, ids] of Object.entries(made)) {
        if (kind === 'scm') continue
        t.equal(summary.kinds[kind]!.length, Math.min(limit, ids.length), `limit ${limit}, ${kind}: at most the limit`)
        if (ids.length > limit) t.type(summary.nextCursors[kind], 'string', `limit ${limit}, ${kind}: more, so a cursor`)
        else t.equal(summary.nextCursors[kind], null, `limit ${limit}, ${kind}: all listed, no cursor`)
      }
      // The list continues where the summary stopped: every integration once, none missing.
      const seen = summary.kinds.scm!.map((i) => i.id)
      let cursor = summary.nextCursors.scm ?? null
      t.type(cursor, 'string', `limit ${limit}: more source-control integrations, so a cursor`)
      while (cursor) {
        const page = await app.inject({ url: `${BASE}/scm?tenantId=${tenantId}&limit=2&cursor=${cursor}`, headers })
        t.equal(page.statusCode, 200, page.body)
        const body = page.json<{ items: { id: string }[]; nextCursor: string | null }>()
        seen.push(...body.items.map((i) => i.id))
        cursor = body.nextCursor
      }
      t.same(seen, all, `limit ${limit}: summary then list give every source-control integration once, in order`)
    }

    const exact = await app.inject({ url: `${BASE}?tenantId=${tenantId}&limit=${all.length}`, headers })
    t.equal(exact.json().kinds.scm.length, all.length)
    t.equal(exact.json().nextCursors.scm, null, 'exactly the limit: no cursor')
  })

  t.test('a bad limit is a 400 naming the field', async (t) => {
    const { tenantId, ownerId } = await h.tenant()
    const headers = { authorization: `Bearer ${await h.userToken(ownerId)}` }
    for (const [query, message] of [
      ['limit=0', /querystring\/limit must be >= 1/],
      ['limit=101', /querystring\/limit must be <= 100/],
      ['limit=many', /querystring\/limit/],
      ['limit=1.5', /querystring\/limit/],
    ] as const) {
      const res = await app.inject({ url: `${BASE}?tenantId=${tenantId}&${query}`, headers })
      t.equal(res.statusCode, 400, `${query}: ${res.body}`)
      t.match(res.json().message, message, query)
    }
  })
})
