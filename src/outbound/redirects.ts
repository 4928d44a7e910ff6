import type { OutboundMethod } from './types.js'
import { OutboundError } from './outbound-error.js'

export const MAX_REDIRECTS = 3
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

export interface Hop {
  url: URL
  method: OutboundMethod
  headers: Record<string, string>
  body: string | undefined
}

export function isRedirect(status: number, location: string | undefined): location is string {
  return REDIRECT_STATUSES.has(status) && location !== undefined
}

/**
 * Follows only within the origin the request was checked for, so headers
 * carrying secrets never travel to another host.
 */
export function nextHop(hop: Hop, status: number, location: string, followed: number, host: string): Hop {
  let target: URL | undefined
  try {
    target = new URL(location, hop.url)
  } catch {
    target = undefined
  }
  if (target === undefined || target.origin !== hop.url.origin || target.username !== '' || target.password !== '') {
    const targetOrigin = target?.origin
    throw new OutboundError(
      'REDIRECT_REFUSED',
      `${host} answered ${status} with a redirect to another origin${targetOrigin ? ` (${targetOrigin})` : ''}; it was not followed`,
      { host, status, ...(targetOrigin ? { targetOrigin } : {}) },
    )
  }
  if (followed >= MAX_REDIRECTS) {
    throw new OutboundError('REDIRECT_REFUSED', `${host} redirected more than ${MAX_REDIRECTS} times`, {
      host,
      status,
      targetOrigin: target.origin,
    })
  }
  const becomesGet = hop.method !== 'HEAD' && (status === 303 || ((status === 301 || status === 302) && hop.method === 'POST'))
  if (!becomesGet) return { ...hop, url: target }
  return { url: target, method: 'GET', headers: withoutContentHeaders(hop.headers), body: undefined }
}

function withoutContentHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !/^content-/i.test(name)))
}
