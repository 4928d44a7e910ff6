import t, { type Test } from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp, type TestApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { githubRepository } from '../helpers/github-api.js'
import { startGoogleToken } from '../helpers/google-token.js'
import { startProviderDouble } from '../helpers/provider-double.js'
import { leaks, SAMPLES, slackWorkspaceDouble, type ProviderSample } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'
const CREDENTIALS_READ = 'integrations:credentials:read'

type Json = Record<string, any>

const provider = (sample: ProviderSample) => KINDS.find((k) => k.segment === sample.kind)!.providers.find((p) => p.id === sample.provider)!
/** The providers that mint short-lived tokens; every other hands out its stored secret. */
const MINTING = SAMPLES.filter((s) => provider(s).mint)
const STORED = SAMPLES.filter((s) => !provider(s).mint)
/** How a consumer sends each handed-out secret: HTTP Basic with the integration's user where the provider takes that. */
const BASIC = new Set(['JENKINS', 'JIRA'])

interface Answer {
  statusCode: number
  headers: Record<string, unknown>
  body: string
  json(): Json
}

interface Harness extends TestApp {
  owner: Record<string, string>
  service: Record<string, string>
  tenantId: string
  create(sample: ProviderSample, extra?: Json): Promise<{ id: string; body: Json }>
  token(sample: ProviderSample, id: string, headers?: Record<string, string>, body?: unknown): Promise<Answer>
}

async function harness(t: Test, db: TestDatabase, env: Record<string, string> = {}): Promise<Harness> {
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin, ...env })
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const service = { authorization: `Bearer ${await h.serviceToken('releases', CREDENTIALS_READ)}` }
  let n = 0
  return {
    ...h,
    owner,
    service,
    tenantId,
    async create(sample, extra = {}) {
      const body = { ...sample.body(tenantId, n++), ...extra }
      const res = await h.app.inject({ method: 'POST', url: `${BASE}/${sample.kind}`, headers: owner, payload: body })
      if (res.statusCode !== 201) throw new Error(`create ${sample.provider}: ${res.statusCode} ${res.body}`)
      return { id: res.json<Json>().id as string, body }
    },
    token(sample, id, headers = service, body) {
      return h.app.inject({
        method: 'POST',
        url: `${BASE}/${sample.kind}/${id}/access-token`,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      })
    },
  }
}

