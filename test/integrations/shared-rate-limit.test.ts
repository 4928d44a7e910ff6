import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { startProviderDouble } from '../helpers/provider-double.js'
import { redisSkip, testRedisUrl } from '../helpers/redis.js'
import { SAMPLES } from '../helpers/samples.js'

const VERIFY = '/api/v1/integrations/scm/verify'
const MAX = 2
const github = SAMPLES.find((s) => s.provider === 'GITHUB')!

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// README: with REDIS_URL every replica counts provider calls in the same Redis keys; while Redis is unreachable
// requests go through uncounted, with a warning, never a 500.
eachDatabase(t, async (t, db) => {
  const api = await startProviderDouble(t)
  const shared = {
    RATE_LIMIT_VERIFY_MAX: String(MAX),
    RATE_LIMIT_WINDOW_MS: '60000',
    GITHUB_API_URL: api.origin,
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    CREDENTIAL_KEYS: `t1:${randomBytes(32).toString('base64')}`,
  }

  t.test('two instances with the same REDIS_URL draw on one budget per caller', { skip: redisSkip() }, async (t) => {
    const redisUrl = testRedisUrl()
    const one = await startApp(t, db, { ...shared, REDIS_URL: redisUrl })
    const two = await startApp(t, db, { ...shared, REDIS_URL: redisUrl })
    const { tenantId } = await one.tenant()
    const caller = { authorization: `Bearer ${await one.userToken(await one.account({ [tenantId]: 'Owner' }))}` }
    const payload = github.body(tenantId)
    const verify = (h: typeof one) => h.app.inject({ method: 'POST', url: VERIFY, headers: caller, payload })

    const asked = api.received.length
    t.not((await verify(one)).statusCode, 429, 'the first call, on one instance, is answered')
    t.not((await verify(two)).statusCode, 429, 'the second, on the other, too')
    t.equal(api.received.length, asked + MAX, 'both asked the provider')
    for (const [name, h] of [
      ['one', one],
      ['two', two],
    ] as const) {
      const limited = await verify(h)
      t.equal(limited.statusCode, 429, `instance ${name}: ${limited.body}`)
      t.match(limited.json(), { code: 'RATE_LIMITED' })
      t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when')
    }
    t.equal(api.received.length, asked + MAX, 'the provider was not asked beyond the budget')

    const other = { authorization: `Bearer ${await one.userToken(await one.account({ [tenantId]: 'Owner' }))}` }
    const answered = await two.app.inject({ method: 'POST', url: VERIFY, headers: other, payload })
    t.not(answered.statusCode, 429, 'another caller has a budget of its own')
  })

  t.test('with Redis unreachable, provider calls go through uncounted with a warning, never a 500', async (t) => {
    const h = await startApp(t, db, { ...shared, RATE_LIMIT_VERIFY_MAX: '1', REDIS_URL: `redis://127.0.0.1:${await closedPort()}` })
    const { tenantId } = await h.tenant()
    const caller = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Owner' }))}` }
    const asked = api.received.length
    for (let i = 1; i <= 3; i++) {
      const res = await h.app.inject({ method: 'POST', url: VERIFY, headers: caller, payload: github.body(tenantId) })
      t.equal(res.statusCode, 200, `call ${i}: ${res.body}`)
    }
    t.equal(api.received.length, asked + 3, 'every call reached the provider')
    const warnings = h.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40)
    t.ok(
      warnings.some((l) => /Redis unavailable/.test(l.msg)),
      'the outage is logged',
    )
    t.equal(warnings.filter((l) => l.msg === 'rate limit not counted: Redis unavailable').length, 3, 'each uncounted call is logged')
    t.notOk(
      h.logs.some((l) => l.includes(shared.AUTH_JWT_SECRET)),
      'no secret is logged',
    )
  })
})
