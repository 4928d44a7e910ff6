import { generateKeyPairSync } from 'node:crypto'
import t, { type Test } from 'tap'
import { verifyPlayStore } from '../../../src/kinds/targets/play-store.js'
import type { VerifyRequest } from '../../../src/verification/types.js'
import {
  replyTo,
  startProviderDouble,
  testToken,
  verifyContext,
  type ProviderDouble,
  type Reply,
  type Route,
} from '../../helpers/provider-double.js'
import { assertionProblem, grantRefusal, invalidGrant, type KnownAccount } from '../../helpers/google-token.js'
import { checksOf, verifierCases, type VerifierSpec } from '../../helpers/verifier-cases.js'

const EMAIL = 'delivr-release@acme-mobile.iam.gserviceaccount.com'
const KEY_ID = 'a3f9c1d27e4b8f60b5d2c8e91f0a7b3c4d5e6f70'
const SCOPE = 'https://www.googleapis.com/auth/androidpublisher'
const EDITS = '/androidpublisher/v3/applications/com.acme.app/edits'
const EDIT_ID = '06430785398546130435'

function rsaPair() {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: pair.publicKey }
}

const registered = rsaPair()
const other = rsaPair()

function serviceAccountJson(privateKey: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'acme-mobile',
    private_key_id: KEY_ID,
    private_key: privateKey,
    client_email: EMAIL,
    client_id: '104583729163528273645',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    ...overrides,
  })
}

function request(json: string, packageName = 'com.acme.app'): VerifyRequest {
  return { provider: 'PLAY_STORE', values: { packageName }, secrets: { serviceAccountJson: json } }
}

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))

/** The one service account Google knows here: the public half of `registered`. */
const known: KnownAccount[] = [{ email: EMAIL, keys: new Map([[KEY_ID, registered.publicKey]]) }]

function googleError(code: number, status: string, message: string, extra: Record<string, unknown> = {}): Reply {
  return { status: code, body: { error: { code, message, status, ...extra } } }
}

interface Google {
  token: ProviderDouble
  play: ProviderDouble
  /** Where the key file's token_uri points; must never be called. */
  decoy: ProviderDouble
  tokenUrl: string
  accessToken: string
  context: ReturnType<typeof verifyContext>
  /** Scripts the token endpoint's answer instead of the grant check. */
  answerToken: (route: Route) => void
  /** Scripts Google Play's answer to the edit insert, for requests that carry the issued access token. */
  answerEdit: (route: Route) => void
}

/**
 * Google's token endpoint, which knows the public half of `registered`, and the Play API, which
 * only takes the access token the endpoint issued. `edit` answers the edit insert.
 */
async function google(t: Test, edit: Route, options: { token?: Route; timeoutMs?: number } = {}): Promise<Google> {
  const token = await startProviderDouble(t)
  const play = await startProviderDouble(t)
  const decoy = await startProviderDouble(t)
  const tokenUrl = `${token.origin}/token`
  const accessToken = testToken('ya29.')
  const answerToken = (route: Route) => token.on('POST', '/token', route)
  answerToken(
    options.token ??
      ((req) => {
        const problem = assertionProblem(req, known, tokenUrl)
        if (problem) return grantRefusal(problem)
        return { body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } }
      }),
  )
  const authorised =
    (route: Route): Route =>
    (req) => {
      if (req.headers.authorization !== `Bearer ${accessToken}`) {
        return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')
      }
      return replyTo(route, req)
    }
  const answerEdit = (route: Route) => play.on('POST', EDITS, authorised(route))
  answerEdit(edit)
  play.on('DELETE', `${EDITS}/${EDIT_ID}`, authorised({ status: 204 }))
  const context = verifyContext(t, { apis: { googleToken: tokenUrl, play: play.origin }, timeoutMs: options.timeoutMs })
  return { token, play, decoy, tokenUrl, accessToken, context, answerToken, answerEdit }
}

const openedEdit: Reply = { body: { id: EDIT_ID, expiryTimeSeconds: String(Math.floor(Date.now() / 1000) + 3600) } }

