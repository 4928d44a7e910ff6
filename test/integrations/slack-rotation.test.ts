import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { startApp, type TestApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { testToken } from '../helpers/provider-double.js'
import { leaks } from '../helpers/samples.js'
import { startSlackRotation, works, type SlackRotationDouble } from '../helpers/slack-rotation.js'

const BASE = '/api/v1/integrations/communication'
const TABLE = 'tenant_communication_integrations'
type Json = Record<string, any>
interface Answer {
  status: number
  headers: Record<string, unknown>
  json: Json
}

interface Replica extends TestApp {
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>
  token(id: string): Promise<Answer>
}

/** Replicas of the service on one database, all aimed at one Slack; the first one's tenant and Owner. */
async function replicas(t: Test, db: TestDatabase, count: number, env: Record<string, string> = {}) {
  const slack = await startSlackRotation(t)
  const apps: Replica[] = []
  // Replicas share their keys, as a deployment's do.
  const shared = { CREDENTIAL_KEYS: `r1:${randomBytes(32).toString('base64')}`, AUTH_JWT_SECRET: randomBytes(32).toString('hex') }
  for (let i = 0; i < count; i++) {
    const h = await startApp(t, db, { SLACK_API_URL: slack.origin, VERIFY_TIMEOUT_MS: '1000', ...shared, ...env })
    apps.push(await replica(h))
  }
  const first = apps[0]!
  const { tenantId, ownerId } = await first.tenant()
  const owner = { authorization: `Bearer ${await first.userToken(ownerId)}` }
  const body = (extra: Json = {}) => ({ tenantId, communicationType: 'SLACK', displayName: 'Releases', ...slack.connection(), ...extra })
  return { slack, apps, first, owner, body }
}

async function replica(h: TestApp): Promise<Replica> {
  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:credentials:read')}` }
  async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = service) {
    const res = await h.app.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    return { status: res.statusCode, headers: res.headers, json: res.body === '' ? {} : res.json<Json>() }
  }
  return { ...h, call, token: (id) => call('POST', `${BASE}/${id}/access-token`) }
}

function noSecrets(t: Test, slack: SlackRotationDouble, apps: Replica[], secrets: string[]) {
  const logs = apps.flatMap((a) => a.logs).join('\n')
  const all = [...secrets, ...slack.issued.map((i) => i.token), slack.clientSecret]
  t.notOk(
    all.some((secret) => leaks(logs, secret)),
    'no token, refresh token or client secret in any log',
  )
}

