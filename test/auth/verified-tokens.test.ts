import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import t from 'tap'
import type { AuthConfig } from '../../src/config/load-config.js'
import { createTokenVerifier } from '../../src/auth/tokens.js'
import { ServiceError } from '../../src/http/errors.js'

// The verifier remembers tokens that passed. These check that remembering changes no answer: an expired token is
// refused on its next use, a failure is checked again every time, and a remembered token names its own principal.

const secret = randomBytes(32).toString('base64url')
const auth: AuthConfig = { algorithms: ['HS256'], secret, clockSkewSeconds: 5, maxTokenLifetimeSeconds: 3600 }
const key = new TextEncoder().encode(secret)

async function sign(sub: string, iat: number, exp: number, scope?: string) {
  return new SignJWT(scope ? { scope } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key)
}

function clock(start: number) {
  let ms = start
  return { now: () => ms, move: (seconds: number) => (ms += seconds * 1000) }
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise
  } catch (err) {
    if (err instanceof ServiceError) return { status: err.statusCode, message: err.message }
    throw err
  }
  return undefined
}

t.test('a remembered token is refused once it has expired, by the skew and not a second later', async (t) => {
  const c = clock(Date.now())
  const verify = createTokenVerifier(auth, { now: c.now })
  const iat = Math.floor(c.now() / 1000)
  const token = await sign('acct-1', iat, iat + 60)
  t.same(await verify(token), { type: 'user', accountId: 'acct-1' })
  c.move(60 + 4)
  t.same(await verify(token), { type: 'user', accountId: 'acct-1' }, 'still accepted within the skew')
  c.move(1)
  t.same(await refusal(verify(token)), { status: 401, message: 'Token has expired' }, 'expired: exp + skew has passed')
  c.move(-65)
  t.same(await verify(token), { type: 'user', accountId: 'acct-1' }, 'the refusal was not remembered either')
})

t.test('each remembered token answers its own principal, scopes included', async (t) => {
  const c = clock(Date.now())
  const verify = createTokenVerifier(auth, { now: c.now })
  const iat = Math.floor(c.now() / 1000)
  const tokens = [
    await sign('acct-1', iat, iat + 600),
    await sign('acct-2', iat, iat + 600),
    await sign('service:releases', iat, iat + 600, 'integrations:read'),
    await sign('service:releases', iat, iat + 600, 'integrations:credentials:read'),
  ]
  for (let round = 0; round < 2; round++) {
    const principals = await Promise.all(tokens.map((token) => verify(token)))
    t.same(
      principals.map((p) => (p.type === 'user' ? p.accountId : `${p.name} ${[...p.scopes].join(' ')}`)),
      ['acct-1', 'acct-2', 'releases integrations:read', 'releases integrations:credentials:read'],
      `round ${round + 1}`,
    )
  }
})

t.test('a token that failed is checked again, and one altered after passing is refused', async (t) => {
  const c = clock(Date.now())
  const verify = createTokenVerifier(auth, { now: c.now })
  const iat = Math.floor(c.now() / 1000)
  const future = await sign('acct-1', iat + 120, iat + 600)
  t.same(await refusal(verify(future)), {
    status: 401,
    message: 'Token was issued in the future ("iat" more than 5 s ahead of this server\'s clock)',
  })
  c.move(120)
  t.same(await verify(future), { type: 'user', accountId: 'acct-1' }, 'accepted once its iat is reached')

  const good = await sign('acct-1', iat, iat + 600)
  await verify(good)
  const [header, , signature] = good.split('.')
  const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'acct-2', iat, exp: iat + 600 })).toString('base64url')}.${signature}`
  t.same(await refusal(verify(forged)), { status: 401, message: 'Token is invalid' }, 'another payload with the remembered signature')
})
