import { FieldError } from '../../http/errors.js'

/**
 * A URL a tenant gives for a host the service will call with a secret: https only, no
 * credentials, query or fragment. Problems name the field and show an example.
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
  return url
}

/** A service's base URL (Jenkins, Jira, Checkmate) in canonical form: lower-case host, no trailing slash. */
export function parseBaseUrl(raw: string, field: string, example: string): { normalized: string; origin: string } {
  const url = parseHttpsUrl(raw, field, example)
  return { normalized: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, origin: url.origin }
}

/** The origin of a stored (already canonical) URL value, for secret-origin checks. */
export function originOf(value: unknown): string | undefined {
  return typeof value === 'string' ? new URL(value).origin : undefined
}
