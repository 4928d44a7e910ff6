import type { TSchema } from '@sinclair/typebox'
import { errorResponses, withHeaders, type HeaderName } from './common-schemas.js'

/** What of a route decides which answers the layers around its handler can give. */
export interface RouteShape {
  method: string | string[]
  url: string
  /** The route may ask a provider, so it draws on the caller's rate limit (`config.callsProvider`). */
  rateLimited: boolean
  response: Record<string, TSchema>
}

const RATE_LIMIT_HEADERS: HeaderName[] = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

/**
 * The route's responses with the answers no handler writes but every client can get: 503 and
 * Retry-After from load shedding, 413 and 415 from the body parser on writes, 414 from the
 * router on a path with an id, 429 and the rate-limit headers where a limit applies, and
 * x-request-id on everything. Statuses a route declares itself are kept; only headers are added.
 */
export function withTransportResponses(route: RouteShape): Record<string, TSchema> {
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  const writes = methods.some((m) => m !== 'GET' && m !== 'HEAD')
  const extra = [503, ...(writes ? [413, 415] : []), ...(route.url.includes('/:') ? [414] : []), ...(route.rateLimited ? [429] : [])]
  const responses: Record<string, TSchema> = { ...errorResponses(...extra), ...route.response }
  return Object.fromEntries(
    Object.entries(responses).map(([code, schema]) => {
      const names: HeaderName[] = ['x-request-id']
      if (code === '429' || code === '503') names.push('retry-after')
      if (route.rateLimited && (code === '429' || code.startsWith('2'))) names.push(...RATE_LIMIT_HEADERS)
      return [code, withHeaders(schema, ...names)]
    }),
  )
}
