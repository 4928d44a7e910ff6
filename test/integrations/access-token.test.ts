import { createPublicKey, randomBytes } from 'node:crypto'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import { startApp, type TestApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { ANDROID_PUBLISHER, grantRefusal, startGoogleToken, type GoogleTokenEndpoint } from '../helpers/google-token.js'
import { hold } from '../helpers/provider-double.js'
import { leaks, SAMPLES } from '../helpers/samples.js'

const TARGETS = '/api/v1/integrations/targets'
const CREDENTIALS_READ = 'integrations:credentials:read'
const APP_STORE = SAMPLES.find((s) => s.provider === 'APP_STORE')!
const PLAY = SAMPLES.find((s) => s.provider === 'PLAY_STORE')!

type Json = Record<string, any>

interface Harness extends TestApp {
  owner: Record<string, string>
  service: Record<string, string>
  tenantId: string
  /** Every secret and token this app has seen, to look for in its logs. */
  seen: string[]
  create(body: Json): Promise<string>
  /** Creates a Google Play target whose service account the Google double knows. */
  createPlay(): Promise<string>
  token(id: string, body?: unknown): Promise<{ statusCode: number; headers: Record<string, unknown>; json: Json }>
}

async function harness(t: Test, db: TestDatabase, google: GoogleTokenEndpoint, env: Record<string, string> = {}): Promise<Harness> {
  const h = await startApp(t, db, { GOOGLE_TOKEN_URL: google.url, ...env })
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const service = { authorization: `Bearer ${await h.serviceToken('releases', CREDENTIALS_READ)}` }
  const seen: string[] = []
  async function create(body: Json) {
    const res = await h.app.inject({ method: 'POST', url: TARGETS, headers: owner, payload: body })
    if (res.statusCode !== 201) throw new Error(`create: ${res.statusCode} ${res.body}`)
    seen.push(String(body.privateKey ?? body.serviceAccountJson))
    return res.json<Json>().id as string
  }
  return {
    ...h,
    owner,
    service,
    tenantId,
    seen,
    create,
    async createPlay() {
      const body = PLAY.body(tenantId)
      google.register(String(body.serviceAccountJson))
      return create(body)
    },
    async token(id, body) {
      const res = await h.app.inject({
        method: 'POST',
        url: `${TARGETS}/${id}/access-token`,
        headers: service,
        ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { ...service, 'content-type': 'application/json' } }),
      })
      const json = res.json<Json>()
      if (typeof json.accessToken === 'string') seen.push(json.accessToken)
      return { statusCode: res.statusCode, headers: res.headers, json }
    },
  }
}

/** What App Store Connect checks of a token: ES256 with the key's public half, kid, iss, aud, and a lifetime Apple accepts. */
async function appleAccepts(t: Test, token: string, body: Json, lifetime: number): Promise<Json> {
  const publicKey = createPublicKey(String(body.privateKey))
  const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
    algorithms: ['ES256'],
    issuer: String(body.issuerId),
    audience: 'appstoreconnect-v1',
  })
  t.equal(protectedHeader.kid, body.keyId, 'kid is the key id')
  t.equal(Number(payload.exp) - Number(payload.iat), lifetime, `lives ${lifetime} s`)
  t.ok(lifetime <= 1200, 'at most 20 minutes')
  return payload
}

