import { OutboundError } from './outbound-error.js'

/** Never echoes the input: a URL can carry a token in its query string or userinfo. */
export function parseRequestUrl(input: string | URL): URL {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new OutboundError('INVALID_URL', 'The URL is not valid')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundError('INVALID_URL', 'Only http and https URLs are allowed')
  }
  if (url.username !== '' || url.password !== '') {
    throw new OutboundError('INVALID_URL', 'URLs with embedded credentials are not allowed')
  }
  return url
}

export function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin
  } catch {
    return undefined
  }
}
