import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/databases.js'

const DOCUMENTATION = ['/documentation', '/documentation/', '/documentation/static/swagger-ui.css', '/documentation/json']
const SECURE_ONLY = ['cross-origin-opener-policy', 'origin-agent-cluster', 'strict-transport-security']

const directives = (csp: unknown) =>
  String(csp)
    .split(';')
    .map((d) => d.trim())

t.test('API answers keep the strict headers', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const { app } = await startApp(t, db, { TRUST_PROXY: 'true' })
  for (const [url, status] of [
    ['/health/live', 200],
    ['/api/v1/integrations/scm?tenantId=x', 401],
    ['/documentation-not', 404],
  ] as const) {
    for (const proto of ['http', 'https']) {
      const res = await app.inject({ url, headers: { 'x-forwarded-proto': proto } })
      const name = `${url} over ${proto}`
      t.equal(res.statusCode, status, name)
      const csp = directives(res.headers['content-security-policy'])
      for (const directive of ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", 'upgrade-insecure-requests']) {
        t.ok(csp.includes(directive), `${name}: ${directive}`)
      }
      t.equal(res.headers['cross-origin-opener-policy'], 'same-origin', name)
      t.match(res.headers['strict-transport-security'], /max-age=\d+/, name)
      t.equal(res.headers['x-content-type-options'], 'nosniff', name)
    }
  }
})

t.test('the documentation page runs over plain http, on any host', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const { app } = await startApp(t, db)
  for (const url of DOCUMENTATION) {
    const res = await app.inject({ url, headers: { host: 'integrations.dev.internal:8080' } })
    t.equal(res.statusCode, 200, url)
    const csp = directives(res.headers['content-security-policy'])
    t.notOk(csp.includes('upgrade-insecure-requests'), `${url}: its own calls are not sent to https`)
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "script-src-attr 'none'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ]) {
      t.ok(csp.includes(directive), `${url}: ${directive}`)
    }
    for (const header of SECURE_ONLY) t.notOk(header in res.headers, `${url}: no ${header}, which plain http cannot honour`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', url)
  }
})

t.test('behind a gateway that terminates TLS, the documentation page gets the secure-origin headers too', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const { app } = await startApp(t, db, { TRUST_PROXY: 'true' })
  for (const url of DOCUMENTATION) {
    const res = await app.inject({ url, headers: { 'x-forwarded-proto': 'https' } })
    t.equal(res.statusCode, 200, url)
    t.notOk(directives(res.headers['content-security-policy']).includes('upgrade-insecure-requests'), url)
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin', url)
    t.equal(res.headers['origin-agent-cluster'], '?1', url)
    t.match(res.headers['strict-transport-security'], /max-age=\d+/, url)
  }

  t.test('but not on the word of a client the service does not trust', async (t) => {
    const untrusting = await startApp(t, await createTestDatabase(t, 'sqlite'))
    const res = await untrusting.app.inject({ url: '/documentation/', headers: { 'x-forwarded-proto': 'https' } })
    for (const header of SECURE_ONLY) t.notOk(header in res.headers, header)
  })
})
