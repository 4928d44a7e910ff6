import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { startApp, testEnv } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/databases.js'
import { startServer, within } from '../helpers/processes.js'
import { listening, rawExchange } from '../helpers/raw-http.js'

const SECRET = 'ghp_querySecret0123456789'
const SHAPE = ['code', 'error', 'message', 'statusCode']

t.test('answers of the app', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const h = await startApp(t, db)
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }

  t.test('unknown routes answer 404 in the error shape, without echoing the path or query', async (t) => {
    for (const url of [
      `/nowhere-${SECRET}?token=${SECRET}`,
      `/api/v1/nowhere?${SECRET}=1`,
      `/api/v1/integrations/nowhere/x/y?q=${SECRET}`,
    ]) {
      for (const method of ['GET', 'POST', 'DELETE'] as const) {
        const res = await h.app.inject({ method, url, headers: { ...owner, 'x-request-id': 'unknown-route' } })
        t.equal(res.statusCode, 404, `${method} ${url}`)
        t.same(Object.keys(res.json()).sort(), SHAPE)
        t.match(res.json(), { statusCode: 404, error: 'Not Found', code: 'ROUTE_NOT_FOUND' })
        t.notOk(res.body.includes(SECRET) || res.body.includes('nowhere'), 'neither path nor query is echoed')
        t.equal(res.headers['x-request-id'], 'unknown-route')
        t.equal(res.headers['x-content-type-options'], 'nosniff')
      }
    }
  })

  t.test('no error message echoes the query string, names included', async (t) => {
    const base = '/api/v1/integrations/scm'
    for (const query of [
      `tenantId=${tenantId}&${SECRET}=1`,
      `tenantId=${tenantId}&${SECRET}`,
      `tenantId=${tenantId}&limit=${SECRET}`,
      `tenantId=${SECRET}!`,
      `tenantId=${tenantId}&cursor=${SECRET}`,
      `tenantId=${tenantId}&scmType=${SECRET}`,
      `tenantId=${tenantId}&isActive=${SECRET}`,
    ]) {
      for (const url of [`${base}?${query}`, `/api/v1/integrations?${query}`, `${base}/${SECRET}?${query}`]) {
        const res = await h.app.inject({ url, headers: owner })
        t.equal(res.statusCode, 400, url)
        t.match(res.json(), { statusCode: 400, code: 'INVALID_FIELD', message: /^(querystring|params)/ }, url)
        t.notOk(res.body.includes(SECRET), `${url}: not echoed`)
      }
    }
  })
})

t.test('an unplanned failure answers 500 INTERNAL_ERROR without its message', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const app = await buildApp({ config: loadConfig(testEnv(t, db)), logger: false })
  t.teardown(() => app.close())
  app.get('/boom', async () => {
    throw new Error(`driver detail ${SECRET}`)
  })
  const res = await app.inject({ url: '/boom' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error', code: 'INTERNAL_ERROR' })
})

t.test('what Node refuses before Fastify sees a request is answered in the error shape', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const server = await startServer(t, db, { REQUEST_TIMEOUT_MS: '1000' })
  await listening(server)

  t.test('headers over the size limit: 431 HEADERS_TOO_LARGE', async (t) => {
    const answer = await within(
      rawExchange(server.port, [`GET /health/live?q=${SECRET} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]),
      10_000,
      'the 431',
    )
    t.equal(answer.status, 431, answer.text.slice(0, 200))
    t.same(Object.keys(answer.body as object).sort(), SHAPE)
    t.match(answer.body, { statusCode: 431, error: 'Request Header Fields Too Large', code: 'HEADERS_TOO_LARGE' })
    t.match(answer.headers['content-type'], /^application\/json/)
    t.equal(answer.headers['x-content-type-options'], 'nosniff')
    t.equal(answer.headers.connection, 'close')
    t.notOk(answer.text.includes(SECRET))
  })

  t.test('a request not received within REQUEST_TIMEOUT_MS: 408 REQUEST_TIMEOUT', async (t) => {
    const answer = await within(
      // Node checks request timeouts every 30 s unless told otherwise: allow that much here.
      rawExchange(server.port, [`GET /health/live?q=${SECRET} HTTP/1.1\r\nHost: x\r\n`, 40_000, '\r\n']),
      45_000,
      'the 408',
    )
    t.equal(answer.status, 408, answer.text.slice(0, 200))
    t.same(Object.keys(answer.body as object).sort(), SHAPE)
    t.match(answer.body, { statusCode: 408, error: 'Request Timeout', code: 'REQUEST_TIMEOUT' })
    t.equal(answer.headers['x-content-type-options'], 'nosniff')
    t.notOk(answer.text.includes(SECRET))
  })

  t.test('a request that is not HTTP: 400 BAD_REQUEST', async (t) => {
    for (const raw of ['NOT HTTP AT ALL\r\n\r\n', `GET /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: ${SECRET}\r\n\r\n`]) {
      const answer = await within(rawExchange(server.port, [raw]), 10_000, 'the 400')
      t.equal(answer.status, 400, answer.text.slice(0, 200))
      t.same(Object.keys(answer.body as object).sort(), SHAPE)
      t.match(answer.body, { statusCode: 400, error: 'Bad Request', code: 'BAD_REQUEST' })
      t.notOk(answer.text.includes(SECRET))
    }
  })

  t.test('the server stops cleanly and logged nothing as an error', async (t) => {
    server.child.kill('SIGTERM')
    t.equal((await within(server.exited, 30_000, 'SIGTERM shutdown')).code, 0)
    t.same(
      server.logs().filter((l) => l.level >= 50),
      [],
    )
  })
})
