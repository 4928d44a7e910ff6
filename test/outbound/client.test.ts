import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { outboundClient as client, outboundFailure as failure, startProviderDouble } from '../helpers/provider-double.js'

const token = 'Bearer glpat-s3cret-value-42'

t.test('sends method, headers and body, and returns lower-cased response headers', async (t) => {
  const double = await startProviderDouble(t)
  double.on('POST', '/api/v4/projects?per_page=1', {
    headers: { 'X-Request-Id': 'abc', 'X-Multi': ['a', 'b'], 'Content-Type': 'application/json' },
    body: '{"id":7}',
  })
  const res = await client(t).request({
    url: `${double.origin}/api/v4/projects?per_page=1`,
    method: 'POST',
    headers: { Authorization: token, 'Content-Type': 'application/json' },
    body: '{"name":"x"}',
    target: 'configured',
  })
  t.equal(res.status, 200)
  t.equal(res.headers['x-request-id'], 'abc')
  t.equal(res.headers['x-multi'], 'a, b')
  t.notOk('X-Request-Id' in res.headers)
  t.same(res.json(), { id: 7 })
  t.equal(res.url, `${double.origin}/api/v4/projects?per_page=1`)
  t.match(double.received, [
    { method: 'POST', path: '/api/v4/projects?per_page=1', body: '{"name":"x"}', headers: { authorization: token } },
  ])
  t.equal(double.received.length, 1, 'one request, no retry')
})

t.test('returns non-2xx statuses as responses, not errors', async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/', { status: 401, body: '{"message":"401 Unauthorized"}' })
  const res = await client(t).request({ url: double.origin, target: 'configured' })
  t.equal(res.status, 401)
  t.equal(res.body, '{"message":"401 Unauthorized"}')
})

t.test('json() on a non-JSON body throws a SyntaxError that does not quote the body', async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/', { body: '<html>secret-page</html>' })
  const res = await client(t).request({ url: double.origin, target: 'configured' })
  const err = t.throws(() => res.json(), SyntaxError) as Error
  t.notMatch(err.message, 'secret-page')
})

t.test('refuses invalid URLs without echoing them and sends nothing', async (t) => {
  const double = await startProviderDouble(t)
  const c = client(t)
  for (const url of [
    `http://user:hunter2@127.0.0.1:${double.port}/`,
    `http://hunter2@127.0.0.1:${double.port}/`,
    `ftp://127.0.0.1:${double.port}/hunter2`,
    'hunter2 is not a url',
    `file:///etc/hunter2`,
  ]) {
    for (const target of ['configured', 'user'] as const) {
      const err = await failure(c.request({ url, target }))
      t.equal(err.code, 'INVALID_URL', url)
      t.notMatch(JSON.stringify(err) + err.message, 'hunter2')
    }
  }
  t.equal(double.connections, 0)
})

t.test('follows same-origin redirects, keeping the credential', async (t) => {
  const double = await startProviderDouble(t)
  double
    .on('GET', '/old', { status: 301, headers: { Location: '/moved' } })
    .on('GET', '/moved', { status: 302, headers: { Location: `${double.origin}/final?x=1` } })
    .on('GET', '/final?x=1', { body: 'arrived' })
  const res = await client(t).request({ url: `${double.origin}/old`, headers: { Authorization: token }, target: 'configured' })
  t.equal(res.status, 200)
  t.equal(res.body, 'arrived')
  t.equal(res.url, `${double.origin}/final?x=1`)
  t.same(
    double.received.map((r) => r.path),
    ['/old', '/moved', '/final?x=1'],
  )
  t.ok(double.received.every((r) => r.headers.authorization === token))
})

t.test('turns a POST into a GET without body on 303, and keeps it on 307', async (t) => {
  const double = await startProviderDouble(t)
  double
    .on('POST', '/see-other', { status: 303, headers: { Location: '/result' } })
    .on('POST', '/temporary', { status: 307, headers: { Location: '/result' } })
    .on('GET', '/result', {})
    .on('POST', '/result', {})
  const c = client(t)
  const post = { method: 'POST' as const, body: 'payload', headers: { 'Content-Type': 'text/plain' }, target: 'configured' as const }
  await c.request({ ...post, url: `${double.origin}/see-other` })
  await c.request({ ...post, url: `${double.origin}/temporary` })
  t.match(double.received, [
    { path: '/see-other', method: 'POST' },
    { path: '/result', method: 'GET', body: '' },
    { path: '/temporary', method: 'POST' },
    { path: '/result', method: 'POST', body: 'payload' },
  ])
  t.equal(double.received.length, 4, 'one hop each, nothing more')
  t.notOk(double.received[1]?.headers['content-type'])
})

t.test('refuses a redirect whose Location is not a URL', async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/', { status: 302, headers: { Location: 'http://[broken' } })
  const err = await failure(client(t).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'REDIRECT_REFUSED')
  t.equal(err.targetOrigin, undefined)
})

