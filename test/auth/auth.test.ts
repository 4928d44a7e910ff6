import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose'
import t, { type Test } from 'tap'
import { eachDatabase } from '../helpers/databases.js'
import { startApp, type TestApp } from '../helpers/app.js'

const LIST = '/api/v1/integrations/scm'

interface Signer {
  alg: 'HS256' | 'RS256' | 'ES256'
  key: Uint8Array | KeyObject
}

const hmac = (secret: string): Signer => ({ alg: 'HS256', key: new TextEncoder().encode(secret) })

async function sign({ alg, key }: Signer, claims: JWTPayload, expiresIn: string | number | null = '5m') {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt()
  if (expiresIn !== null) jwt.setExpirationTime(expiresIn)
  return jwt.sign(key)
}

/** Lists the tenant's SCM integrations with the given Authorization header (none when undefined). */
async function list(h: TestApp, tenantId: string, authorization?: string, tokens?: string[]) {
  if (authorization && tokens) tokens.push(...authorization.split(' ').filter((part) => part.length > 8))
  return h.app.inject({ url: `${LIST}?tenantId=${tenantId}`, headers: authorization === undefined ? {} : { authorization } })
}

function assertUnauthorized(t: Test, res: LightMyRequestResponse, message: RegExp | string, what: string) {
  t.equal(res.statusCode, 401, `${what}: ${res.body}`)
  t.match(res.headers['www-authenticate'], /^Bearer\b/, `${what}: www-authenticate`)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], `${what}: error shape`)
  t.match(body, { statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED', message }, what)
}

function assertNoTokenLogged(t: Test, h: TestApp, tokens: string[]) {
  t.ok(h.logs.length > 0, 'the app logged something')
  t.ok(tokens.length > 0, 'tokens were sent')
  const leaked = tokens.filter((token) => h.logs.some((line) => line.includes(token)))
  t.same(leaked, [], 'no bearer token appears in the logs')
}

function keyPair(type: 'rsa' | 'ec') {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey: pair.privateKey, pem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

eachDatabase(t, async (t, db) => {
  t.test('with an HS256 secret', async (t) => {
    const secret = randomBytes(32).toString('hex')
    const h = await startApp(t, db, { AUTH_JWT_SECRET: secret, LOG_LEVEL: 'trace' })
    const { tenantId, ownerId } = await h.tenant()
    const tokens: string[] = []
    const good = await sign(hmac(secret), { sub: ownerId })

    t.test('accepts a valid token, whatever the case of the scheme', async (t) => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        const res = await list(h, tenantId, `${scheme} ${good}`, tokens)
        t.equal(res.statusCode, 200, `${scheme}: ${res.body}`)
        t.same(res.json(), { items: [], nextCursor: null })
      }
    })

    t.test('rejects a request without a usable bearer token with 401', async (t) => {
      assertUnauthorized(t, await list(h, tenantId), /^Missing Authorization header/, 'no header')
      const malformed = ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Token ${good}`, `Bearer ${good} extra`, good]
      for (const header of malformed) {
        assertUnauthorized(t, await list(h, tenantId, header, tokens), 'Authorization header must be "Bearer <token>"', header.slice(0, 20))
      }
    })

    t.test('rejects a token that is not a valid signed JWT with 401', async (t) => {
      const invalid = {
        garbage: 'not-a-jwt',
        'three garbage parts': 'a.b.c',
        'bad base64': '%%%.%%%.%%%',
        'signed with another secret': await sign(hmac(randomBytes(32).toString('hex')), { sub: ownerId }),
        'alg none': new UnsecuredJWT({ sub: ownerId }).setIssuedAt().setExpirationTime('5m').encode(),
        'payload swapped': `${good.split('.')[0]}.${Buffer.from(JSON.stringify({ sub: 'someone-else', exp: 4e9 })).toString('base64url')}.${good.split('.')[2]}`,
      }
      for (const [what, token] of Object.entries(invalid)) {
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${token}`, tokens), 'Token is invalid', what)
      }
    })

    t.test('rejects an expired token with 401', async (t) => {
      const expired = await sign(hmac(secret), { sub: ownerId }, Math.floor(Date.now() / 1000) - 60)
      assertUnauthorized(t, await list(h, tenantId, `Bearer ${expired}`, tokens), 'Token has expired', 'expired')
    })

    t.test('rejects a token without exp or sub with 401', async (t) => {
      const noExp = await sign(hmac(secret), { sub: ownerId }, null)
      assertUnauthorized(t, await list(h, tenantId, `Bearer ${noExp}`, tokens), /"exp"/, 'no exp')
      const noSub = await sign(hmac(secret), {})
      assertUnauthorized(t, await list(h, tenantId, `Bearer ${noSub}`, tokens), /"sub"/, 'no sub')
    })

    t.test('answers 404, not 401, when a valid token meets a tenant it is not in', async (t) => {
      const outsider = await sign(hmac(secret), { sub: await h.account() })
      for (const tenant of [tenantId, randomUUID()]) {
        const res = await list(h, tenant, `Bearer ${outsider}`, tokens)
        t.equal(res.statusCode, 404, res.body)
        t.match(res.json(), { statusCode: 404, error: 'Not Found', message: 'Tenant not found' })
      }
    })

    t.test('never logs a bearer token', async (t) => assertNoTokenLogged(t, h, tokens))
  })

  t.test('with AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE', async (t) => {
    const secret = randomBytes(32).toString('hex')
    const h = await startApp(t, db, {
      AUTH_JWT_SECRET: secret,
      AUTH_JWT_ISSUER: 'https://gateway.delivr.test',
      AUTH_JWT_AUDIENCE: 'delivr-integrations',
    })
    const { tenantId, ownerId } = await h.tenant()
    const claims = { sub: ownerId, iss: 'https://gateway.delivr.test', aud: 'delivr-integrations' }

    t.test('accepts the expected issuer and audience', async (t) => {
      t.equal((await list(h, tenantId, `Bearer ${await sign(hmac(secret), claims)}`)).statusCode, 200)
      t.equal(
        (await list(h, tenantId, `Bearer ${await sign(hmac(secret), { ...claims, aud: ['other', 'delivr-integrations'] })}`)).statusCode,
        200,
      )
    })

    t.test('rejects a wrong or missing issuer or audience with 401', async (t) => {
      const cases: [string, JWTPayload, RegExp][] = [
        ['wrong issuer', { ...claims, iss: 'https://evil.test' }, /"iss"/],
        ['no issuer', { ...claims, iss: undefined }, /"iss"/],
        ['wrong audience', { ...claims, aud: 'another-service' }, /"aud"/],
        ['no audience', { ...claims, aud: undefined }, /"aud"/],
      ]
      for (const [what, payload, message] of cases) {
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${await sign(hmac(secret), payload)}`), message, what)
      }
    })
  })

  for (const type of ['rsa', 'ec'] as const) {
    const alg = type === 'rsa' ? 'RS256' : 'ES256'
    t.test(`with an ${alg} public key`, async (t) => {
      const { privateKey, pem } = keyPair(type)
      const h = await startApp(t, db, { AUTH_JWT_SECRET: '', AUTH_JWT_PUBLIC_KEY: pem, LOG_LEVEL: 'trace' })
      const { tenantId, ownerId } = await h.tenant()
      const tokens: string[] = []

      t.test(`accepts an ${alg} token signed by the matching private key`, async (t) => {
        const res = await list(h, tenantId, `Bearer ${await sign({ alg, key: privateKey }, { sub: ownerId })}`, tokens)
        t.equal(res.statusCode, 200, res.body)
        t.same(res.json(), { items: [], nextCursor: null })
      })

      t.test('rejects a token signed by another key with 401', async (t) => {
        const stranger = await sign({ alg, key: keyPair(type).privateKey }, { sub: ownerId })
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${stranger}`, tokens), 'Token is invalid', 'other key')
      })

      t.test('rejects an HS256 token keyed with the public key text (algorithm confusion) with 401', async (t) => {
        for (const text of [pem, pem.trim()]) {
          const confused = await sign(hmac(text), { sub: ownerId })
          assertUnauthorized(t, await list(h, tenantId, `Bearer ${confused}`, tokens), 'Token is invalid', 'HS256 with the PEM')
        }
      })

      t.test('rejects an alg none token and an expired token with 401', async (t) => {
        const none = new UnsecuredJWT({ sub: ownerId }).setExpirationTime('5m').encode()
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${none}`, tokens), 'Token is invalid', 'alg none')
        const expired = await sign({ alg, key: privateKey }, { sub: ownerId }, Math.floor(Date.now() / 1000) - 60)
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${expired}`, tokens), 'Token has expired', 'expired')
      })

      t.test('never logs a bearer token', async (t) => assertNoTokenLogged(t, h, tokens))
    })
  }
})
