import type { LookupFunction } from 'node:net'

export interface OutboundClientOptions {
  /** Bounds connecting, and separately the whole exchange: headers, body and redirects. */
  timeoutMs: number
  /** Default 1 MiB. */
  maxResponseBytes?: number
  /** Exact `host:port` entries exempt from the address policy; see parseAllowedHosts. */
  allowedHosts?: ReadonlySet<string>
  /** Extra CA certificates (PEM) to trust, e.g. a self-managed GitLab's internal CA. */
  ca?: readonly string[]
  /** Same signature as dns.lookup; must honour `all: true`. For tests. */
  lookup?: LookupFunction
}

export type OutboundMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD'

export interface OutboundRequest {
  url: string | URL
  method?: OutboundMethod
  headers?: Record<string, string>
  body?: string
  /** 'configured': an operator-set API base. 'user': a host from a tenant's integration. */
  target: 'configured' | 'user'
  /** Origin the request's stored secret belongs to; any other origin is refused before sending. */
  secretOrigin?: string
}

export interface OutboundResponse {
  status: number
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>
  body: string
  /** Final URL after same-origin redirects. */
  url: string
  /** Parses the body; on bad JSON throws a SyntaxError whose message never quotes the body. */
  json(): unknown
}

export interface OutboundClient {
  request(req: OutboundRequest): Promise<OutboundResponse>
  close(): Promise<void>
}
