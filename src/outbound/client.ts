import { isIP } from 'node:net'
import type { Agent, Dispatcher } from 'undici'
import { isRefusedAddress } from './address-policy.js'
import { urlHostKey } from './allowed-hosts.js'
import { guardedConnector, openConnector } from './guarded-connector.js'
import { OutboundError } from './outbound-error.js'
import { discardBody, readBody } from './read-body.js'
import { isRedirect, nextHop, type Hop } from './redirects.js'
import { originOf, parseRequestUrl } from './request-url.js'
import { addressRefused, toOutboundError } from './transport-errors.js'
import type { OutboundClient, OutboundClientOptions, OutboundRequest, OutboundResponse } from './types.js'

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024

interface Settings {
  timeoutMs: number
  maxResponseBytes: number
  allowedHosts: ReadonlySet<string>
}

export function createOutboundClient(opts: OutboundClientOptions): OutboundClient {
  const settings: Settings = {
    timeoutMs: positive(opts.timeoutMs, 'timeoutMs'),
    maxResponseBytes: positive(opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes'),
    allowedHosts: opts.allowedHosts ?? new Set(),
  }
  const agentOptions = { headersTimeout: settings.timeoutMs, bodyTimeout: settings.timeoutMs }
  // undici is loaded on the first outbound request: most requests never call a provider, and loading it was a
  // tenth of the start's CPU.
  let agents: Promise<{ configured: Agent; user: Agent }> | undefined
  const agentsOnce = () =>
    (agents ??= import('undici').then(({ Agent, buildConnector }) => {
      const connectorOptions = {
        build: buildConnector,
        timeoutMs: settings.timeoutMs,
        lookup: opts.lookup,
        allowedHosts: settings.allowedHosts,
        ca: opts.ca,
      }
      return {
        configured: new Agent({ ...agentOptions, connect: openConnector(connectorOptions) }),
        user: new Agent({ ...agentOptions, connect: guardedConnector(connectorOptions) }),
      }
    }))

  return {
    request: async (req) => {
      const { configured, user } = await agentsOnce()
      return send(req.target === 'user' ? user : configured, req, settings)
    },
    close: async () => {
      if (!agents) return
      const { configured, user } = await agents
      await Promise.all([configured.close(), user.close()])
    },
  }
}

async function send(agent: Agent, req: OutboundRequest, settings: Settings): Promise<OutboundResponse> {
  const url = parseRequestUrl(req.url)
  const host = urlHostKey(url)
  if (req.secretOrigin !== undefined && originOf(req.secretOrigin) !== url.origin) {
    throw new OutboundError(
      'SECRET_ORIGIN_MISMATCH',
      `The stored credential belongs to another host than ${host}; enter it again for this host`,
      { host },
    )
  }
  if (req.target === 'user' && refusedLiteral(url, settings.allowedHosts)) throw addressRefused(host)

  const deadline = new AbortController()
  // undici only acts on an abort once a connection exists and its own timers
  // are coarse, so the deadline also settles the promise itself.
  const expired = new Promise<never>((_resolve, reject) => {
    deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason as Error), { once: true })
  })
  const timer = setTimeout(() => deadline.abort(), settings.timeoutMs)
  try {
    const first: Hop = { url, method: req.method ?? 'GET', headers: req.headers ?? {}, body: req.body }
    return await Promise.race([exchange(agent, first, host, settings, deadline.signal), expired])
  } catch (err) {
    throw toOutboundError(err, { host, timedOut: deadline.signal.aborted, timeoutMs: settings.timeoutMs })
  } finally {
    clearTimeout(timer)
  }
}

async function exchange(agent: Agent, first: Hop, host: string, settings: Settings, signal: AbortSignal): Promise<OutboundResponse> {
  let hop = first
  for (let followed = 0; ; followed++) {
    const res = await agent.request({
      origin: hop.url.origin,
      path: `${hop.url.pathname}${hop.url.search}`,
      method: hop.method,
      headers: hop.headers,
      body: hop.body,
      signal,
    })
    const headers = flattenHeaders(res.headers)
    if (!isRedirect(res.statusCode, headers.location)) {
      const body = await readBody(res.body, settings.maxResponseBytes, headers['content-length'], host)
      return toResponse(res.statusCode, headers, body.toString('utf8'), hop.url, host)
    }
    await discardBody(res.body)
    hop = nextHop(hop, res.statusCode, headers.location, followed, host)
  }
}

function toResponse(status: number, headers: Record<string, string>, body: string, url: URL, host: string): OutboundResponse {
  return {
    status,
    headers,
    body,
    url: url.href,
    json: () => {
      try {
        return JSON.parse(body) as unknown
      } catch {
        throw new SyntaxError(`The response from ${host} is not valid JSON`)
      }
    },
  }
}

function flattenHeaders(raw: Dispatcher.ResponseData['headers']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw)
      .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
      .map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]),
  )
}

function refusedLiteral(url: URL, allowedHosts: ReadonlySet<string>): boolean {
  const bare = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return isIP(bare) !== 0 && isRefusedAddress(bare) && !allowedHosts.has(urlHostKey(url))
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`)
  return value
}