function assertNoSecret(t: Test, result: unknown, g: Google, privateKey = registered.pem) {
  const text = JSON.stringify(result)
  t.notOk(text.includes(g.accessToken), 'the access token appears nowhere in the output')
  for (const line of privateKey.split('\n').filter((l) => l.length > 40)) {
    if (text.includes(line)) t.fail('the private key appears in the output')
  }
  for (const r of g.token.received) {
    const assertion = new URLSearchParams(r.body).get('assertion') ?? ''
    t.notOk(assertion !== '' && text.includes(assertion), 'the assertion appears nowhere in the output')
  }
}

t.test('a service account that can open an edit is VALID, and the edit is deleted again', async (t) => {
  const g = await google(t, openedEdit)

  const result = await verifyPlayStore(request(serviceAccountJson(registered.pem)), g.context)

  t.equal(result.verdict, 'VALID')
  t.equal(result.message, `Verified: ${EMAIL} can edit com.acme.app in Google Play`)
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: `Google issued an access token to ${EMAIL}` },
    { name: 'app-accessible', ok: true, detail: 'the service account can open edits of com.acme.app' },
  ])
  t.same(result.facts, { packageName: 'com.acme.app', serviceAccountEmail: EMAIL })
  t.same(result.credential, { expiresAt: null, scopes: null })

  t.same(
    g.token.received.map((r) => `${r.method} ${r.path}`),
    ['POST /token'],
  )
  const assertion = new URLSearchParams(g.token.received[0]?.body).get('assertion') ?? ''
  const [header, payload] = assertion.split('.')
  t.same(decode(header), { alg: 'RS256', typ: 'JWT', kid: KEY_ID })
  const claims = decode(payload)
  t.match(claims, { iss: EMAIL, scope: SCOPE, aud: g.tokenUrl })
  t.equal(Number(claims.exp) - Number(claims.iat), 3600)
  t.equal(g.token.received[0]?.headers.authorization, undefined, 'the token request carries no bearer token')

  t.same(
    g.play.received.map((r) => `${r.method} ${r.path}`),
    [`POST ${EDITS}`, `DELETE ${EDITS}/${EDIT_ID}`],
  )
  t.ok(
    g.play.received.every((r) => r.headers.authorization === `Bearer ${g.accessToken}`),
    'both Play calls carried the issued access token',
  )
  t.match(g.play.received[0]?.headers, { 'content-type': 'application/json', 'user-agent': 'delivr-integrations' })
  assertNoSecret(t, result, g)
})

t.test("the key file's token_uri is never called: the configured token URL is", async (t) => {
  const g = await google(t, openedEdit)
  const result = await verifyPlayStore(request(serviceAccountJson(registered.pem, { token_uri: `${g.decoy.origin}/token` })), g.context)
  t.equal(result.verdict, 'VALID')
  t.equal(g.decoy.received.length, 0, 'the token_uri host received nothing')
  t.equal(g.decoy.connections, 0)
  t.equal(g.token.received.length, 1)
})

t.test('a key from another key pair is INVALID: Google refuses the signature', async (t) => {
  const g = await google(t, openedEdit)

  const result = await verifyPlayStore(request(serviceAccountJson(other.pem)), g.context)

  t.equal(result.verdict, 'INVALID')
  t.equal(
    result.message,
    `Google refused the service account key of ${EMAIL}: the signature does not match an active key of the service account`,
  )
  t.same(result.checks, [
    {
      name: 'authenticated',
      ok: false,
      detail: 'Google refused the service account key: the signature does not match an active key of the service account',
    },
    { name: 'app-accessible', ok: false, detail: 'not checked: the service account key was refused' },
  ])
  t.same(result.facts, { packageName: null, serviceAccountEmail: EMAIL })
  t.equal(g.token.received.length, 1)
  t.equal(g.play.received.length, 0, 'Google Play was not called')
  t.notMatch(JSON.stringify(result), 'Invalid JWT', 'the provider body is not passed on')
  assertNoSecret(t, result, g, other.pem)
})