eachDatabase(t, async (t, db) => {
  t.test('a rotating Slack token is renewed on create, verified, and handed out until it is about to expire', async (t) => {
    const { slack, first, owner, body } = await replicas(t, db, 1)
    const given = body()
    const created = await first.call('POST', BASE, given, owner)
    t.equal(created.status, 201, JSON.stringify(created.json))
    t.match(created.json, {
      slackClientId: slack.clientId,
      hasRefreshToken: true,
      hasSlackClientSecret: true,
      hasBotToken: true,
      workspaceId: 'T0ROTATING',
      verificationStatus: 'VALID',
    })
    t.notOk('tokenRenewalLease' in created.json, 'the lease is the service’s own')
    t.equal(slack.renewals, 1, 'renewed once, on create')
    t.notOk(slack.refreshTokens.has(given.refreshToken), 'the given refresh token is spent')
    const expires = Date.parse(created.json.botTokenExpiresAt)
    t.ok(Math.abs(expires - slack.issued[0]!.expiresAt) < 5000, 'botTokenExpiresAt is when the renewed token expires')

    const token = await first.token(created.json.id)
    t.match(token, { status: 200, json: { tokenType: 'Bearer', shortLived: true, grants: null } })
    t.equal(token.json.accessToken, slack.issued[0]!.token, 'the renewed bot token')
    t.ok(works(slack, token.json.accessToken), 'Slack accepts it')
    t.equal(slack.renewals, 1, 'not renewed again while it lives')
    noSecrets(t, slack, [first], [given.refreshToken, ...slack.refreshTokens])
  })

  t.test('four replicas asking at once for an expiring token: one renewal, every answer the same working token', async (t) => {
    const { slack, apps, first, owner, body } = await replicas(t, db, 4, { TOKEN_REFRESH_MARGIN_SECONDS: '600' })
    // The first token lives 5 minutes: within the margin, so the next ask renews it.
    slack.expiresIn = 300
    const id = (await first.call('POST', BASE, body(), owner)).json.id as string
    slack.expiresIn = 43200
    const before = slack.renewals

    const answers = await Promise.all(apps.flatMap((app) => Array.from({ length: 25 }, () => app.token(id))))
    // A renewal asks Slack: the route draws on the caller's rate limit, says so, and documents its 429.
    t.ok(
      answers.some((a) => a.headers['x-ratelimit-remaining'] !== undefined),
      'the renewing answer carries the rate-limit headers',
    )
    const documented = (first.app.swagger() as Json).paths[`${BASE}/{id}/access-token`].post.responses
    t.ok(documented['429'], 'the access-token route documents 429')
    t.same(new Set(answers.map((a) => a.status)), new Set([200]), JSON.stringify(answers.find((a) => a.status !== 200)?.json))
    t.equal(slack.renewals - before, 1, 'one renewal across the four replicas')
    t.same(slack.replayed, [], 'no refresh token was presented twice')
    const tokens = new Set(answers.map((a) => a.json.accessToken))
    t.equal(tokens.size, 1, 'all got the same token')
    t.ok(works(slack, [...tokens][0]), 'and Slack accepts it')

    let minted = 0
    for (const app of apps) {
      const metrics = (await app.app.inject({ url: '/metrics' })).body
      const line = /^integration_access_tokens_total\{[^}]*outcome="minted"[^}]*\} (\d+)$/m.exec(metrics)
      minted += Number(line?.[1] ?? 0)
    }
    t.equal(minted, 1, 'the metrics count one renewal across the replicas (the rest were handed out as held)')
    const renewals = await first.app.db.events.Audit.findAll({ where: { integrationId: id, action: 'credentials_renewed' } })
    t.same(
      renewals.map((r) => r.actor),
      ['service:releases'],
      'the trail holds the one renewal, by the service that asked',
    )
    const stored = (await first.call('GET', `${BASE}/${id}`, undefined, owner)).json
    t.equal(Date.parse(stored.botTokenExpiresAt), Date.parse(answers[0]!.json.expiresAt), 'the new expiry is stored')
    t.equal(stored.verificationStatus, 'VALID')

    const verified = await first.call('POST', `${BASE}/${id}/verify`, undefined, owner)
    t.match(verified, { status: 200, json: { result: { verdict: 'VALID' } } }, 'the stored token verifies')
    t.equal(slack.renewals - before, 1, 'without another renewal')
    noSecrets(t, slack, apps, [...slack.refreshTokens])
  })

  t.test('a renewer that died holding the lease: another takes over once the lease has run out', async (t) => {
    const { slack, first, owner, body } = await replicas(t, db, 1, { TOKEN_REFRESH_MARGIN_SECONDS: '600' })
    slack.expiresIn = 300
    const id = (await first.call('POST', BASE, body(), owner)).json.id as string
    slack.expiresIn = 43200
    const past = db.dialect === 'mysql' ? "'2020-01-01 00:00:00.000'" : "'2020-01-01 00:00:00.000 +00:00'"
    await db.query(`UPDATE ${TABLE} SET tokenRenewalLease = 'a-replica-that-died', tokenRenewalLeaseUntil = ${past} WHERE id = '${id}'`)
    const token = await first.token(id)
    t.equal(token.status, 200, JSON.stringify(token.json))
    t.ok(works(slack, token.json.accessToken))
    const [row] = (await db.query(`SELECT tokenRenewalLease FROM ${TABLE} WHERE id = '${id}'`)) as Json[]
    t.equal(row!.tokenRenewalLease, null, 'the lease is let go')
  })

  t.test('a renewal whose answer was lost is never taken for a success: the integration turns INVALID', async (t) => {
    const { slack, first, owner, body } = await replicas(t, db, 1, { TOKEN_REFRESH_MARGIN_SECONDS: '600' })
    slack.expiresIn = 300
    const id = (await first.call('POST', BASE, body(), owner)).json.id as string

    slack.loseAnswers = true
    const lost = await first.token(id)
    t.equal(lost.status, 503, 'Slack carried the renewal out, but its answer never came')
    t.match(lost.json, { code: 'PROVIDER_TIMEOUT' })
    t.notOk(lost.json.accessToken)
    t.equal((await first.call('GET', `${BASE}/${id}`, undefined, owner)).json.verificationStatus, 'VALID', 'nothing is known yet')

    slack.loseAnswers = false
    const refused = await first.token(id)
    t.equal(refused.status, 422)
    t.match(refused.json, { code: 'CREDENTIAL_REFUSED', message: /invalid_refresh_token/ })
    t.equal(slack.replayed.length, 1, 'the stored refresh token was the spent one')
    const after = (await first.call('GET', `${BASE}/${id}`, undefined, owner)).json
    t.match(after, { verificationStatus: 'INVALID', verificationError: /already spent/ })
  })

  t.test('connecting with rotation: the other way, half of it, a draft that would spend the token; refuse keeps it inside', async (t) => {
    const { slack, first, owner, body } = await replicas(t, db, 1, { LONG_LIVED_CREDENTIALS: 'refuse' })
    const mixed = await first.call('POST', BASE, body({ botToken: undefined, slackClientId: undefined }), owner)
    t.equal(mixed.status, 400)
    t.match(mixed.json.message, /body\/slackClientId is required to connect with rotating bot token/)

    const draft = await first.call('POST', `${BASE}/verify`, body(), owner)
    t.equal(draft.status, 400)
    t.match(draft.json.message, /body\/botToken is required to verify a rotating bot token without storing it/)
    t.equal(slack.renewals, 0, 'no refresh token was spent')

    const rotating = (await first.call('POST', BASE, body(), owner)).json.id as string
    const refusedRead = await first.call('GET', `${BASE}/${rotating}/credentials`)
    t.equal(refusedRead.status, 403)
    t.match(refusedRead.json, { code: 'LONG_LIVED_CREDENTIALS_REFUSED' })

    const replaced = await first.call(
      'PUT',
      `${BASE}/${rotating}/credentials`,
      {
        refreshToken: slack.newRefreshToken(),
        slackClientSecret: slack.clientSecret,
      },
      owner,
    )
    t.equal(replaced.status, 200, JSON.stringify(replaced.json))
    t.equal(slack.renewals, 2, 'the replacement refresh token is renewed and verified at once')
    const token = await first.token(rotating)
    t.equal(token.json.accessToken, slack.issued.at(-1)!.token)

    const wrongSecret = await first.call(
      'PUT',
      `${BASE}/${rotating}/credentials`,
      {
        refreshToken: slack.newRefreshToken(),
        slackClientSecret: testToken(''),
      },
      owner,
    )
    t.equal(wrongSecret.status, 422)
    t.match(wrongSecret.json.message, /bad_client_secret/)
    t.equal((await first.token(rotating)).json.accessToken, token.json.accessToken, 'nothing was stored: the token stands')
  })
})
