import { FieldError } from '../../http/errors.js'

/** Public hosts that each belong to one provider: `www.` before them is the same site, and so is any subdomain. */
const PROVIDER_HOSTS: Record<string, string> = { 'github.com': 'GitHub', 'gitlab.com': 'GitLab', 'bitbucket.org': 'Bitbucket' }

const UNRESERVED = /^[A-Za-z0-9._~-]$/

/** The provider host `host` is, or lies under (api.github.com is GitHub's), if any. */
export function providerHost(host: string): { host: string; label: string } | undefined {
  const owner = Object.keys(PROVIDER_HOSTS).find((h) => host === h || host.endsWith(`.${h}`))
  return owner ? { host: owner, label: PROVIDER_HOSTS[owner]! } : undefined
}

/**
 * A URL a tenant gives for a host the service will call with a secret: https only, no
 * credentials, query or fragment. Problems name the field and show an example.
 *
 * Returned in canonical form, so one site has one spelling: the URL parser already lower-cases
 * the host, turns a Unicode host into its `xn--` form, drops the default port and resolves dot
 * segments; here a trailing dot after the host and `www.` before a provider host go, and percent
 * escapes of unreserved characters (`%61` = `a`) are decoded and the others written in upper case.
 * An empty path segment (`//`) before the end is refused rather than guessed at.
 */
export function parseHttpsUrl(raw: string, field: string, example: string): URL {
  const fail = (why: string) => new FieldError(field, `${why}; expected a URL like ${example}`)
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw fail('is not a valid URL')
  }
  if (url.protocol !== 'https:') throw fail('must use https')
  if (url.username || url.password) throw fail('must not contain credentials')
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) throw fail('must not have a query or fragment')
  const host = url.hostname.replace(/\.$/, '')
  if (host === '' || host.startsWith('.') || host.includes('..') || host.endsWith('.')) throw fail('has an empty label in its host name')
  const www = host.startsWith('www.') ? host.slice('www.'.length) : undefined
  url.hostname = www !== undefined && PROVIDER_HOSTS[www] ? www : host
  const path = url.pathname.replace(/%[0-9A-Fa-f]{2}/g, (escape) => {
    const char = String.fromCharCode(parseInt(escape.slice(1), 16))
    return UNRESERVED.test(char) ? char : escape.toUpperCase()
  })
  if (path.replace(/\/+$/, '').includes('//')) throw fail('must not have an empty path segment (//)')
  if (path.split('/').some((s) => s === '.' || s === '..')) throw fail('must not have a "." or ".." path segment')
  url.pathname = path
  return url
}

/**
 * A service's base URL (Jenkins, Jira, Checkmate) in canonical form: that of parseHttpsUrl, no
 * trailing slash. The path keeps its case: a server's context path may be case-sensitive.
 * A provider's public host (github.com, gitlab.com, bitbucket.org) is no such service.
 */
export function parseBaseUrl(raw: string, field: string, example: string): { normalized: string; origin: string } {
  const url = parseHttpsUrl(raw, field, example)
  const owner = providerHost(url.hostname)
  if (owner) throw new FieldError(field, `is on ${owner.host}, which is ${owner.label}'s; expected a URL like ${example}`)
  return { normalized: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, origin: url.origin }
}

/** The origin of a stored (already canonical) URL value, for secret-origin checks. */
export function originOf(value: unknown): string | undefined {
  return typeof value === 'string' ? new URL(value).origin : undefined
}
