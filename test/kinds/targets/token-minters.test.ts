import { generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto'
import t, { type Test } from 'tap'
import { ProviderUnavailableError, type ServiceError } from '../../../src/http/errors.js'
import { mintAppStoreToken } from '../../../src/kinds/targets/app-store-token.js'
import { mintPlayStoreToken } from '../../../src/kinds/targets/google-service-account.js'
import { runMinter, type MintContext, type MintRequest, type MintResult } from '../../../src/verification/access-token.js'
import { ANDROID_PUBLISHER, startGoogleToken } from '../../helpers/google-token.js'
import { rejection, startProviderDouble, verifyContext } from '../../helpers/provider-double.js'

const KEY_ID = '2X9R4HXF34'
const ISSUER_ID = '57246542-96fe-1a63-e053-0824d011072a'
const EMAIL = 'delivr-release@acme-mobile.iam.gserviceaccount.com'

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))

function ecKey(namedCurve = 'P-256') {
  const pair = generateKeyPairSync('ec', { namedCurve })
  return { pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: pair.publicKey }
}

function serviceAccountJson(overrides: Record<string, unknown> = {}): string {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return JSON.stringify({
    type: 'service_account',
    project_id: 'acme-mobile',
    private_key_id: randomUUID().replace(/-/g, ''),
    private_key: pem,
    client_email: EMAIL,
    token_uri: 'https://oauth2.googleapis.com/token',
    ...overrides,
  })
}

function appStoreRequest(pem: string, grants: string[] | null = null): MintRequest {
  return {
    provider: 'APP_STORE',
    values: { bundleId: 'com.acme.app', keyId: KEY_ID, issuerId: ISSUER_ID },
    secrets: { privateKey: pem },
    grants,
  }
}

function playRequest(json: string): MintRequest {
  return {
    provider: 'PLAY_STORE',
    values: { packageName: 'com.acme.app' },
    secrets: { serviceAccountJson: json },
    grants: [ANDROID_PUBLISHER],
  }
}

function mintContext(t: Test, lifetime = 1200, apis: Parameters<typeof verifyContext>[1] = {}): MintContext {
  return { ...verifyContext(t, apis), appStoreTokenLifetimeSeconds: lifetime }
}

function minted(result: MintResult) {
  if ('refused' in result) throw new Error(`refused: ${result.refused}`)
  if ('denied' in result) throw new Error(`denied: ${result.denied}`)
  return result
}

/** What App Store Connect checks of a token: the ES256 signature with the key's public half, then header and claims. */
function appleClaims(t: Test, token: string, publicKey: KeyObject): Record<string, unknown> {
  const [header, payload, signature] = token.split('.')
  t.ok(
    verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature ?? '', 'base64url'),
    ),
    'signed with the key (ES256)',
  )
  t.same(decode(header), { alg: 'ES256', kid: KEY_ID, typ: 'JWT' })
  const claims = decode(payload)
  t.match(claims, { iss: ISSUER_ID, aud: 'appstoreconnect-v1' })
  t.ok(Math.abs(Number(claims.iat) - Date.now() / 1000) < 5, 'issued now')
  return claims
}

t.test('App Store: an ES256 token Apple accepts, living the configured lifetime, signed here', async (t) => {
  const key = ecKey()
  const context = mintContext(t, 1200)
  const result = minted(await mintAppStoreToken.mint(appStoreRequest(key.pem), context))
  const claims = appleClaims(t, result.token, key.publicKey)
  t.equal(Number(claims.exp) - Number(claims.iat), 1200, 'twenty minutes, the most Apple accepts')
  t.equal(result.expiresAt.getTime(), Number(claims.exp) * 1000, 'expiresAt is the exp claim')
  t.notOk('scope' in claims, 'no scope: the key role decides')
  t.equal(result.grants, null)
  t.equal(mintAppStoreToken.callsProvider, false, 'Apple is not asked')

  const shorter = minted(await mintAppStoreToken.mint(appStoreRequest(key.pem), mintContext(t, 300)))
  const short = appleClaims(t, shorter.token, key.publicKey)
  t.equal(Number(short.exp) - Number(short.iat), 300, 'a shorter configured lifetime')
  const longer = minted(await mintAppStoreToken.mint(appStoreRequest(key.pem), mintContext(t, 3600)))
  const capped = appleClaims(t, longer.token, key.publicKey)
  t.equal(Number(capped.exp) - Number(capped.iat), 1200, 'never longer than Apple accepts')
})

t.test("App Store: asked scope becomes Apple's scope claim, the same asks share one grant list", async (t) => {
  const key = ecKey()
  const asked = { scope: ['GET /v1/builds', 'GET /v1/apps?filter[bundleId]=com.acme.app', 'GET /v1/builds'] }
  const grants = mintAppStoreToken.grants(asked)
  t.same(grants, ['GET /v1/apps?filter[bundleId]=com.acme.app', 'GET /v1/builds'], 'sorted, without repeats')
  t.same(mintAppStoreToken.grants({ scope: ['GET /v1/apps?filter[bundleId]=com.acme.app', 'GET /v1/builds'] }), grants)
  t.equal(mintAppStoreToken.grants(null), null)
  t.equal(mintAppStoreToken.grants({}), null)

  const result = minted(await mintAppStoreToken.mint(appStoreRequest(key.pem, grants), mintContext(t)))
  t.same(appleClaims(t, result.token, key.publicKey).scope, grants)
  t.same(result.grants, grants)
})

