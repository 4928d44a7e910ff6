import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto'
import t, { type Test } from 'tap'
import { verifyAppStore } from '../../../src/kinds/targets/app-store.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { replyTo, startProviderDouble, verifyContext, type ReceivedRequest, type Reply, type Route } from '../../helpers/provider-double.js'
import { checksOf, verifierCases, type VerifierSpec } from '../../helpers/verifier-cases.js'

const KEY_ID = '2X9R4HXF34'
const ISSUER_ID = '57246542-96fe-1a63-e053-0824d011072a'
const LIST = '/v1/apps?filter[bundleId]=com.acme.app'

interface AppleKey {
  pem: string
  publicKey: KeyObject
}

function appleKey(namedCurve = 'P-256'): AppleKey {
  const pair = generateKeyPairSync('ec', { namedCurve })
  return { pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: pair.publicKey }
}

function request(privateKey: string, values: Record<string, unknown> = {}): VerifyRequest {
  return {
    provider: 'APP_STORE',
    values: { bundleId: 'com.acme.app', appStoreAppId: '1234567890', issuerId: ISSUER_ID, keyId: KEY_ID, ...values },
    secrets: { privateKey },
  }
}

function app(id: string, bundleId: string, name: string) {
  return {
    type: 'apps',
    id,
    attributes: { name, bundleId, sku: `SKU-${id}`, primaryLocale: 'en-US', isOrEverWasMadeForKids: false },
    links: { self: `https://api.appstoreconnect.apple.com/v1/apps/${id}` },
  }
}

function listing(...apps: unknown[]) {
  return {
    data: apps,
    links: { self: 'https://api.appstoreconnect.apple.com/v1/apps?filter%5BbundleId%5D=com.acme.app' },
    meta: { paging: { total: apps.length, limit: 50 } },
  }
}

const notAuthorized: Reply = {
  status: 401,
  body: {
    errors: [
      {
        status: '401',
        code: 'NOT_AUTHORIZED',
        title: 'Authentication credentials are missing or invalid.',
        detail: 'Provide a properly configured and signed bearer token, and make sure that it has not expired.',
      },
    ],
  },
}

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))

/** Why Apple would refuse the request's token, checked the way Apple does: ES256 signature, then claims. */
function tokenProblem(req: ReceivedRequest, publicKey: KeyObject): string | undefined {
  const jwt = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
  const [header, payload, signature] = jwt?.split('.') ?? []
  if (!header || !payload || !signature) return 'no bearer JWT'
  const signed = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  )
  if (!signed) return 'bad signature'
  const h = decode(header)
  const c = decode(payload)
  if (h.alg !== 'ES256' || h.kid !== KEY_ID || h.typ !== 'JWT') return 'bad header'
  if (c.iss !== ISSUER_ID || c.aud !== 'appstoreconnect-v1') return 'bad issuer or audience'
  const now = Date.now() / 1000
  if (typeof c.iat !== 'number' || typeof c.exp !== 'number' || c.exp - c.iat > 1200 || c.exp < now || c.iat > now + 60) return 'bad times'
  return undefined
}

/** App Store Connect that knows one API key: the public half of `key`. `answer` scripts its reply to a request signed with it. */
async function appStore(t: Test, key: AppleKey, reply?: Route, timeoutMs?: number) {
  const double = await startProviderDouble(t)
  const answer = (route: Route) =>
    double.on('GET', LIST, (req) => (tokenProblem(req, key.publicKey) === undefined ? replyTo(route, req) : notAuthorized))
  if (reply) answer(reply)
  const context = verifyContext(t, { apis: { appStore: double.origin }, timeoutMs })
  return { double, context, answer }
}

function assertNoSecret(t: Test, result: unknown, key: AppleKey, sent: ReceivedRequest[] = []) {
  const text = JSON.stringify(result)
  const body = key.pem.split('\n').find((line) => line.length > 40) ?? key.pem
  t.notMatch(text, body, 'the private key appears nowhere in the output')
  for (const r of sent) {
    const jwt = r.headers.authorization?.replace('Bearer ', '') ?? ''
    t.notOk(jwt !== '' && text.includes(jwt), 'the signed token appears nowhere in the output')
  }
}