t.test('stops after three redirects', async (t) => {
  const double = await startProviderDouble(t)
  double
    .on('GET', '/start', { status: 302, headers: { Location: '/again' } })
    .on('GET', '/again', { status: 302, headers: { Location: '/again' } })
  const err = await failure(client(t).request({ url: `${double.origin}/start`, target: 'configured' }))
  t.equal(err.code, 'REDIRECT_REFUSED')
  t.equal(double.received.length, 4)
})

t.test('refuses a redirect to another origin without contacting it or leaking the credential', async (t) => {
  const other = await startProviderDouble(t)
  other.on('GET', `/collect?leak=${encodeURIComponent(token)}`, { body: 'stolen' })
  const double = await startProviderDouble(t)
  double.on('GET', '/login', { status: 302, headers: { Location: `${other.origin}/collect?leak=${encodeURIComponent(token)}` } })
  for (const target of ['configured', 'user'] as const) {
    const c = client(t, { allowedHosts: new Set([`127.0.0.1:${double.port}`, `127.0.0.1:${other.port}`]) })
    const err = await failure(
      c.request({ url: `${double.origin}/login`, headers: { Authorization: token, 'PRIVATE-TOKEN': 'glpat-xyz' }, target }),
    )
    t.equal(err.code, 'REDIRECT_REFUSED')
    t.equal(err.status, 302)
    t.equal(err.targetOrigin, other.origin)
    const shown = `${err.message} ${JSON.stringify(err)} ${err.stack ?? ''}`
    t.notMatch(shown, 's3cret')
    t.notMatch(shown, 'glpat')
    t.notMatch(shown, 'collect')
  }
  t.equal(other.connections, 0)
})

t.test("refuses to send when the URL is not on the secret's origin", async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/user', { body: 'ok' })
  const c = client(t)
  const err = await failure(
    c.request({
      url: `${double.origin}/user`,
      headers: { Authorization: token },
      target: 'configured',
      secretOrigin: 'https://gitlab.example.com',
    }),
  )
  t.equal(err.code, 'SECRET_ORIGIN_MISMATCH')
  t.notMatch(err.message, 's3cret')
  t.equal(double.connections, 0)

  const unparsable = await failure(c.request({ url: `${double.origin}/user`, target: 'configured', secretOrigin: 'not an origin' }))
  t.equal(unparsable.code, 'SECRET_ORIGIN_MISMATCH')
  t.equal(double.connections, 0)

  const res = await c.request({
    url: `${double.origin}/user`,
    headers: { Authorization: token },
    target: 'configured',
    secretOrigin: `${double.origin}/`,
  })
  t.equal(res.status, 200)
})

t.test('times out a provider that never answers', async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/', 'hang')
  const start = Date.now()
  const err = await failure(client(t, { timeoutMs: 200 }).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'TIMEOUT')
  t.ok(Date.now() - start < 1500, 'gave up near the deadline')
})

t.test('times out a body that keeps dripping past the deadline', async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/', {
    respond: (res) => {
      res.writeHead(200)
      const drip = setInterval(() => res.write('.'), 50)
      setTimeout(() => {
        clearInterval(drip)
        res.end()
      }, 2000)
      res.on('close', () => clearInterval(drip))
    },
  })
  const err = await failure(client(t, { timeoutMs: 300 }).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'TIMEOUT')
})

t.test('aborts a body larger than maxResponseBytes while it streams', async (t) => {
  let closedByClient = false
  const double = await startProviderDouble(t)
  double.on('GET', '/', {
    respond: (res) => {
      res.writeHead(200)
      const chunk = Buffer.alloc(16 * 1024, 'x')
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
      }
      res.on('drain', pump)
      res.on('close', () => {
        closedByClient = true
      })
      pump()
    },
  })
  const err = await failure(
    client(t, { maxResponseBytes: 64 * 1024, timeoutMs: 5000 }).request({ url: double.origin, target: 'configured' }),
  )
  t.equal(err.code, 'RESPONSE_TOO_LARGE')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(closedByClient, 'the endless body was cut off')
})

t.test('refuses a declared Content-Length over the cap without waiting for the body', async (t) => {
  const double = await startProviderDouble(t)
  double.on('GET', '/', {
    respond: (res) => {
      res.writeHead(200, { 'Content-Length': 10_000_000 })
      res.write('x')
    },
  })
  const err = await failure(client(t, { maxResponseBytes: 1000, timeoutMs: 5000 }).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'RESPONSE_TOO_LARGE')
})

t.test('caps bodies at 1 MiB by default', async (t) => {
  const mib = 1024 * 1024
  const double = await startProviderDouble(t)
  double.on('GET', '/exact', { body: 'y'.repeat(mib) }).on('GET', '/over', { body: 'y'.repeat(mib + 1) })
  const c = client(t)
  t.equal((await c.request({ url: `${double.origin}/exact`, target: 'configured' })).body.length, mib)
  t.equal((await failure(c.request({ url: `${double.origin}/over`, target: 'configured' }))).code, 'RESPONSE_TOO_LARGE')
})

t.test('reports a closed port as unreachable', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  const err = await failure(client(t).request({ url: `http://127.0.0.1:${port}/`, target: 'configured' }))
  t.equal(err.code, 'UNREACHABLE')
  t.equal(err.message, `Could not connect to 127.0.0.1:${port}`)
})
