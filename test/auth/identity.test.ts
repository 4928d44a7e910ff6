import fs from 'node:fs'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { startApp, type TestApp } from '../helpers/app.js'
import { createTestDatabase, eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { SAMPLES } from '../helpers/samples.js'

const SCM = '/api/v1/integrations/scm'
const GITHUB = SAMPLES.find((s) => s.provider === 'GITHUB')!

/** Spellings of an account id that a case- and accent-insensitive, space-padding collation takes for it. */
function lookalikes(accountId: string): Record<string, string> {
  return {
    'upper case': accountId.toUpperCase(),
    'a trailing space': `${accountId} `,
    'trailing spaces': `${accountId}   `,
    'an accent': accountId.replace('a', 'á'),
  }
}

/** Whether the database itself takes `spelling` for the stored account id (the collation trap this guards against). */
async function collationMatches(db: TestDatabase, spelling: string): Promise<boolean> {
  const rows = (await db.query(`SELECT COUNT(*) AS n FROM collaborators WHERE accountId = '${spelling.replace(/'/g, "''")}'`)) as {
    n: number | string
  }[]
  return Number(rows[0]!.n) > 0
}

type Action = 'list' | 'summary' | 'read' | 'create' | 'verify' | 'patch' | 'delete'
const ALL: Action[] = ['list', 'summary', 'read', 'create', 'verify', 'patch', 'delete']

/** Every way a user reaches a tenant's integrations, as `sub`. */
async function answers(h: TestApp, sub: string, tenantId: string, id: string, actions: Action[] = ALL) {
  const headers = { authorization: `Bearer ${await h.userToken(sub)}` }
  const requests: Record<Action, () => Promise<LightMyRequestResponse>> = {
    list: () => h.app.inject({ url: `${SCM}?tenantId=${tenantId}`, headers }),
    summary: () => h.app.inject({ url: `/api/v1/integrations?tenantId=${tenantId}`, headers }),
    read: () => h.app.inject({ url: `${SCM}/${id}`, headers }),
    create: () => h.app.inject({ method: 'POST', url: SCM, headers, payload: GITHUB.body(tenantId, 7) }),
    verify: () => h.app.inject({ method: 'POST', url: `${SCM}/${id}/verify`, headers }),
    patch: () => h.app.inject({ method: 'PATCH', url: `${SCM}/${id}`, headers, payload: { displayName: 'Taken over' } }),
    delete: () => h.app.inject({ method: 'DELETE', url: `${SCM}/${id}`, headers }),
  }
  const answered: [Action, LightMyRequestResponse][] = []
  for (const action of actions) answered.push([action, await requests[action]()])
  return answered
}

async function assertStranger(t: Test, h: TestApp, sub: string, tenantId: string, id: string, what: string, actions = ALL) {
  for (const [action, res] of await answers(h, sub, tenantId, id, actions)) {
    t.equal(res.statusCode, 404, `${what}: ${action} answers as to a stranger`)
    t.match(res.json(), { statusCode: 404, code: 'NOT_FOUND' }, `${what}: ${action}`)
  }
}

async function createIntegration(h: TestApp, ownerId: string, tenantId: string): Promise<string> {
  const res = await h.app.inject({
    method: 'POST',
    url: SCM,
    headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
    payload: GITHUB.body(tenantId),
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return String(res.json().id)
}

eachDatabase(t, async (t, db) => {
  // Nothing here may reach a provider: were a look-alike let in, its verify goes nowhere.
  const h = await startApp(t, db, { GITHUB_API_URL: 'http://127.0.0.1:9' })

  t.test('a token whose sub only resembles an account id is a stranger, not that account', async (t) => {
    const { tenantId, ownerId } = await h.tenant()
    const id = await createIntegration(h, ownerId, tenantId)
    for (const [what, sub] of Object.entries(lookalikes(ownerId))) {
      if (db.dialect === 'mysql') t.ok(await collationMatches(db, sub), `${what}: the column's collation alone would match it`)
      await assertStranger(t, h, sub, tenantId, id, what)
    }
    const [read, deleted] = (await answers(h, ownerId, tenantId, id, ['read', 'delete'])).map(([, res]) => res.statusCode)
    t.equal(read, 200, 'the exact id still acts as the owner')
    t.equal(deleted, 204)
  })
})

t.test('Delivr tables whose ids compare case-insensitively', async (t) => {
  if (!process.env.TEST_MYSQL_URL) {
    t.plan(0, 'a MySQL collation; SQLite compares bytes')
    return
  }
  // The reference tables as Delivr would have them with a case-insensitive tenants.id: what a
  // collation lets through must not be what decides access.
  const db = await createTestDatabase(t, 'mysql')
  const fixture = fs.readFileSync(new URL('../fixtures/delivr-reference-mysql.sql', import.meta.url), 'utf8')
  await db.query(fixture.replace(/CHAR\(36\) BINARY/g, 'CHAR(36) COLLATE utf8mb4_unicode_ci'))
  const h = await startApp(t, db, { GITHUB_API_URL: 'http://127.0.0.1:9' })
  const { tenantId, ownerId } = await h.tenant()
  const id = await createIntegration(h, ownerId, tenantId)
  const upper = tenantId.toUpperCase()
  t.not(upper, tenantId)
  t.equal((await db.query(`SELECT id FROM tenants WHERE id = '${upper}'`)).length, 1, 'the collation alone would match the tenant')

  await assertStranger(t, h, ownerId, upper, id, 'a member naming the tenant in upper case', ['list', 'summary', 'create'])
  const service = { authorization: `Bearer ${await h.serviceToken('release', 'integrations:read')}` }
  for (const url of [`${SCM}?tenantId=${upper}`, `/api/v1/integrations?tenantId=${upper}`]) {
    const res = await h.app.inject({ url, headers: service })
    t.equal(res.statusCode, 404, `a service naming the tenant in upper case: ${url}`)
  }
  const exact = await h.app.inject({ url: `${SCM}?tenantId=${tenantId}`, headers: service })
  t.equal(exact.statusCode, 200)
  t.same(
    exact.json().items.map((i: { id: string }) => i.id),
    [id],
  )
})