t.test('a key that lists the app is VALID, with what App Store Connect told', async (t) => {
  const key = appleKey()
  const { double, context } = await appStore(t, key, {
    body: listing(app('1470000001', 'com.acme.app.widget', 'Acme Widget'), app('1234567890', 'com.acme.app', 'Acme')),
  })

  const result = await verifyAppStore(request(key.pem), context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, 'Verified: the key can read Acme in App Store Connect')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'App Store Connect accepted the key' },
    { name: 'app-listed', ok: true, detail: 'Acme (com.acme.app) is listed with Apple ID 1234567890' },
  ])
  t.same(result.facts, { appStoreAppId: '1234567890', appName: 'Acme', bundleId: 'com.acme.app' })
  t.same(result.credential, { expiresAt: null, scopes: null })
  t.same(
    double.received.map((r) => `${r.method} ${r.path}`),
    [`GET ${LIST}`],
  )
  t.match(double.received[0]?.headers, { accept: 'application/json', 'user-agent': 'delivr-integrations' })
  const [header, payload] = (double.received[0]?.headers.authorization ?? '').replace('Bearer ', '').split('.')
  t.same(decode(header), { alg: 'ES256', kid: KEY_ID, typ: 'JWT' })
  const claims = decode(payload)
  t.match(claims, { iss: ISSUER_ID, aud: 'appstoreconnect-v1' })
  t.equal(Number(claims.exp) - Number(claims.iat), 600, 'the token lives ten minutes')
  assertNoSecret(t, result, key, double.received)
})

t.test('without an App Store app ID, the app with the exact bundle ID is taken', async (t) => {
  const key = appleKey()
  const { context } = await appStore(t, key, { body: listing(app('1234567890', 'com.acme.app', 'Acme')) })
  const result = await verifyAppStore(request(key.pem, { appStoreAppId: undefined }), context)
  t.equal(result.verdict, 'VALID')
  t.equal(result.facts.appStoreAppId, '1234567890')
})

t.test('a key from another key pair is INVALID: Apple refuses the signature', async (t) => {
  const registered = appleKey()
  const other = appleKey()
  const { double, context } = await appStore(t, registered, { body: listing(app('1234567890', 'com.acme.app', 'Acme')) })

  const result = await verifyAppStore(request(other.pem), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'App Store Connect refused the key, key ID or issuer ID')
  t.same(result.checks, [
    { name: 'authenticated', ok: false, detail: 'App Store Connect refused the token signed with this key' },
    { name: 'app-listed', ok: false, detail: 'not checked: the key was refused' },
  ])
  t.same(result.facts, { appStoreAppId: null, appName: null, bundleId: null })
  t.equal(double.received.length, 1)
  t.notMatch(JSON.stringify(result), /NOT_AUTHORIZED|credentials are missing/, 'the provider body is not passed on')
  assertNoSecret(t, result, other, double.received)
})

t.test('the right key with another key ID or issuer ID is INVALID too', async (t) => {
  const key = appleKey()
  const { double, context } = await appStore(t, key, { body: listing(app('1234567890', 'com.acme.app', 'Acme')) })
  const wrongKid = await verifyAppStore(request(key.pem, { keyId: 'ZZZZZZZZZZ' }), context)
  const wrongIssuer = await verifyAppStore(request(key.pem, { issuerId: '00000000-0000-0000-0000-000000000000' }), context)
  t.equal(wrongKid.verdict, 'INVALID')
  t.equal(wrongIssuer.verdict, 'INVALID')
  t.equal(double.received.length, 2)
})