t.test('a deleted or disabled service account is still INVALID, and says so', async (t) => {
  const deleted = await google(t, openedEdit, { token: invalidGrant('Invalid grant: account not found') })
  const gone = await verifyPlayStore(request(serviceAccountJson(registered.pem)), deleted.context)
  t.equal(gone.verdict, 'INVALID')
  t.equal(gone.message, `Google refused the service account key of ${EMAIL}: the service account or its key was deleted`)

  const disabled = await google(t, openedEdit, {
    token: { status: 401, body: { error: 'invalid_grant', error_description: 'The service account is disabled.' } },
  })
  const off = await verifyPlayStore(request(serviceAccountJson(registered.pem)), disabled.context)
  t.equal(off.verdict, 'INVALID')
  t.equal(off.message, `Google refused the service account key of ${EMAIL}: the service account or its key is disabled`)
  t.equal(deleted.play.received.length + disabled.play.received.length, 0)
})

t.test('a key file that cannot be used is INVALID and nothing is sent', async (t) => {
  const g = await google(t, openedEdit)
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
  const cases: Array<[string, string, string]> = [
    ['not JSON', `{"private_key": "${registered.pem.slice(0, 60)}`, 'it is not JSON'],
    [
      'another kind of key file',
      serviceAccountJson(registered.pem, { type: 'authorized_user' }),
      'it is not a service account key (type must be service_account)',
    ],
    ['no client_email', serviceAccountJson(registered.pem, { client_email: undefined }), 'it has no client_email or no private_key'],
    ['an EC private key', serviceAccountJson(ec), 'its private_key is not a PKCS#8 RSA key'],
    ['a PKCS#1 private key', serviceAccountJson(pkcs1), 'its private_key is not a PKCS#8 RSA key'],
    [
      'a broken private key',
      serviceAccountJson('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      'its private_key is not a PKCS#8 RSA key',
    ],
    ['nothing', '', 'none was given'],
  ]
  for (const [what, json, problem] of cases) {
    const result = await verifyPlayStore(request(json), g.context)
    t.equal(result.verdict, 'INVALID', what)
    t.equal(result.message, `The service account key cannot be used: ${problem}`, what)
    t.same(checksOf(result), [
      ['authenticated', false],
      ['app-accessible', false],
    ])
    t.equal(result.checks[1]?.detail, 'not checked: the service account key cannot be used')
    t.notMatch(JSON.stringify(result), 'PRIVATE KEY', what)
  }
  t.equal(g.token.received.length, 0, 'the token endpoint was not called')
  t.equal(g.play.received.length, 0, 'Google Play was not called')
})

t.test('a service account without access to the app (403) is INVALID and no edit is left', async (t) => {
  const g = await google(
    t,
    googleError(403, 'PERMISSION_DENIED', 'The caller does not have permission', {
      errors: [{ message: 'The caller does not have permission', domain: 'global', reason: 'forbidden' }],
    }),
  )

  const result = await verifyPlayStore(request(serviceAccountJson(registered.pem)), g.context)

  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, `Google Play refused access to com.acme.app: ${EMAIL} has no access to com.acme.app in Play Console`)
  t.same(result.checks, [
    { name: 'authenticated', ok: true, detail: `Google issued an access token to ${EMAIL}` },
    {
      name: 'app-accessible',
      ok: false,
      detail: `Google Play refused to open an edit (403): ${EMAIL} has no access to com.acme.app in Play Console`,
    },
  ])
  t.same(result.facts, { packageName: null, serviceAccountEmail: EMAIL })
  t.same(
    g.play.received.map((r) => r.method),
    ['POST'],
    'no edit was opened, so none was deleted',
  )
  t.notMatch(JSON.stringify(result), 'caller does not have permission')
  assertNoSecret(t, result, g)
})

