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

function assertUnauthorized(t: Test, res: LightMyRequestResponse, message: RegExp | string, what: string, code = 'UNAUTHORIZED') {
  t.equal(res.statusCode, 401, `${what}: ${res.body}`)
  t.match(res.headers['www-authenticate'], /^Bearer\b/, `${what}: www-authenticate`)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], `${what}: error shape`)
  t.match(body, { statusCode: 401, error: 'Unauthorized', code, message }, what)
}

const now = () => Math.floor(Date.now() / 1000)

/** A token with exactly the given `iat` and `exp` (seconds; left out when undefined). */
async function signAt({ alg, key }: Signer, claims: JWTPayload, times: { iat?: number; exp?: number }) {
  return new SignJWT({ ...claims, ...times }).setProtectedHeader({ alg, typ: 'JWT' }).sign(key)
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
      const expired = await sign(hmac(secret), { sub: ownerId }, now() - 600)
      assertUnauthorized(t, await list(h, tenantId, `Bearer ${expired}`, tokens), 'Token has expired', 'expired')
    })

    t.test('rejects a token without sub with 401, and without exp or iat with 401 TOKEN_LIFETIME', async (t) => {
      const noSub = await sign(hmac(secret), {})
      assertUnauthorized(t, await list(h, tenantId, `Bearer ${noSub}`, tokens), /"sub"/, 'no sub')
      for (const [what, times] of [
        ['no exp', { iat: now() }],
        ['no iat', { exp: now() + 300 }],
        ['neither', {}],
      ] as const) {
        for (const sub of [ownerId, 'service:release']) {
          const token = await signAt(hmac(secret), { sub, scope: 'integrations:read' }, times)
          assertUnauthorized(t, await list(h, tenantId, `Bearer ${token}`, tokens), /"(exp|iat)"/, `${what} (${sub})`, 'TOKEN_LIFETIME')
        }
      }
    })

    t.test(
      'refuses with 401 TOKEN_LIFETIME a token issued in the future beyond the clock skew, or living longer than the maximum',
      async (t) => {
        const day = 86400
        const refused: [string, { iat: number; exp: number }, RegExp][] = [
          ['issued 2 minutes ahead', { iat: now() + 120, exp: now() + 420 }, /issued in the future/],
          ['issued a year ahead', { iat: now() + 365 * day, exp: now() + 365 * day + 300 }, /issued in the future/],
          ['a lifetime of years', { iat: now(), exp: now() + 3 * 365 * day }, /lifetime .* longer than 86400 s/],
          ['a lifetime of a day and a second', { iat: now() - 10, exp: now() - 10 + day + 1 }, /longer than 86400 s/],
          ['backdated to stretch it', { iat: now() - 2 * day, exp: now() + 300 }, /longer than 86400 s/],
        ]
        for (const [what, times, message] of refused) {
          for (const sub of [ownerId, 'service:release']) {
            const token = await signAt(hmac(secret), { sub, scope: 'integrations:read' }, times)
            assertUnauthorized(t, await list(h, tenantId, `Bearer ${token}`, tokens), message, `${what} (${sub})`, 'TOKEN_LIFETIME')
          }
        }
        const accepted: [string, { iat: number; exp: number }][] = [
          ['issued 30 s ahead (within the skew)', { iat: now() + 30, exp: now() + 330 }],
          ['a lifetime of exactly a day', { iat: now(), exp: now() + day }],
          ['expired 20 s ago (within the skew)', { iat: now() - 320, exp: now() - 20 }],
        ]
        for (const [what, times] of accepted) {
          for (const sub of [ownerId, 'service:release']) {
            const token = await signAt(hmac(secret), { sub, scope: 'integrations:read' }, times)
            const res = await list(h, tenantId, `Bearer ${token}`, tokens)
            t.equal(res.statusCode, 200, `${what} (${sub}): ${res.body}`)
          }
        }
      },
    )

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

  t.test('with AUTH_CLOCK_SKEW_SECONDS=0 and AUTH_MAX_TOKEN_LIFETIME_SECONDS=600', async (t) => {
    const secret = randomBytes(32).toString('hex')
    const h = await startApp(t, db, { AUTH_JWT_SECRET: secret, AUTH_CLOCK_SKEW_SECONDS: '0', AUTH_MAX_TOKEN_LIFETIME_SECONDS: '600' })
    const { tenantId, ownerId } = await h.tenant()
    const at = async (times: { iat: number; exp: number }) =>
      list(h, tenantId, `Bearer ${await signAt(hmac(secret), { sub: ownerId }, times)}`)
    t.equal((await at({ iat: now(), exp: now() + 600 })).statusCode, 200, 'ten minutes is allowed')
    t.equal(
      (await h.app.inject({ url: `${LIST}?tenantId=${tenantId}`, headers: { authorization: `Bearer ${await h.userToken(ownerId)}` } }))
        .statusCode,
      200,
      'the test helper mints within the limit',
    )
    assertUnauthorized(t, await at({ iat: now(), exp: now() + 601 }), /longer than 600 s/, 'eleven minutes', 'TOKEN_LIFETIME')
    assertUnauthorized(t, await at({ iat: now() + 5, exp: now() + 300 }), /issued in the future/, 'five seconds ahead', 'TOKEN_LIFETIME')
    assertUnauthorized(t, await at({ iat: now() - 300, exp: now() - 2 }), 'Token has expired', 'expired two seconds ago')
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

      t.test('refuses an over-long lifetime with 401 TOKEN_LIFETIME here too', async (t) => {
        const long = await signAt({ alg, key: privateKey }, { sub: ownerId }, { iat: now(), exp: now() + 30 * 86400 })
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${long}`, tokens), /longer than/, 'thirty days', 'TOKEN_LIFETIME')
      })

      t.test('rejects an alg none token and an expired token with 401', async (t) => {
        const none = new UnsecuredJWT({ sub: ownerId }).setExpirationTime('5m').encode()
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${none}`, tokens), 'Token is invalid', 'alg none')
        const expired = await sign({ alg, key: privateKey }, { sub: ownerId }, now() - 600)
        assertUnauthorized(t, await list(h, tenantId, `Bearer ${expired}`, tokens), 'Token has expired', 'expired')
      })

      t.test('never logs a bearer token', async (t) => assertNoTokenLogged(t, h, tokens))
    })
  }
})
