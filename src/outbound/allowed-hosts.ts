import { isIPv6 } from 'node:net'

const ENTRY = /^(\[[0-9a-f:.]+\]|[^\s/?#@:[\]\\]+):(\d{1,5})$/

/**
 * Parses OUTBOUND_ALLOWED_HOSTS: comma-separated `host:port` entries whose
 * hosts are normalised the way a URL's hostname is, so they compare equal to
 * the request URL's hostname.
 */
export function parseAllowedHosts(value: string | undefined): Set<string> {
  const hosts = new Set<string>()
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim()
    if (entry !== '') hosts.add(normaliseEntry(entry))
  }
  return hosts
}

function normaliseEntry(entry: string): string {
  const invalid = new Error(`OUTBOUND_ALLOWED_HOSTS entry "${entry}" is not host:port`)
  const match = ENTRY.exec(entry.toLowerCase())
  const port = Number(match?.[2])
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) throw invalid
  try {
    return `${new URL(`http://${match[1] ?? ''}`).hostname}:${port}`
  } catch {
    throw invalid
  }
}

/** `host:port` key with the effective port; hostname as undici or URL gives it. */
export function hostKey(protocol: string, hostname: string, port: string): string {
  const host = isIPv6(hostname) ? `[${hostname}]` : hostname
  return `${host}:${port || (protocol === 'https:' ? '443' : '80')}`
}

export function urlHostKey(url: URL): string {
  return hostKey(url.protocol, url.hostname, url.port)
}