t.test('App Store: a key that cannot sign ES256 is refused, without quoting it', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  for (const [what, pem] of [
    ['a P-384 key', ecKey('P-384').pem],
    ['an RSA key', rsa],
    ['not a key', 'nonsense'],
  ] as const) {
    const result = await mintAppStoreToken.mint(appStoreRequest(pem), mintContext(t))
    t.same(
      result,
      { refused: 'The private key cannot sign App Store Connect tokens: it must be the .p8 key App Store Connect issued' },
      what,
    )
  }
})

t.test('Google Play: an access token from the JWT-bearer grant at the configured token URL', async (t) => {
  const google = await startGoogleToken(t)
  const decoy = await startProviderDouble(t)
  const json = serviceAccountJson({ token_uri: `${decoy.origin}/token` })
  google.register(json)
  const context = mintContext(t, 1200, { apis: { googleToken: google.url } })
  const before = Date.now()
  const result = minted(await runMinter('Google Play', mintPlayStoreToken, playRequest(json), context))
  t.same(google.issued, [result.token], 'the token Google issued')
  t.same(result.grants, [ANDROID_PUBLISHER])
  t.ok(result.expiresAt.getTime() >= before + 3599_000 && result.expiresAt.getTime() <= Date.now() + 3599_000, 'expires_in from the ask')
  t.equal(decoy.received.length, 0, "the key file's token_uri is never called")
  t.equal(mintPlayStoreToken.callsProvider, true)
})

t.test('Google Play: what Google says it granted is what the token grants', async (t) => {
  const google = await startGoogleToken(t)
  google.answer({ body: { access_token: 'ya29.scoped', expires_in: 1800, token_type: 'Bearer', scope: `${ANDROID_PUBLISHER} openid` } })
  const result = minted(
    await mintPlayStoreToken.mint(playRequest(serviceAccountJson()), mintContext(t, 1200, { apis: { googleToken: google.url } })),
  )
  t.same(result.grants, [ANDROID_PUBLISHER, 'openid'])
})

t.test('Google Play: a key Google refuses, or that cannot be used, is refused with our words', async (t) => {
  const google = await startGoogleToken(t)
  const context = mintContext(t, 1200, { apis: { googleToken: google.url } })
  const unknown = await mintPlayStoreToken.mint(playRequest(serviceAccountJson()), context)
  t.same(unknown, { refused: `Google refused the service account key of ${EMAIL}: the service account or its key was deleted` })

  const registered = serviceAccountJson()
  google.register(registered)
  const parsed = JSON.parse(registered) as Record<string, string>
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const forged = await mintPlayStoreToken.mint(playRequest(JSON.stringify({ ...parsed, private_key: otherKey })), context)
  t.same(forged, {
    refused: `Google refused the service account key of ${EMAIL}: the signature does not match an active key of the service account`,
  })

  const unusable = await mintPlayStoreToken.mint(playRequest('{"type":"authorized_user"}'), context)
  t.same(unusable, { refused: 'The service account key cannot be used: it is not a service account key (type must be service_account)' })
  t.equal(google.issued.length, 0)
  t.notMatch(JSON.stringify([unknown, forged, unusable]), /PRIVATE KEY|Invalid/, 'neither the key nor Google words are passed on')
})

t.test('Google Play: no answer is no token (503 with Retry-After), and says why', async (t) => {
  const google = await startGoogleToken(t)
  const json = serviceAccountJson()
  google.register(json)
  const context = mintContext(t, 1200, { apis: { googleToken: google.url } })
  const failure = async (ctx: MintContext = context) =>
    (await rejection(runMinter('Google Play', mintPlayStoreToken, playRequest(json), ctx))) as ServiceError

  google.answer({ status: 503, body: 'Service Unavailable' })
  const down = await failure()
  t.ok(down instanceof ProviderUnavailableError)
  t.match(down, {
    statusCode: 503,
    code: 'PROVIDER_ERROR',
    message: 'Google answered 503; try again later',
    headers: { 'retry-after': '30' },
  })

  google.answer({ status: 429, headers: { 'retry-after': '7' }, body: { error: 'rate_limit_exceeded' } })
  t.match(await failure(), { statusCode: 503, code: 'PROVIDER_RATE_LIMITED', headers: { 'retry-after': '7' } })

  google.answer({ body: { access_token: 'ya29.x', token_type: 'Bearer' } })
  t.match(await failure(), {
    statusCode: 503,
    code: 'PROVIDER_ERROR',
    message: 'Google issued a token without a lifetime (expires_in); try again later',
  })

  const unreachable = mintContext(t, 1200, { apis: { googleToken: 'http://127.0.0.1:9/token' } })
  t.match(await failure(unreachable), { statusCode: 503, code: 'PROVIDER_UNREACHABLE', headers: { 'retry-after': '30' } })
})