eachDatabase(t, async (t, db) => {
  t.test('App Store: a short-lived ES256 token App Store Connect accepts, minted here and cached', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google, { APPSTORE_TOKEN_LIFETIME_SECONDS: '900', TOKEN_REFRESH_MARGIN_SECONDS: '120' })
    const body = APP_STORE.body(h.tenantId)
    const id = await h.create(body)

    const first = await h.token(id)
    t.equal(first.statusCode, 200)
    t.match(first.headers['cache-control'], /no-store/)
    t.match(first.json, { tokenType: 'Bearer', shortLived: true, grants: null })
    const claims = await appleAccepts(t, first.json.accessToken, body, 900)
    t.equal(first.json.expiresAt, new Date(Number(claims.exp) * 1000).toISOString(), 'expiresAt is the exp claim')
    t.notOk('scope' in claims)
    t.notOk(leaks(JSON.stringify(first.json), String(body.privateKey)), 'the key is not in the answer')
    t.equal(google.double.received.length, 0)

    for (const again of [undefined, {}, null]) {
      t.equal((await h.token(id, again)).json.accessToken, first.json.accessToken, `cached: ${JSON.stringify(again)}`)
    }

    const scope = ['GET /v1/builds', 'GET /v1/apps?filter[bundleId]=com.acme.app0']
    const scoped = await h.token(id, { targetType: 'APP_STORE', scope })
    t.equal(scoped.statusCode, 200)
    t.not(scoped.json.accessToken, first.json.accessToken, 'other grants, another token')
    t.same(scoped.json.grants, [...scope].sort())
    t.same((await appleAccepts(t, scoped.json.accessToken, body, 900)).scope, [...scope].sort(), "Apple's scope claim")
    const reordered = await h.token(id, { targetType: 'APP_STORE', scope: [...scope].reverse() })
    t.equal(reordered.json.accessToken, scoped.json.accessToken, 'the same grants in another order share it')
  })

  t.test('Google Play: 100 concurrent requests make one call to Google, whose token is served until the margin', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google)
    const id = await h.createPlay()

    const asked = Date.now()
    const answers = await Promise.all(Array.from({ length: 100 }, () => h.token(id)))
    t.same(new Set(answers.map((a) => a.statusCode)), new Set([200]))
    t.equal(google.double.received.length, 1, 'one call to Google')
    t.same(new Set(answers.map((a) => a.json.accessToken)), new Set(google.issued), 'the token Google issued, to everyone')
    const [answer] = answers
    t.match(answer?.json, { tokenType: 'Bearer', shortLived: true, grants: [ANDROID_PUBLISHER] })
    const expiresAt = Date.parse(answer?.json.expiresAt)
    t.ok(expiresAt >= asked + 3598_000 && expiresAt <= Date.now() + 3599_000, 'expires_in from Google')
    t.equal((await h.token(id)).json.accessToken, google.issued[0])
    t.equal(google.double.received.length, 1, 'still one call')
  })

  t.test('a token that would expire within the margin is not served again: Google is asked anew', async (t) => {
    const google = await startGoogleToken(t)
    google.expiresIn = 301
    const h = await harness(t, db, google, { TOKEN_REFRESH_MARGIN_SECONDS: '300' })
    const id = await h.createPlay()
    const first = await h.token(id)
    t.equal((await h.token(id)).json.accessToken, first.json.accessToken, 'cached for about a second')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const renewed = await h.token(id)
    t.not(renewed.json.accessToken, first.json.accessToken)
    t.equal(google.issued.length, 2)
  })

  t.test('new credentials, a PATCH and a delete drop the cached token at once, on every replica', async (t) => {
    const google = await startGoogleToken(t)
    // Two replicas on one database: the same credential keys.
    const keys = { CREDENTIAL_KEYS: `k1:${randomBytes(32).toString('base64')}` }
    const h = await harness(t, db, google, keys)
    const other = await startApp(t, db, { GOOGLE_TOKEN_URL: google.url, ...keys })
    const id = await h.createPlay()
    const before = await h.token(id)
    const keyIdOfLastAsk = () => {
      const assertion = new URLSearchParams(google.double.received.at(-1)?.body).get('assertion') ?? ''
      return decodeProtectedHeader(assertion).kid
    }

    const replacement = PLAY.newSecret()
    google.register(replacement)
    h.seen.push(replacement)
    const put = await h.app.inject({
      method: 'PUT',
      url: `${TARGETS}/${id}/credentials`,
      headers: h.owner,
      payload: { serviceAccountJson: replacement },
    })
    t.equal(put.statusCode, 200)
    const afterPut = await h.token(id)
    t.not(afterPut.json.accessToken, before.json.accessToken, 'new credentials: a new token')
    t.equal(keyIdOfLastAsk(), JSON.parse(replacement).private_key_id, 'minted with the new key')

    const patch = await h.app.inject({
      method: 'PATCH',
      url: `${TARGETS}/${id}`,
      headers: h.owner,
      payload: { displayName: 'Play (renamed)' },
    })
    t.equal(patch.statusCode, 200)
    const afterPatch = await h.token(id)
    t.not(afterPatch.json.accessToken, afterPut.json.accessToken, 'a PATCH: a new token')
    t.equal(google.issued.length, 3)

    // Another replica cached a token, then this one changes the integration: the other's next answer is a new token.
    const otherService = { authorization: `Bearer ${await other.serviceToken('releases', CREDENTIALS_READ)}` }
    const onOther = () => other.app.inject({ method: 'POST', url: `${TARGETS}/${id}/access-token`, headers: otherService })
    const cachedThere = (await onOther()).json<Json>().accessToken as string
    t.equal(google.issued.at(-1), cachedThere, 'the other replica minted its own')
    t.equal((await onOther()).json<Json>().accessToken, cachedThere, 'cached on the other replica')
    const deactivated = await h.app.inject({ method: 'PATCH', url: `${TARGETS}/${id}`, headers: h.owner, payload: { isActive: false } })
    t.equal(deactivated.statusCode, 200, deactivated.body)
    const fresh = (await onOther()).json<Json>().accessToken as string
    t.not(fresh, cachedThere, 'the other replica mints again once the integration changed')
    h.seen.push(cachedThere, fresh)

    const deleted = await h.app.inject({ method: 'DELETE', url: `${TARGETS}/${id}`, headers: h.owner })
    t.equal(deleted.statusCode, 204)
    t.match(await h.token(id), { statusCode: 404, json: { code: 'NOT_FOUND' } })
    t.match((await onOther()).json(), { statusCode: 404 }, 'and on the other replica')
  })

  t.test('a key Google refuses answers 422 and makes the integration INVALID', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google)
    const id = await h.create(PLAY.body(h.tenantId))

    const refused = await h.token(id)
    t.equal(refused.statusCode, 422)
    t.match(refused.json, {
      code: 'CREDENTIAL_REFUSED',
      message:
        'Google refused the service account key of delivr@acme-play.iam.gserviceaccount.com: the service account or its key was deleted. The integration is now INVALID: replace its credentials',
    })
    t.notOk('accessToken' in refused.json)
    const integration = (await h.app.inject({ url: `${TARGETS}/${id}`, headers: h.owner })).json<Json>()
    t.match(integration, {
      verificationStatus: 'INVALID',
      verificationError:
        'Google refused the service account key of delivr@acme-play.iam.gserviceaccount.com: the service account or its key was deleted',
    })
    t.ok(integration.lastVerifiedAt, 'the refusal is recorded as a verdict')
    const changes = await h.app.db.events.Audit.findAll({ where: { integrationId: id, action: 'verification_changed' } })
    t.same(
      changes.map((c) => [c.actor, c.requestId !== null]),
      [['service:releases', true]],
      'the trail names the service whose ask found the refusal, and its request',
    )
    t.equal((await h.token(id)).statusCode, 422, 'a refusal is not cached: Google is asked again')
    t.equal(google.double.received.length, 2)
  })

  t.test('a refusal lands only on the version it was minted from', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google)
    const id = await h.create(PLAY.body(h.tenantId))
    const gate = hold(1)
    google.answer(gate.route(grantRefusal('account not found')))
    const asking = h.token(id)
    await gate.arrived()
    const patch = await h.app.inject({ method: 'PATCH', url: `${TARGETS}/${id}`, headers: h.owner, payload: { displayName: 'Renamed' } })
    t.equal(patch.statusCode, 200)
    gate.release()
    const stale = await asking
    t.match(stale, { statusCode: 409, json: { code: 'VERIFICATION_STALE' } })
    const integration = (await h.app.inject({ url: `${TARGETS}/${id}`, headers: h.owner })).json<Json>()
    t.match(integration, { displayName: 'Renamed', verificationStatus: 'PENDING', verificationError: null })
  })

  t.test('Google unavailable or unreachable: 503 with Retry-After, and nothing changed', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google)
    const id = await h.createPlay()
    const read = async () => (await h.app.inject({ url: `${TARGETS}/${id}`, headers: h.owner })).json<Json>()
    const before = await read()

    google.answer({ status: 503, body: 'Service Unavailable' })
    t.match(await h.token(id), {
      statusCode: 503,
      headers: { 'retry-after': '30' },
      json: { code: 'PROVIDER_ERROR', message: 'Google answered 503; try again later' },
    })
    google.answer({ status: 429, headers: { 'retry-after': '7' }, body: { error: 'rate_limit_exceeded' } })
    t.match(await h.token(id), { statusCode: 503, headers: { 'retry-after': '7' }, json: { code: 'PROVIDER_RATE_LIMITED' } })
    t.same(await read(), before, 'the integration is as it was')

    const unreachable = await harness(t, db, { ...google, url: 'http://127.0.0.1:9/token' })
    const there = await unreachable.create(PLAY.body(unreachable.tenantId))
    t.match(await unreachable.token(there), { statusCode: 503, headers: { 'retry-after': '30' }, json: { code: 'PROVIDER_UNREACHABLE' } })

    google.answer(undefined)
    t.equal((await h.token(id)).statusCode, 200, 'once Google answers, a token')
  })

  t.test("only a token that has to be asked of Google counts against the caller's rate limit", async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google, { RATE_LIMIT_VERIFY_MAX: '1' })
    const id = await h.createPlay()
    const appStore = await h.create(APP_STORE.body(h.tenantId))

    const minted = await h.token(id)
    t.equal(minted.statusCode, 200)
    t.match(minted.headers, { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0' })
    const cached = await h.token(id)
    t.equal(cached.statusCode, 200)
    t.equal(cached.headers['x-ratelimit-remaining'], undefined, 'a cached token is not counted')
    for (let i = 0; i < 3; i++) t.equal((await h.token(appStore)).statusCode, 200, 'an App Store token is signed here: never counted')

    await h.app.inject({ method: 'PATCH', url: `${TARGETS}/${id}`, headers: h.owner, payload: { displayName: 'Renamed' } })
    const limited = await h.token(id)
    t.match(limited, { statusCode: 429, json: { code: 'RATE_LIMITED' } })
    t.ok(limited.headers['retry-after'])
    t.equal(google.double.received.length, 1, 'Google was not asked')
  })

  t.test('no token, key or assertion in any log line or metric', async (t) => {
    const google = await startGoogleToken(t)
    const h = await harness(t, db, google, { LOG_LEVEL: 'trace' })
    const play = PLAY.body(h.tenantId)
    google.register(String(play.serviceAccountJson))
    const ids = [await h.create(play), await h.create(APP_STORE.body(h.tenantId))]
    for (const id of ids) {
      t.equal((await h.token(id)).statusCode, 200)
      t.equal((await h.token(id, {})).statusCode, 200)
    }
    google.answer({ status: 503, body: 'down' })
    await h.app.inject({ method: 'PATCH', url: `${TARGETS}/${ids[0]}`, headers: h.owner, payload: { displayName: 'Renamed' } })
    t.equal((await h.token(ids[0]!)).statusCode, 503)

    const metrics = (await h.app.inject({ url: '/metrics' })).body
    t.match(metrics, /integration_access_tokens_total\{kind="targets",provider="PLAY_STORE",outcome="minted"\} 1/)
    t.match(metrics, /integration_access_tokens_total\{kind="targets",provider="PLAY_STORE",outcome="cached"\} 1/)
    t.match(metrics, /integration_access_tokens_total\{kind="targets",provider="PLAY_STORE",outcome="unavailable"\} 1/)
    t.match(metrics, /integration_access_tokens_total\{kind="targets",provider="APP_STORE",outcome="minted"\} 1/)
    const assertions = google.double.received.map((r) => new URLSearchParams(r.body).get('assertion') ?? '')
    const everything = [...h.seen, ...google.issued, ...assertions].filter(Boolean)
    t.ok(everything.length >= 6)
    t.ok(h.logs.length > 10, 'the app logged')
    const logText = h.logs.join('\n')
    for (const secret of everything) {
      t.notOk(leaks(logText, secret), 'not in the logs')
      t.notOk(leaks(metrics, secret), 'not in the metrics')
    }
  })
})
