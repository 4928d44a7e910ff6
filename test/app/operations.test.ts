import t from 'tap'
import { startApp, type TestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/databases.js'
import { eventually } from '../helpers/eventually.js'
import { startProviderDouble } from '../helpers/provider-double.js'

const SCM = '/api/v1/integrations/scm'

/** Prometheus text → `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line)
    if (!match) throw new Error(`not Prometheus text: ${line}`)
    samples.set(match[1]!, Number(match[2]))
  }
  return samples
}

t.test('operations', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const github = await startProviderDouble(t)
  github
    .on('GET', '/repos/acme/app-0', {
      body: { full_name: 'acme/app-0', default_branch: 'main', visibility: 'private', permissions: { push: true } },
    })
    .on('GET', '/repos/acme/app-0/branches/main', { body: { name: 'main' } })
  const h = await startApp(t, db, {
    GITHUB_API_URL: github.origin,
    RATE_LIMIT_VERIFY_MAX: '3',
    RATE_LIMIT_WINDOW_MS: '60000',
    BODY_LIMIT_BYTES: '2048',
    TRUST_PROXY: '127.0.0.1',
  })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const body = {
    tenantId,
    scmType: 'GITHUB',
    displayName: 'App',
    repositoryUrl: 'https://github.com/acme/app-0',
    accessToken: 'ghp_operations_test_token',
  }

  t.test('a body over the limit is a 413 with a clear message', async (t) => {
    const res = await app.inject({ method: 'POST', url: SCM, headers: owner, payload: { ...body, displayName: 'x'.repeat(4000) } })
    t.equal(res.statusCode, 413)
    t.match(res.json(), { statusCode: 413, error: 'Payload Too Large', message: /too large/i })
  })

  t.test('verify calls are limited per caller with 429 and Retry-After', async (t) => {
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await app.inject({ method: 'POST', url: `${SCM}/verify`, headers: owner, payload: body }))
    t.same(
      answers.map((a) => a.statusCode),
      [200, 200, 200, 429],
    )
    const limited = answers[3]!
    t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED' })
    t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when')
    t.equal(github.received.filter((r) => r.path === '/repos/acme/app-0').length, 3, 'the provider was not called for the refused one')

    const someoneElse = await h.userToken(await h.account({ [tenantId]: 'Owner' }))
    const other = await app.inject({
      method: 'POST',
      url: `${SCM}/verify`,
      headers: { authorization: `Bearer ${someoneElse}` },
      payload: body,
    })
    t.equal(other.statusCode, 200, 'another caller has a budget of its own')
    const read = await app.inject({ url: `${SCM}?tenantId=${tenantId}`, headers: owner })
    t.equal(read.statusCode, 200, 'other routes are not limited')
  })

  t.test('security headers suit an API and keep Swagger UI loadable', async (t) => {
    const res = await app.inject({ url: '/health/live' })
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.match(res.headers['strict-transport-security'], /max-age=/)
    t.match(res.headers['content-security-policy'], /default-src 'self'/)
    const ui = await app.inject({ url: '/documentation/' })
    t.equal(ui.statusCode, 200)
    t.match(ui.headers['content-security-policy'], /script-src 'self'/)
  })

  t.test('paths the router refuses get the error shape and the usual headers, without quoting the path', async (t) => {
    const long = 'x'.repeat(500)
    for (const [url, statusCode, error, code] of [
      [`${SCM}/%ff`, 400, 'Bad Request', 'BAD_URL'],
      [`${SCM}/${long}`, 414, 'URI Too Long', 'PATH_TOO_LONG'],
    ] as const) {
      const res = await app.inject({ url, headers: { ...owner, 'x-request-id': `refused-${statusCode}` } })
      t.equal(res.statusCode, statusCode, url.slice(0, 60))
      t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
      t.match(res.json(), { statusCode, error, code })
      t.notOk(res.body.includes('%ff') || res.body.includes(long.slice(0, 50)), 'the path is not echoed')
      t.equal(res.headers['x-request-id'], `refused-${statusCode}`)
      t.equal(res.headers['x-content-type-options'], 'nosniff')
      t.match(res.headers['content-type'], /^application\/json/)
    }
  })

  t.test('a body that is not JSON is refused with 415', async (t) => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await app.inject({ method: 'POST', url: SCM, headers: { ...owner, 'content-type': type }, payload: 'tenantId=x' })
      t.equal(res.statusCode, 415, type)
      t.match(res.json(), { error: 'Unsupported Media Type', code: 'UNSUPPORTED_MEDIA_TYPE', message: /application\/json/ })
    }
  })

  t.test('the gateway address is trusted for the client address', async (t) => {
    const seen: string[] = []
    const res = await app.inject({
      url: '/api/v1/integrations/providers',
      remoteAddress: '127.0.0.1',
      headers: { ...owner, 'x-forwarded-for': '203.0.113.9' },
    })
    t.equal(res.statusCode, 200)
    const line = h.logs
      .map((l) => JSON.parse(l) as { req?: { remoteAddress?: string } })
      .find((l) => l.req?.remoteAddress === '203.0.113.9')
    seen.push(line?.req?.remoteAddress ?? '')
    t.same(seen, ['203.0.113.9'], 'the forwarded client address is logged')
  })

  t.test('/metrics is Prometheus text counting requests, verifications and the pool', async (t) => {
    await app.inject({ url: `${SCM}?tenantId=${tenantId}`, headers: owner })
    const res = await app.inject({ url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain/)
    const samples = parseMetrics(res.body)
    t.ok((samples.get(`http_requests_total{method="GET",route="${SCM}",status_code="200"}`) ?? 0) >= 2, 'list requests counted by route')
    t.equal(samples.get(`http_requests_total{method="POST",route="${SCM}/verify",status_code="429"}`), 1, 'the refused verify counted')
    t.equal(
      samples.get('integration_verifications_total{kind="scm",provider="GITHUB",verdict="VALID"}'),
      4,
      'verdicts by kind and provider',
    )
    t.ok(
      [...samples.keys()].some((k) => k.startsWith('http_request_duration_seconds_bucket{')),
      'latency histogram',
    )
    t.ok(samples.has('process_resident_memory_bytes'), 'process metrics')
    t.notOk(res.body.includes(tenantId), 'no ids as label values')
    t.notOk(res.body.includes('ghp_operations_test_token'))
  })
})

t.test('metrics can be switched off', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const h = await startApp(t, db, { METRICS_ENABLED: 'false' })
  t.equal((await h.app.inject({ url: '/metrics' })).statusCode, 404)
})

/**
 * Blocks the event loop for 1.5 s, as a CPU-bound burst would, then asks `url` every 50 ms until it answers 503
 * (failing after 3 s). @fastify/under-pressure reads the event-loop delay on its own 1 s timer: when that timer runs
 * just before the delay histogram records the block, the overload shows one interval later, so asking once right
 * after the block is a race.
 */
async function askWhileOverloaded(app: TestApp['app'], url: string) {
  const until = Date.now() + 1500
  while (Date.now() < until) {
    // Blocked.
  }
  return eventually(
    () => app.inject({ url }),
    (res) => res.statusCode === 503,
    {
      what: `${url} answering 503 after the event loop was blocked`,
      withinMs: 3000,
      everyMs: 50,
      describe: (res) => `${res.statusCode} ${res.body}`,
    },
  )
}

t.test('an overloaded process sheds load with 503 and Retry-After', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const h = await startApp(t, db, { MAX_EVENT_LOOP_DELAY_MS: '10' })
  const res = await askWhileOverloaded(h.app, '/api/v1/integrations/providers')
  t.equal(res.statusCode, 503)
  t.match(res.json(), { statusCode: 503, code: 'OVERLOADED', message: /overloaded/ })
  t.equal(res.headers['retry-after'], '5')
})

t.test('readiness under load shedding answers 503 in the error shape, not a serializer failure', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const h = await startApp(t, db, { MAX_EVENT_LOOP_DELAY_MS: '10' })
  const res = await askWhileOverloaded(h.app, '/health/ready')
  t.equal(res.statusCode, 503)
  t.match(res.json(), { statusCode: 503, code: 'OVERLOADED' })
  t.notOk(
    h.logs.some((l) => l.includes('serializer')),
    'no serializer failure logged',
  )
})
