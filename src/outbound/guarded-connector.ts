import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { rootCertificates } from 'node:tls'
import type { buildConnector } from 'undici'
import { isRefusedAddress } from './address-policy.js'
import { hostKey } from './allowed-hosts.js'

/** Raised inside the connector; the client turns it into an OutboundError naming the host. */
export class AddressPolicyError extends Error {
  readonly code: 'ADDRESS_REFUSED' | 'DNS_FAILED'

  constructor(code: 'ADDRESS_REFUSED' | 'DNS_FAILED') {
    super(code)
    this.code = code
  }
}

/** undici's connector factory: passed in, so undici is loaded on the first outbound request, not at start. */
export type BuildConnector = typeof buildConnector

export interface ConnectorOptions {
  build: BuildConnector
  timeoutMs: number
  lookup?: LookupFunction | undefined
  allowedHosts?: ReadonlySet<string> | undefined
  /** Extra trusted CA certificates (PEM), added to Node's own roots. */
  ca?: readonly string[] | undefined
}

function tlsOptions(ca: readonly string[] | undefined) {
  return ca?.length ? { ca: [...rootCertificates, ...ca] } : {}
}

export function openConnector({ build, timeoutMs, lookup, ca }: ConnectorOptions): buildConnector.connector {
  return build({ timeout: timeoutMs, ...tlsOptions(ca), ...(lookup ? { lookup } : {}) })
}

/**
 * The policy runs where the socket is opened: the addresses checked are the
 * ones net.connect receives, so a second DNS answer cannot slip past it.
 */
export function guardedConnector(options: ConnectorOptions): buildConnector.connector {
  const allowedHosts = options.allowedHosts ?? new Set<string>()
  const open = openConnector(options)
  const guarded = options.build({
    timeout: options.timeoutMs,
    ...tlsOptions(options.ca),
    lookup: guardedLookup(options.lookup ?? dnsLookup),
  })
  return (connectOptions, callback) => {
    const { protocol, hostname, port } = connectOptions
    if (allowedHosts.has(hostKey(protocol, hostname, port))) {
      open(connectOptions, callback)
      return
    }
    // net.connect never calls lookup for an IP literal
    if (isIP(hostname) !== 0 && isRefusedAddress(hostname)) {
      process.nextTick(callback, new AddressPolicyError('ADDRESS_REFUSED'), null)
      return
    }
    guarded(connectOptions, callback)
  }
}

/** Resolves every address, refuses if any one is refused, then answers in the shape asked for. */
export function guardedLookup(resolve: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, family: 0, all: true }, (err, result, family) => {
      const addresses: LookupAddress[] = typeof result === 'string' ? [{ address: result, family: family ?? 0 }] : (result ?? [])
      if (err || addresses.length === 0) {
        callback(new AddressPolicyError('DNS_FAILED'), [])
        return
      }
      if (addresses.some(({ address }) => isRefusedAddress(address))) {
        callback(new AddressPolicyError('ADDRESS_REFUSED'), [])
        return
      }
      const wanted = familyNumber(options.family)
      const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted)
      const first = usable[0]
      if (!first) callback(new AddressPolicyError('DNS_FAILED'), [])
      else if (options.all) callback(null, usable)
      else callback(null, first.address, first.family)
    })
  }
}

function familyNumber(family: number | string | undefined): number {
  if (family === 'IPv4') return 4
  if (family === 'IPv6') return 6
  return typeof family === 'number' ? family : 0
}
