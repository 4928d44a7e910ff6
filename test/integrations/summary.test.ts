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
    })
  })
})