t.test('a key that cannot sign ES256 tokens is INVALID and nothing is sent', async (t) => {
  const double = await startProviderDouble(t)
  const context = verifyContext(t, { apis: { appStore: double.origin } })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const unusable = {
    'not a key': 'this is not a key',
    'a broken PEM': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
    'a P-384 key': appleKey('P-384').pem,
    'an RSA key': rsa,
  }
  for (const [what, pem] of Object.entries(unusable)) {
    const result = await verifyAppStore(request(pem), context)
    t.equal(result.verdict, 'INVALID', what)
    t.equal(result.message, 'The private key cannot sign App Store Connect tokens: it must be the .p8 key App Store Connect issued', what)
    t.same(checksOf(result), [
      ['authenticated', false],
      ['app-listed', false],
    ])
    t.equal(result.checks[1]?.detail, 'not checked: no token could be signed')
    t.notMatch(JSON.stringify(result), 'PRIVATE KEY', what)
  }
  t.equal(double.received.length, 0, 'App Store Connect was not called')
})

t.test('an app the key does not list is INVALID', async (t) => {
  const key = appleKey()
  const { double, context } = await appStore(t, key, { body: listing(app('1470000001', 'com.acme.app.widget', 'Acme Widget')) })

  const result = await verifyAppStore(request(key.pem), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'App Store Connect lists no app with bundle ID com.acme.app for this key')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'App Store Connect accepted the key' },
    { name: 'app-listed', ok: false, detail: 'no app with bundle ID com.acme.app is listed for this key' },
  ])
  t.same(result.facts, { appStoreAppId: null, appName: null, bundleId: null })
  assertNoSecret(t, result, key, double.received)
})

t.test('a listed app whose Apple ID is not the configured one is INVALID', async (t) => {
  const key = appleKey()
  const { context } = await appStore(t, key, { body: listing(app('1234567890', 'com.acme.app', 'Acme')) })
  const result = await verifyAppStore(request(key.pem, { appStoreAppId: '999' }), context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'The app with bundle ID com.acme.app has Apple ID 1234567890, not the configured 999')
  t.same(checksOf(result), [
    ['authenticated', true],
    ['app-listed', false],
  ])
})

t.test('a key without access to apps (403) is INVALID with a safe message', async (t) => {
  const key = appleKey()
  const { double, context } = await appStore(t, key, {
    status: 403,
    body: {
      errors: [
        {
          status: '403',
          code: 'FORBIDDEN_ERROR',
          title: 'This request is forbidden for security reasons',
          detail: 'The API key in use does not allow this request',
        },
      ],
    },
  })

  const result = await verifyAppStore(request(key.pem), context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, 'App Store Connect does not let this key list apps; give the key a role with access to the app')
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: 'App Store Connect accepted the key' },
    { name: 'app-listed', ok: false, detail: 'the key is not allowed to list apps (403)' },
  ])
  t.notMatch(JSON.stringify(result), /FORBIDDEN_ERROR|security reasons|does not allow/)
  assertNoSecret(t, result, key, double.received)
})

const appStoreConnect: VerifierSpec = {
  name: 'App Store Connect',
  verify: verifyAppStore,
  path: LIST,
  async start(t, { timeoutMs }) {
    const key = appleKey()
    const { double, context, answer } = await appStore(t, key, undefined, timeoutMs)
    return {
      double,
      others: [],
      untouched: [],
      context,
      request: request(key.pem),
      answer,
      assertNoSecret: (t, value) => assertNoSecret(t, value, key, double.received),
    }
  },
}

verifierCases(t, appStoreConnect, {
  timeout: true,
  rateLimited: [
    {
      title: 'a rate-limited key (429 with Retry-After)',
      reply: {
        status: 429,
        headers: { 'retry-after': '30', 'x-rate-limit': 'user-hour-lim:3600;user-hour-rem:0;' },
        body: {
          errors: [
            {
              status: '429',
              code: 'RATE_LIMIT_EXCEEDED',
              title: 'The request rate limit has been reached.',
              detail: "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
            },
          ],
        },
      },
      retryAfter: 30,
    },
  ],
  noVerdict: [
    {
      title: 'a server error',
      reply: { status: 503, body: '<html>Service Unavailable</html>' },
      message: 'App Store Connect answered 503; try again later',
    },
    {
      title: 'a 200 that is not an app listing',
      reply: { body: '<html>maintenance</html>' },
      message: 'App Store Connect answered 200; no verdict could be given',
    },
  ],
  missingSecret: { message: 'No App Store Connect private key was given' },
})
