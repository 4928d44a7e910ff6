import t, { type Test } from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { tokenExpired } from '../helpers/github-api.js'
import { startProviderDouble, type ProviderDouble, type ReceivedRequest, type Reply } from '../helpers/provider-double.js'
import { bodyAt, SAMPLES, slackTeamFor } from '../helpers/samples.js'
import { localhostCaFile, localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'

type DoubleName = 'github' | 'gitlab' | 'bitbucket' | 'slack'

interface Expiring {
  kind: string
  provider: string
  double: DoubleName
  /** The verifier's first call for connection 0, which is answered "expired". */
  method: string
  path: string
  /** How the provider says the credential expired. */
  expired: Reply
}

// The providers that tell an expired credential apart from a refused one, each saying so the way its API does.
const EXPIRING: Expiring[] = [
  { kind: 'scm', provider: 'GITHUB', double: 'github', method: 'GET', path: '/repos/acme/app-0', expired: tokenExpired },
  {
    kind: 'scm',
    provider: 'GITLAB',
    double: 'gitlab',
    method: 'GET',
    path: '/api/v4/projects/acme%2Fmobile%2Fapp-0',
    expired: {
      status: 401,
      headers: {
        'www-authenticate': 'Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired."',
      },
      body: { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' },
    },
  },
  {
    kind: 'scm',
    provider: 'BITBUCKET',
    double: 'bitbucket',
    method: 'GET',
    path: '/repositories/acme/app-0',
    expired: { status: 401, body: { type: 'error', error: { message: 'Access token expired.' } } },
  },
  { kind: 'ci-cd', provider: 'GITHUB_ACTIONS', double: 'github', method: 'GET', path: '/repos/acme/app-0', expired: tokenExpired },
  {
    kind: 'communication',
    provider: 'SLACK',
    double: 'slack',
    method: 'POST',
    path: '/auth.test',
    expired: { body: { ok: false, error: 'token_expired' } },
  },
]

/** The secret a request carries, however the provider takes it. */
function tokenOf(request: ReceivedRequest): string {
  return String(request.headers['private-token'] ?? request.headers.authorization ?? '').replace(/^Bearer /, '')
}

eachDatabase(t, async (t, db) => {
  const tls = await localhostCertificate()
  const doubles: Record<DoubleName, ProviderDouble> = {
    github: await startProviderDouble(t),
    gitlab: await startProviderDouble(t, { tls, hostname: 'localhost' }),
    bitbucket: await startProviderDouble(t),
    slack: await startProviderDouble(t),
  }
  const h = await startApp(t, db, {
    GITHUB_API_URL: doubles.github.origin,
    BITBUCKET_API_URL: doubles.bitbucket.origin,
    SLACK_API_URL: doubles.slack.origin,
    OUTBOUND_ALLOWED_HOSTS: `localhost:${doubles.gitlab.port}`,
    OUTBOUND_CA_FILE: await localhostCaFile(t),
  })
  const { app } = h
  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read integrations:credentials:read')}` }

  /** Tokens the doubles answer "expired" for; any other Slack token is a valid bot token (a Slack row needs one to exist). */
  const expiredTokens = new Set<string>()
  for (const row of EXPIRING) {
    doubles[row.double].on(row.method, row.path, (request) => {
      const token = tokenOf(request)
      if (expiredTokens.has(token)) return row.expired
      if (row.double === 'slack') return { body: { ok: true, team: 'Acme', team_id: slackTeamFor(token), user_id: 'U1', bot_id: 'B1' } }
      return { status: 404, body: { message: 'Not Found' } }
    })
  }

  for (const row of EXPIRING) {
    const sample = SAMPLES.find((s) => s.kind === row.kind && s.provider === row.provider)!
    const url = `${BASE}/${row.kind}`
    const table = KINDS.find((k) => k.segment === row.kind)!.tableName
    const double = doubles[row.double]
    const body = (tenantId: string) => (row.double === 'gitlab' ? bodyAt(sample, tenantId, double.origin) : sample.body(tenantId))
    const expiredSecret = () => {
      const secret = sample.newSecret()
      expiredTokens.add(secret)
      return secret
    }
    /** Asserts the double was asked, with `secret`: the provider's answer, not something before it, refused the write. */
    const askedWith = (t: Test, secret: string, since: number) => {
      const asked = double.received.slice(since).filter((r) => r.path === row.path)
      t.ok(asked.length > 0, `${row.provider} was asked`)
      t.ok(
        asked.every((r) => tokenOf(r) === secret),
        'with the new secret',
      )
    }

    t.test(`${row.kind} ${row.provider}: create with verify=true refuses an expired credential with 422 and stores nothing`, async (t) => {
      const { tenantId, ownerId } = await h.tenant()
      const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
      const secret = expiredSecret()
      const since = double.received.length
      const res = await app.inject({
        method: 'POST',
        url: `${url}?verify=true`,
        headers: owner,
        payload: { ...body(tenantId), [sample.secret]: secret },
      })
      t.equal(res.statusCode, 422, res.body)
      t.match(res.json(), { code: 'VERIFICATION_FAILED', message: /^Verification answered EXPIRED: .*Nothing was stored$/ })
      askedWith(t, secret, since)
      t.same(await db.query(`SELECT id FROM ${table} WHERE tenantId = '${tenantId}'`), [], 'no row was stored')
      const listed = await app.inject({ url: `${url}?tenantId=${tenantId}`, headers: owner })
      t.same(listed.json().items, [])
    })

    t.test(
      `${row.kind} ${row.provider}: replacing credentials with verify=true refuses an expired one with 422 and changes nothing`,
      async (t) => {
        const { tenantId, ownerId } = await h.tenant()
        const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
        const created = await app.inject({ method: 'POST', url, headers: owner, payload: body(tenantId) })
        t.equal(created.statusCode, 201, created.body)
        const { id } = created.json()
        const before = await db.query(`SELECT * FROM ${table} WHERE id = '${id}'`)
        const oldCredentials = (await app.inject({ url: `${url}/${id}/credentials`, headers: service })).json().credentials

        const secret = expiredSecret()
        const since = double.received.length
        const res = await app.inject({
          method: 'PUT',
          url: `${url}/${id}/credentials?verify=true`,
          headers: owner,
          payload: { [sample.secret]: secret },
        })
        t.equal(res.statusCode, 422, res.body)
        t.match(res.json(), { code: 'VERIFICATION_FAILED', message: /^Verification answered EXPIRED: / })
        askedWith(t, secret, since)
        t.same(await db.query(`SELECT * FROM ${table} WHERE id = '${id}'`), before, 'the row is unchanged')
        const credentials = (await app.inject({ url: `${url}/${id}/credentials`, headers: service })).json().credentials
        t.same(credentials, oldCredentials, 'the stored secret is still the old one')
      },
    )
  }
})
