import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, LookupFunction } from 'node:net'
import type { Config } from '../../src/config/load-config.js'
import { createOutboundClient, OutboundError, type OutboundClient, type OutboundClientOptions } from '../../src/outbound/index.js'
import type { VerifyContext } from '../../src/verification/types.js'
import { localhostCertificate, type TestCertificate } from './tls.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface ReceivedRequest {
  method: string
  /** Path and query exactly as sent, e.g. `/api/v4/projects/group%2Fproject`. */
  path: string
  headers: IncomingHttpHeaders
  /** The request body as text; empty when there was none. */
  body: string
}

export interface Reply {
  status?: number
  /** An array sends the header once per value. */
  headers?: Record<string, string | string[]>
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown
  /**
   * Writes the response itself, for what status, headers and body cannot say: a body that drips or
   * never ends, a Content-Length the body does not keep. The other fields are then ignored.
   */
  respond?: (res: ServerResponse) => void
}

/** A reply, a reply computed from the request, or `'hang'` to accept the request and never answer. */
export type Route = Reply | 'hang' | ((request: ReceivedRequest) => Reply | 'hang')

export interface ProviderDouble {
  /** `http(s)://<hostname>:<port>`; the server itself listens on 127.0.0.1 only. */
  origin: string
  port: number
  /** Every request received, in order, whether or not a route matched. */
  received: ReceivedRequest[]
  readonly connections: number
  /** Scripts the answer to `METHOD path` (path with its query); unscripted requests get a 404. */
  on(method: string, path: string, route: Route): ProviderDouble
  /** Scripts the answer to every request no `on` script matches, instead of the 404. */
  otherwise(route: Route): ProviderDouble
}

export interface DoubleOptions {
  /** Serve https with this certificate. */
  tls?: TestCertificate
  /** Host name used in `origin`; resolve it to 127.0.0.1 with `loopbackLookup`. Default 127.0.0.1. */
  hostname?: string
}

/** A scriptable stand-in for a provider's API on a loopback port, closed at teardown. */
export async function startProviderDouble(t: Teardown, options: DoubleOptions = {}): Promise<ProviderDouble> {
  const routes = new Map<string, Route>()
  let fallback: Route = { status: 404, body: { message: 'Not Found' } }
  const received: ReceivedRequest[] = []
  let connections = 0

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: '' }
    received.push(request)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      request.body = Buffer.concat(chunks).toString('utf8')
      const route = routes.get(`${request.method} ${request.path}`) ?? fallback
      const reply = replyTo(route, request)
      if (reply === 'hang') return
      if (reply.respond) reply.respond(res)
      else send(res, reply)
    })
  }
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle) : createHttpServer(handle)
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
  const double: ProviderDouble = {
    origin: `${options.tls ? 'https' : 'http'}://${options.hostname ?? '127.0.0.1'}:${port}`,
    port,
    received,
    get connections() {
      return connections
    },
    on(method, path, route) {
      routes.set(`${method} ${path}`, route)
      return double
    },
    otherwise(route) {
      fallback = route
      return double
    },
  }
  return double
}

/** What `route` answers to `request`: for wrapping one route in another. */
export function replyTo(route: Route, request: ReceivedRequest): Reply | 'hang' {
  return typeof route === 'function' ? route(request) : route
}

export interface Hold {
  /** `route`, except that its answers wait (up to the hold's count of requests) until `release()`. */
  route(route: Route): Route
  /** Resolves once `n` requests are held: their provider calls are in flight. */
  arrived(n?: number): Promise<void>
  /** Sends the held answers; later requests are answered at once. */
  release(): void
}

/**
 * A provider that keeps the caller waiting until the test says: for what happens while a provider call is in
 * flight. Holds the first `count` requests made through any route it wraps; the rest are answered at once.
 */
export function hold(count = Infinity): Hold {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let held = 0
  const waiting: Array<{ n: number; resolve: () => void }> = []
  return {
    route: (route) => (request) => {
      const reply = replyTo(route, request)
      if (reply === 'hang' || held >= count) return reply
      held++
      for (const waiter of waiting.filter((w) => held >= w.n)) waiter.resolve()
      return { respond: (res) => void released.then(() => (reply.respond ? reply.respond(res) : send(res, reply))) }
    },
    arrived: (n = 1) => (held >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve }))),
    release,
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === 'string' ? reply.body : undefined
  const json = reply.body !== undefined && text === undefined
  const body = text ?? (json ? JSON.stringify(reply.body) : '')
  res.writeHead(reply.status ?? 200, { ...(json ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...reply.headers })
  res.end(body)
}