eachDatabase(t, async (t, db) => {
  t.test('every provider without a minter hands out its stored secret, long-lived, in the same shape', async (t) => {
    const h = await harness(t, db)
    t.ok(STORED.length >= 8 && MINTING.length >= 2, 'both ways are walked')
    t.same(
      KINDS.flatMap((k) => k.providers.filter((p) => !p.mint).map((p) => `${k.segment} ${p.id}`)).sort(),
      STORED.map((s) => `${s.kind} ${s.provider}`).sort(),
      'every provider that does not mint has a sample here',
    )
    for (const sample of STORED) {
      const { id, body } = await h.create(sample)
      for (const given of [undefined, {}, null]) {
        const res = await h.token(sample, id, h.service, given)
        t.equal(res.statusCode, 200, `${sample.provider} ${JSON.stringify(given)}`)
        t.match(res.headers['cache-control'], /no-store/)
        t.same(res.json(), {
          accessToken: body[sample.secret],
          tokenType: BASIC.has(sample.provider) ? 'Basic' : 'Bearer',
          expiresAt: null,
          shortLived: false,
          grants: null,
        })
      }
      // What many clients send on every POST: the JSON content type and no body at all.
      const empty = await h.app.inject({
        method: 'POST',
        url: `${BASE}/${sample.kind}/${id}/access-token`,
        headers: { ...h.service, 'content-type': 'application/json' },
        payload: '',
      })
      t.equal(empty.json<Json>().accessToken, body[sample.secret], `${sample.provider}: an empty JSON body`)
    }
  })

  t.test('Jira Server and Data Center take their personal access token as a bearer token', async (t) => {
    const h = await harness(t, db)
    const jira = SAMPLES.find((s) => s.provider === 'JIRA')!
    for (const jiraType of ['SERVER', 'DATA_CENTER']) {
      const { id } = await h.create(jira, { jiraType, email: undefined })
      t.match((await h.token(jira, id)).json(), { tokenType: 'Bearer', shortLived: false }, jiraType)
    }
  })

  t.test("a stored secret's expiry is what verification learned of it", async (t) => {
    const github = await startProviderDouble(t)
    github
      .on('GET', '/repos/acme/app-0', {
        headers: { 'github-authentication-token-expiration': '2031-01-31 12:00:00 UTC' },
        body: githubRepository('app-0'),
      })
      .on('GET', '/repos/acme/app-0/branches/main', { body: { name: 'main' } })
    const h = await harness(t, db, { GITHUB_API_URL: github.origin })
    const sample = SAMPLES.find((s) => s.provider === 'GITHUB')!
    const { id } = await h.create(sample)
    const verified = await h.app.inject({ method: 'POST', url: `${BASE}/scm/${id}/verify`, headers: h.owner })
    t.equal(verified.json<Json>().result.verdict, 'VALID', 'GitHub told the expiry')
    t.match((await h.token(sample, id)).json(), { shortLived: false, expiresAt: '2031-01-31T12:00:00.000Z' })
  })

  t.test('only service tokens with integrations:credentials:read get a token, for integrations that exist', async (t) => {
    const h = await harness(t, db)
    const [appStore, github] = [SAMPLES.find((s) => s.provider === 'APP_STORE')!, SAMPLES.find((s) => s.provider === 'GITHUB')!]
    const created = [await h.create(appStore), await h.create(github)]
    const reader = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read')}` }
    for (const [i, sample] of [appStore, github].entries()) {
      const { id, body } = created[i]!
      const owner = await h.token(sample, id, h.owner)
      t.match(owner, { statusCode: 403 }, `${sample.provider}: a user token, even the Owner's`)
      t.match(owner.json(), { code: 'FORBIDDEN', message: /integrations:credentials:read/ })
      t.match((await h.token(sample, id, reader)).json(), {
        statusCode: 403,
        message: 'This service token lacks the integrations:credentials:read scope',
      })
      t.match((await h.token(sample, id, {})).json(), { statusCode: 401 })
      t.notOk(leaks(owner.body, String(body[sample.secret])))
    }
    t.match((await h.token(github, '01a2f2c4-0000-7000-8000-000000000000')).json(), { statusCode: 404, code: 'NOT_FOUND' })
    t.match((await h.token(github, created[0]!.id)).json(), { statusCode: 404 }, 'an id of another kind is unknown here')
    t.match((await h.token(github, 'not-an-id')).json(), { statusCode: 400 })
  })

  t.test('a body carries options for the integration’s own provider only', async (t) => {
    const h = await harness(t, db)
    const [appStore, play, github, gitlab] = ['APP_STORE', 'PLAY_STORE', 'GITHUB', 'GITLAB'].map((p) =>
      SAMPLES.find((s) => s.provider === p)!,
    ) as [ProviderSample, ProviderSample, ProviderSample, ProviderSample]
    const ids = {
      appStore: (await h.create(appStore)).id,
      play: (await h.create(play)).id,
      github: (await h.create(github)).id,
      gitlab: (await h.create(gitlab)).id,
    }
    const refused = async (sample: ProviderSample, id: string, body: unknown, message: RegExp | string) => {
      const res = await h.token(sample, id, h.service, body)
      t.match(res.json(), { statusCode: 400, code: 'INVALID_FIELD', message }, JSON.stringify(body))
    }
    await refused(
      appStore,
      ids.appStore,
      { targetType: 'APP_STORE', scope: ['POST /v1/apps'] },
      /^body\/scope\/0 must be an App Store Connect read operation/,
    )
    await refused(appStore, ids.appStore, { targetType: 'APP_STORE', scope: [] }, /body\/scope/)
    await refused(appStore, ids.appStore, { targetType: 'APP_STORE', lifetime: 60 }, 'body/lifetime is not a known field')
    await refused(appStore, ids.appStore, { scope: ['GET /v1/apps'] }, /^body\/targetType/)
    await refused(
      play,
      ids.play,
      { targetType: 'APP_STORE', scope: ['GET /v1/apps'] },
      'body/targetType must be PLAY_STORE, the provider of this integration',
    )
    await refused(play, ids.play, { targetType: 'PLAY_STORE' }, 'body/targetType PLAY_STORE takes no options here: send no body')
    await refused(gitlab, ids.gitlab, { scmType: 'GITLAB' }, 'body/scmType GITLAB takes no options here: send no body')
    // GitHub takes options for its App connection; a personal access token takes none.
    await refused(
      github,
      ids.github,
      { scmType: 'GITHUB', permissions: { contents: 'read' } },
      'body/permissions does not apply to GitHub integrations connected with personal access token',
    )
    await refused(github, ids.github, 'token please', /^body/)
    t.equal((await h.token(appStore, ids.appStore, h.service, { targetType: 'APP_STORE', scope: ['GET /v1/apps'] })).statusCode, 200)
  })
})

eachDatabase(t, async (t, db) => {
  t.test('LONG_LIVED_CREDENTIALS=refuse: the long-lived key of a provider that can mint never leaves; the others still do', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, { LONG_LIVED_CREDENTIALS: 'refuse', GOOGLE_TOKEN_URL: google.url })
    for (const sample of SAMPLES) {
      const { id, body } = await h.create(sample)
      if (sample.secret === 'serviceAccountJson') google.register(String(body[sample.secret]))
      const res = await h.app.inject({ url: `${BASE}/${sample.kind}/${id}/credentials`, headers: h.service })
      if (provider(sample).mint) {
        t.equal(res.statusCode, 403, sample.provider)
        t.same(res.json(), {
          statusCode: 403,
          error: 'Forbidden',
          code: 'LONG_LIVED_CREDENTIALS_REFUSED',
          message: `This integration's long-lived credentials are not handed out here: ask POST /api/v1/integrations/${sample.kind}/{id}/access-token for a short-lived token`,
        })
        t.notOk(leaks(res.body, String(body[sample.secret])))
        t.match((await h.token(sample, id)).json(), { shortLived: true }, 'the token route answers instead')
      } else {
        t.equal(res.statusCode, 200, sample.provider)
        t.equal(res.json<Json>().credentials[sample.secret], body[sample.secret])
      }
      const user = await h.app.inject({ url: `${BASE}/${sample.kind}/${id}/credentials`, headers: h.owner })
      t.match(user.json(), { statusCode: 403, code: 'FORBIDDEN' }, 'a user token is refused as ever')
    }
  })

  t.test('by default (allow) the long-lived keys are still read as before', async (t) => {
    const h = await harness(t, db)
    for (const sample of MINTING) {
      const { id, body } = await h.create(sample)
      const res = await h.app.inject({ url: `${BASE}/${sample.kind}/${id}/credentials`, headers: h.service })
      t.equal(res.statusCode, 200)
      t.equal(res.json<Json>().credentials[sample.secret], body[sample.secret])
    }
  })
})