t.test('a project without the Play Developer API enabled is INVALID and says what to enable', async (t) => {
  const g = await google(
    t,
    googleError(403, 'PERMISSION_DENIED', 'Google Play Android Developer API has not been used in project 1 before or it is disabled.', {
      errors: [{ message: 'disabled', domain: 'usageLimits', reason: 'accessNotConfigured' }],
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com' }],
    }),
  )
  const result = await verifyPlayStore(request(serviceAccountJson(registered.pem)), g.context)
  t.equal(result.verdict, 'INVALID')
  t.equal(
    result.message,
    "Google Play refused access to com.acme.app: the Google Play Android Developer API is not enabled in the service account's Google Cloud project",
  )
})

t.test('an app that does not exist (404) is INVALID', async (t) => {
  const g = await google(t, googleError(404, 'NOT_FOUND', 'Package not found: com.acme.app.'))
  const result = await verifyPlayStore(request(serviceAccountJson(registered.pem)), g.context)
  t.equal(result.verdict, 'INVALID')
  t.equal(result.message, `Google Play refused access to com.acme.app: the app does not exist or ${EMAIL} cannot see it`)
  t.same(checksOf(result), [
    ['authenticated', true],
    ['app-accessible', false],
  ])
  t.notMatch(JSON.stringify(result), 'Package not found')
  assertNoSecret(t, result, g)
})

t.test('an edit that cannot be deleted does not change the verdict, and the detail says so', async (t) => {
  const g = await google(t, openedEdit)
  g.play.on('DELETE', `${EDITS}/${EDIT_ID}`, googleError(500, 'INTERNAL', 'Internal error encountered.'))
  const result = await verifyPlayStore(request(serviceAccountJson(registered.pem)), g.context)
  t.equal(result.verdict, 'VALID')
  t.equal(
    result.checks[1]?.detail,
    'the service account can open edits of com.acme.app (the test edit could not be deleted; it expires on its own)',
  )
  t.equal(g.play.received[1]?.method, 'DELETE')
})

/** The shared scenarios at one of the verifier's two calls: the token grant, or the edit insert once Google issued a token. */
function atGoogle(call: 'token' | 'edit'): VerifierSpec {
  const edit = call === 'edit'
  return {
    name: edit ? 'Google Play' : 'Google',
    label: edit ? 'Google Play' : 'Google token endpoint',
    verify: verifyPlayStore,
    method: 'POST',
    path: edit ? EDITS : '/token',
    async start(t, { timeoutMs }) {
      const g = await google(t, openedEdit, { timeoutMs })
      return {
        double: edit ? g.play : g.token,
        others: [],
        untouched: edit ? [g.decoy] : [g.play, g.decoy],
        context: g.context,
        // The key file names the decoy as its token endpoint: only the configured one may be used.
        request: request(serviceAccountJson(registered.pem, { token_uri: `${g.decoy.origin}/token` })),
        answer: edit ? g.answerEdit : g.answerToken,
        assertNoSecret: (t, value) => assertNoSecret(t, value, g),
      }
    },
  }
}

verifierCases(t, atGoogle('token'), {
  timeout: true,
  rateLimited: [
    {
      title: 'a 429 with Retry-After',
      reply: { status: 429, headers: { 'retry-after': '5' }, body: { error: 'rate_limit_exceeded' } },
      retryAfter: 5,
    },
  ],
  noVerdict: [
    { title: 'a server error', reply: { status: 503, body: 'Service Unavailable' }, message: 'Google answered 503; try again later' },
    {
      title: 'a token request Google finds malformed (not a refusal of the key)',
      reply: { status: 400, body: { error: 'invalid_request', error_description: 'Bad Request' } },
      message: 'Google answered 400; no verdict could be given',
    },
  ],
})

verifierCases(t, atGoogle('edit'), {
  timeout: true,
  rateLimited: [
    {
      title: 'a spent quota (429 with Retry-After)',
      reply: { ...googleError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), headers: { 'retry-after': '17' } },
      retryAfter: 17,
    },
  ],
  noVerdict: [
    {
      title: 'a server error',
      reply: googleError(500, 'INTERNAL', 'Internal error encountered.'),
      message: 'Google Play answered 500; try again later',
    },
  ],
})
