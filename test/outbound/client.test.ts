import { createServer, type IncomingMessage, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createOutboundClient, OutboundError, type OutboundClientOptions } from '../../src/outbound/index.js'

interface Teardown {
  teardown(fn: () => unknown): void
}
interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

async function startDouble(t: Teardown, handler: RequestListener) {
  const received: Received[] = []
  let connections = 0
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }))
    handler(req, res)
  })
  server.on('connection', () => {
    connections++
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    received,
    get connections() {
      return connections
    },
  }
}

function client(t: Teardown, opts: Partial<OutboundClientOptions> = {}) {
  const c = createOutboundClient({ timeoutMs: 2000, ...opts })
  t.teardown(() => c.close())
  return c
}

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof OutboundError) return err
    throw err
  }
  throw new Error('expected the request to fail')
}

const token = 'Bearer glpat-s3cret-value-42'

t.test('sends method, headers and body, and returns lower-cased response headers', async (t) => {
  const double = await startDouble(t, (_req, res) => {
    res.setHeader('X-Request-Id', 'abc')
    res.setHeader('X-Multi', ['a', 'b'])
    res.setHeader('Content-Type', 'application/json')
    res.end('{"id":7}')
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
    { method: 'POST', url: '/api/v4/projects?per_page=1', body: '{"name":"x"}', headers: { authorization: token } },
  ])
})

t.test('returns non-2xx statuses as responses, not errors', async (t) => {
  const double = await startDouble(t, (_req, res) => {
    res.statusCode = 401
    res.end('{"message":"401 Unauthorized"}')
  })
  const res = await client(t).request({ url: double.origin, target: 'configured' })
  t.equal(res.status, 401)
  t.equal(res.body, '{"message":"401 Unauthorized"}')
})

t.test('json() on a non-JSON body throws a SyntaxError that does not quote the body', async (t) => {
  const double = await startDouble(t, (_req, res) => res.end('<html>secret-page</html>'))
  const res = await client(t).request({ url: double.origin, target: 'configured' })
  const err = t.throws(() => res.json(), SyntaxError) as Error
  t.notMatch(err.message, 'secret-page')
})

t.test('refuses invalid URLs without echoing them and sends nothing', async (t) => {
  const double = await startDouble(t, (_req, res) => res.end())
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
  const double = await startDouble(t, (req, res) => {
    if (req.url === '/old') res.writeHead(301, { Location: '/moved' }).end()
    else if (req.url === '/moved') res.writeHead(302, { Location: `http://127.0.0.1:${req.socket.localPort ?? 0}/final?x=1` }).end()
    else res.end('arrived')
  })
  const res = await client(t).request({ url: `${double.origin}/old`, headers: { Authorization: token }, target: 'configured' })
  t.equal(res.status, 200)
  t.equal(res.body, 'arrived')
  t.equal(res.url, `${double.origin}/final?x=1`)
  t.same(
    double.received.map((r) => r.url),
    ['/old', '/moved', '/final?x=1'],
  )
  t.ok(double.received.every((r) => r.headers.authorization === token))
})

t.test('turns a POST into a GET without body on 303, and keeps it on 307', async (t) => {
  const double = await startDouble(t, (req, res) => {
    if (req.url === '/see-other') res.writeHead(303, { Location: '/result' }).end()
    else if (req.url === '/temporary') res.writeHead(307, { Location: '/result' }).end()
    else res.end()
  })
  const c = client(t)
  const post = { method: 'POST' as const, body: 'payload', headers: { 'Content-Type': 'text/plain' }, target: 'configured' as const }
  await c.request({ ...post, url: `${double.origin}/see-other` })
  await c.request({ ...post, url: `${double.origin}/temporary` })
  t.match(double.received, [
    { url: '/see-other', method: 'POST' },
    { url: '/result', method: 'GET', body: '' },
    { url: '/temporary', method: 'POST' },
    { url: '/result', method: 'POST', body: 'payload' },
  ])
  t.notOk(double.received[1]?.headers['content-type'])
})

t.test('refuses a redirect whose Location is not a URL', async (t) => {
  const double = await startDouble(t, (_req, res) => res.writeHead(302, { Location: 'http://[broken' }).end())
  const err = await failure(client(t).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'REDIRECT_REFUSED')
  t.equal(err.targetOrigin, undefined)
})

t.test('stops after three redirects', async (t) => {
  const double = await startDouble(t, (_req, res) => res.writeHead(302, { Location: '/again' }).end())
  const err = await failure(client(t).request({ url: `${double.origin}/start`, target: 'configured' }))
  t.equal(err.code, 'REDIRECT_REFUSED')
  t.equal(double.received.length, 4)
})

t.test('refuses a redirect to another origin without contacting it or leaking the credential', async (t) => {
  const other = await startDouble(t, (_req, res) => res.end('stolen'))
  const double = await startDouble(t, (_req, res) =>
    res.writeHead(302, { Location: `${other.origin}/collect?leak=${encodeURIComponent(token)}` }).end(),
  )
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
  const double = await startDouble(t, (_req, res) => res.end('ok'))
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
  const double = await startDouble(t, () => {})
  const start = Date.now()
  const err = await failure(client(t, { timeoutMs: 200 }).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'TIMEOUT')
  t.ok(Date.now() - start < 1500, 'gave up near the deadline')
})

t.test('times out a body that keeps dripping past the deadline', async (t) => {
  const double = await startDouble(t, (_req, res) => {
    res.writeHead(200)
    const drip = setInterval(() => res.write('.'), 50)
    setTimeout(() => {
      clearInterval(drip)
      res.end()
    }, 2000)
    res.on('close', () => clearInterval(drip))
  })
  const err = await failure(client(t, { timeoutMs: 300 }).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'TIMEOUT')
})

t.test('aborts a body larger than maxResponseBytes while it streams', async (t) => {
  let closedByClient = false
  const double = await startDouble(t, (_req, res) => {
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
  })
  const err = await failure(
    client(t, { maxResponseBytes: 64 * 1024, timeoutMs: 5000 }).request({ url: double.origin, target: 'configured' }),
  )
  t.equal(err.code, 'RESPONSE_TOO_LARGE')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(closedByClient, 'the endless body was cut off')
})

t.test('refuses a declared Content-Length over the cap without waiting for the body', async (t) => {
  const double = await startDouble(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': 10_000_000 })
    res.write('x')
  })
  const err = await failure(client(t, { maxResponseBytes: 1000, timeoutMs: 5000 }).request({ url: double.origin, target: 'configured' }))
  t.equal(err.code, 'RESPONSE_TOO_LARGE')
})

t.test('caps bodies at 1 MiB by default', async (t) => {
  const mib = 1024 * 1024
  const double = await startDouble(t, (req, res) => res.end(Buffer.alloc(req.url === '/exact' ? mib : mib + 1, 'y')))
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