/** What a double was asked, as `METHOD path` in order. */
export function calls(double: ProviderDouble): string[] {
  return double.received.map((r) => `${r.method} ${r.path}`)
}

/** Resolves every given name to 127.0.0.1 and nothing else, like a DNS that knows only these names. */
export function loopbackLookup(...names: string[]): LookupFunction {
  return (hostname, options, callback) => {
    if (!names.includes(hostname)) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), [])
    } else if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }])
    else callback(null, '127.0.0.1', 4)
  }
}

export interface ContextOptions {
  apis?: Partial<Config['providerApis']>
  timeoutMs?: number
  allowedHosts?: string[]
  ca?: string[]
  lookup?: LookupFunction
}

/** A verify context with a real guarded client; APIs not given point at a closed port. */
export function verifyContext(t: Teardown, options: ContextOptions = {}): VerifyContext {
  const unused = 'http://127.0.0.1:9'
  const http = createOutboundClient({
    timeoutMs: options.timeoutMs ?? 3000,
    allowedHosts: new Set(options.allowedHosts ?? []),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  })
  t.teardown(() => http.close())
  return {
    http,
    apis: { github: unused, bitbucket: unused, slack: unused, appStore: unused, googleToken: unused, play: unused, ...options.apis },
  }
}

export interface UserHostOptions {
  /** More doubles on the same host name, allow-listed like the first: somewhere a redirect could lead. */
  others?: number
  /** The host name in the doubles' origins, resolved to 127.0.0.1. Default `localhost`, the name the test certificate is for. */
  hostname?: string
  /** Allow-list the doubles' host:port (the default); `false` leaves them to the address policy, which refuses loopback. */
  allowListed?: boolean
  /** More allow-list entries. */
  allowedHosts?: string[]
  /** The configured provider APIs, as for `verifyContext`. */
  apis?: Partial<Config['providerApis']>
  timeoutMs?: number
}

export interface UserHost {
  double: ProviderDouble
  others: ProviderDouble[]
  context: VerifyContext
}

/**
 * https doubles at a host a tenant gives (GitLab, Jenkins, Jira, Checkmate, GitHub Enterprise), and a verify
 * context that trusts the test certificate, resolves the host name to loopback and, since the address policy
 * refuses loopback for user targets, allow-lists the doubles.
 */
export async function userHost(t: Teardown, options: UserHostOptions = {}): Promise<UserHost> {
  const tls = await localhostCertificate()
  const hostname = options.hostname ?? 'localhost'
  const double = await startProviderDouble(t, { tls, hostname })
  const others: ProviderDouble[] = []
  for (let i = 0; i < (options.others ?? 0); i++) others.push(await startProviderDouble(t, { tls, hostname }))
  const listed = options.allowListed === false ? [] : [double, ...others].map((d) => `${hostname}:${d.port}`)
  const context = verifyContext(t, {
    apis: options.apis,
    timeoutMs: options.timeoutMs,
    allowedHosts: [...listed, ...(options.allowedHosts ?? [])],
    ca: [tls.cert],
    lookup: loopbackLookup(hostname),
  })
  return { double, others, context }
}

/** A guarded outbound client, closed at teardown; the timeout defaults to 2 s. */
export function outboundClient(t: Teardown, options: Partial<OutboundClientOptions> = {}): OutboundClient {
  const client = createOutboundClient({ timeoutMs: 2000, ...options })
  t.teardown(() => client.close())
  return client
}

/** The OutboundError a request fails with; fails when it succeeds or fails otherwise. */
export async function outboundFailure(promise: Promise<unknown>): Promise<OutboundError> {
  const err = await rejection(promise)
  if (err instanceof OutboundError) return err
  throw err
}

/** A fresh random token, so a test can search every output for it. */
export function testToken(prefix: string): string {
  return `${prefix}${randomBytes(20).toString('hex')}`
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}
