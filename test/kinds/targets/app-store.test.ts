import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto'
import t, { type Test } from 'tap'
import { verifyAppStore } from '../../../src/kinds/targets/app-store.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import { replyTo, startProviderDouble, verifyContext, type ReceivedRequest, type Reply, type Route } from '../../helpers/provider-double.js'
import { notChecked, verdictCases, verifierCases, type VerdictCase, type VerifierSpec } from '../../helpers/verifier-cases.js'

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

function assertNoSecret(t: Test, result: unknown, pem: string, sent: ReceivedRequest[] = []) {
  const text = JSON.stringify(result)
  const body = pem.split('\n').find((line) => line.length > 40) ?? pem
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
  assertNoSecret(t, result, key.pem, double.received)
})

const appStoreConnect: VerifierSpec = {
  name: 'App Store Connect',
  verify: verifyAppStore,
  path: LIST,
  async start(t, { timeoutMs, secret }) {
    const key = appleKey()
    const { double, context, answer } = await appStore(t, key, undefined, timeoutMs)
    const pem = secret ?? key.pem
    return {
      double,
      others: [],
      untouched: [],
      context,
      request: request(pem),
      answer,
      assertNoSecret: (t, value) => assertNoSecret(t, value, pem, double.received),
    }
  },
}

const listed = (...apps: unknown[]): Reply => ({ body: listing(...apps) })
const acme = app('1234567890', 'com.acme.app', 'Acme')
const widget = app('1470000001', 'com.acme.app.widget', 'Acme Widget')
const accepted = { name: 'authenticated', ok: true, detail: 'App Store Connect accepted the key' }
const noFacts = { appStoreAppId: null, appName: null, bundleId: null }

/** Apple refuses the signed token (401): the key, its key ID or the issuer ID is not the one it knows. */
const refused = (name: string, change: Pick<VerdictCase, 'secret' | 'values'>): VerdictCase => ({
  name,
  ...change,
  reply: listed(acme),
  verdict: 'INVALID',
  message: 'App Store Connect refused the key, key ID or issuer ID',
  checks: [
    { name: 'authenticated', ok: false, detail: 'App Store Connect refused the token signed with this key' },
    ...notChecked('the key was refused', 'app-listed'),
  ],
  facts: noFacts,
  calls: [`GET ${LIST}`],
  hidden: /NOT_AUTHORIZED|credentials are missing/,
})

/** A private key that cannot sign an ES256 token: INVALID before anything is sent. */
const unusable = (what: string, pem: () => string): VerdictCase => ({
  name: `a key that cannot sign ES256 tokens (${what}) is INVALID and nothing is sent`,
  secret: pem,
  verdict: 'INVALID',
  message: 'The private key cannot sign App Store Connect tokens: it must be the .p8 key App Store Connect issued',
  checks: [
    { name: 'authenticated', ok: false, detail: 'the private key is not a PKCS#8 P-256 key (.p8 file), so no token could be signed' },
    ...notChecked('no token could be signed', 'app-listed'),
  ],
  calls: [],
  hidden: 'PRIVATE KEY',
})

// The App Store Connect double lists apps only for a token signed with the key it knows, and refuses any other token
// as Apple does. Each row: what the key and the listing are, and the verdict, message and checks that come of it.
verdictCases(t, appStoreConnect, [
  {
    name: 'without an App Store app ID, the app with the exact bundle ID is taken',
    values: { appStoreAppId: undefined },
    reply: listed(acme),
    verdict: 'VALID',
    message: 'Verified: the key can read Acme in App Store Connect',
    checks: [accepted, { name: 'app-listed', ok: true, detail: 'Acme (com.acme.app) is listed with Apple ID 1234567890' }],
    facts: { appStoreAppId: '1234567890', appName: 'Acme', bundleId: 'com.acme.app' },
  },
  refused('a key from another key pair is INVALID: Apple refuses the signature', { secret: () => appleKey().pem }),
  refused('the right key with another key ID is INVALID too', { values: { keyId: 'ZZZZZZZZZZ' } }),
  refused('the right key with another issuer ID is INVALID too', { values: { issuerId: '00000000-0000-0000-0000-000000000000' } }),
  unusable('not a key', () => 'this is not a key'),
  unusable('a broken PEM', () => '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
  unusable('a P-384 key', () => appleKey('P-384').pem),
  unusable('an RSA key', () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  ),
  {
    name: 'an app the key does not list is INVALID',
    reply: listed(widget),
    verdict: 'INVALID',
    message: 'App Store Connect lists no app with bundle ID com.acme.app for this key',
    checks: [accepted, { name: 'app-listed', ok: false, detail: 'no app with bundle ID com.acme.app is listed for this key' }],
    facts: noFacts,
  },
  {
    name: 'a listed app whose Apple ID is not the configured one is INVALID',
    values: { appStoreAppId: '999' },
    reply: listed(acme),
    verdict: 'INVALID',
    message: 'The app with bundle ID com.acme.app has Apple ID 1234567890, not the configured 999',
    checks: [accepted, { name: 'app-listed', ok: false, detail: 'the app with bundle ID com.acme.app has Apple ID 1234567890, not 999' }],
  },
  {
    name: 'a key without access to apps (403) is INVALID with a safe message',
    reply: {
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
    },
    verdict: 'INVALID',
    message: 'App Store Connect does not let this key list apps; give the key a role with access to the app',
    checks: [accepted, { name: 'app-listed', ok: false, detail: 'the key is not allowed to list apps (403)' }],
    hidden: /FORBIDDEN_ERROR|security reasons|does not allow/,
  },
])

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
