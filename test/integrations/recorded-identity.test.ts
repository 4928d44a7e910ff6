import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { calls, startProviderDouble } from '../helpers/provider-double.js'
import { SAMPLES, slackAuthTest, slackTeamFor } from '../helpers/samples.js'

const URL = '/api/v1/integrations/communication'
const slackSample = SAMPLES.find((s) => s.provider === 'SLACK')!

// Slack's workspace comes from verification (auth.test), and a tenant connects a workspace once. So a new bot token
// is always verified, like a create, whether it comes with PUT …/credentials (verify=true or not) or with a PATCH:
// the recorded workspace follows the token, and a token of a workspace another row has is refused.
eachDatabase(t, async (t, db) => {
  const slack = await startProviderDouble(t)
  /** Tokens Slack refuses; any other bot token is accepted for its own workspace. */
  const revoked = new Set<string>()
  slack.on('POST', '/auth.test', (request) =>
    revoked.has(String(request.headers.authorization).replace(/^Bearer /, ''))
      ? { body: { ok: false, error: 'token_revoked' } }
      : slackAuthTest(request),
  )
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { app } = h
  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read integrations:credentials:read')}` }

  async function tenant() {
    const { tenantId, ownerId } = await h.tenant()
    const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
    const create = async (botToken: string) => {
      const res = await app.inject({ method: 'POST', url: URL, headers: owner, payload: { ...slackSample.body(tenantId), botToken } })
      if (res.statusCode !== 201) throw new Error(res.body)
      return res.json<{ id: string; workspaceId: string; botTokenFingerprint: string }>()
    }
    return { tenantId, owner, create }
  }

  const replacements = [
    { how: 'PUT …/credentials', method: 'PUT', path: (id: string) => `${URL}/${id}/credentials` },
    { how: 'PUT …/credentials?verify=true', method: 'PUT', path: (id: string) => `${URL}/${id}/credentials?verify=true` },
    { how: 'PATCH', method: 'PATCH', path: (id: string) => `${URL}/${id}` },
  ] as const

  for (const { how, method, path } of replacements) {
    t.test(`a bot token replaced with ${how} is verified and the workspace follows it`, async (t) => {
      const { owner, create } = await tenant()
      const created = await create(slackSample.newSecret())
      const token = slackSample.newSecret()
      const since = slack.received.length
      const res = await app.inject({ method, url: path(created.id), headers: owner, payload: { botToken: token } })
      t.equal(res.statusCode, 200, res.body)
      t.same(calls(slack).slice(since), ['POST /auth.test'], 'Slack was asked')
      t.equal(slack.received.at(-1)!.headers.authorization, `Bearer ${token}`, 'with the new token')
      t.match(res.json(), { workspaceId: slackTeamFor(token), workspaceName: 'Acme', verificationStatus: 'VALID' })
      t.not(res.json().botTokenFingerprint, created.botTokenFingerprint)
      t.same((await app.inject({ url: `${URL}/${created.id}`, headers: owner })).json(), res.json(), 'and so it is stored')
    })

    t.test(`a bot token of a workspace another row has is refused with ${how}: 409, nothing changed`, async (t) => {
      const { owner, create } = await tenant()
      const taken = slackSample.newSecret()
      await create(taken)
      const own = slackSample.newSecret()
      const row = await create(own)
      const before = (await app.inject({ url: `${URL}/${row.id}`, headers: owner })).json()
      const res = await app.inject({ method, url: path(row.id), headers: owner, payload: { botToken: taken } })
      t.equal(res.statusCode, 409, res.body)
      t.match(res.json(), { code: 'DUPLICATE', message: 'This tenant already has this Slack workspace connected' })
      t.same((await app.inject({ url: `${URL}/${row.id}`, headers: owner })).json(), before, 'the row is unchanged')
      const stored = await app.inject({ url: `${URL}/${row.id}/credentials`, headers: service })
      t.same(stored.json().credentials, { botToken: own }, 'the token is still its own')
    })

    t.test(`a bot token Slack refuses is refused with ${how}: 422, nothing changed`, async (t) => {
      const { owner, create } = await tenant()
      const row = await create(slackSample.newSecret())
      const before = (await app.inject({ url: `${URL}/${row.id}`, headers: owner })).json()
      const token = slackSample.newSecret()
      revoked.add(token)
      const res = await app.inject({ method, url: path(row.id), headers: owner, payload: { botToken: token } })
      t.equal(res.statusCode, 422, res.body)
      t.match(res.json(), { code: 'VERIFICATION_FAILED' })
      t.same((await app.inject({ url: `${URL}/${row.id}`, headers: owner })).json(), before, 'the row is unchanged')
    })
  }

  t.test('two rows never hold tokens of one workspace, so a re-verify never finds its workspace taken', async (t) => {
    const { tenantId, owner, create } = await tenant()
    const first = await create(slackSample.newSecret())
    const moved = slackSample.newSecret()
    const replaced = await app.inject({
      method: 'PUT',
      url: `${URL}/${first.id}/credentials`,
      headers: owner,
      payload: { botToken: moved },
    })
    t.equal(replaced.statusCode, 200, replaced.body)
    const again = await app.inject({
      method: 'POST',
      url: URL,
      headers: owner,
      payload: { ...slackSample.body(tenantId), botToken: moved },
    })
    t.equal(again.statusCode, 409, 'the workspace the first row moved to cannot be connected twice')
    const reverified = await app.inject({ method: 'POST', url: `${URL}/${first.id}/verify`, headers: owner })
    t.equal(reverified.statusCode, 200, reverified.body)
    t.match(reverified.json(), { result: { verdict: 'VALID' }, integration: { workspaceId: slackTeamFor(moved) } })
    t.equal((await db.query(`SELECT id FROM tenant_communication_integrations WHERE tenantId = '${tenantId}'`)).length, 1)
  })

  t.test('a PATCH that changes nothing Slack checks is not verified', async (t) => {
    const { owner, create } = await tenant()
    const row = await create(slackSample.newSecret())
    const since = slack.received.length
    const res = await app.inject({ method: 'PATCH', url: `${URL}/${row.id}`, headers: owner, payload: { displayName: 'Releases' } })
    t.equal(res.statusCode, 200, res.body)
    t.equal(slack.received.length, since, 'Slack was not asked')
    t.match(res.json(), { displayName: 'Releases', verificationStatus: 'VALID', workspaceId: row.workspaceId })
  })
})
