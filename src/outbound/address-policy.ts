import { BlockList, isIPv4, isIPv6 } from 'node:net'

const refusedIPv4 = new BlockList()
const refusedIPv4Subnets: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  // CGNAT; also holds Alibaba's metadata address 100.100.100.200
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  // link-local; also holds the cloud metadata address 169.254.169.254
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  // reserved, up to and including the broadcast address
  ['240.0.0.0', 4],
]
for (const [network, prefix] of refusedIPv4Subnets) refusedIPv4.addSubnet(network, prefix, 'ipv4')

/**
 * True when a user-given host must not be connected to at this address.
 * Anything that is not a valid IP literal is refused, so callers fail closed.
 */
export function isRefusedAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  if (isIPv4(bare)) return refusedIPv4.check(bare, 'ipv4')
  if (isIPv6(bare)) return isRefusedIPv6(parseIPv6(bare))
  return true
}

function isRefusedIPv6(groups: number[]): boolean {
  const embedded = embeddedIPv4(groups)
  if (embedded !== undefined) return refusedIPv4.check(embedded, 'ipv4')
  const [first = 0, second = 0] = groups
  // Only global unicast (2000::/3) can be public; ULA, link-local, multicast
  // and every other special block fall outside it.
  if ((first & 0xe000) !== 0x2000) return true
  if (first === 0x2001 && second < 0x0200) return true // IETF protocol assignments, Teredo
  if (first === 0x2001 && second === 0x0db8) return true // documentation
  if (first === 0x3fff && second < 0x1000) return true // documentation
  return false
}

// IPv4 carried inside IPv6 reaches the IPv4 host, so it gets the IPv4 verdict.
function embeddedIPv4(g: number[]): string | undefined {
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0)
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return ipv4At(g, 6) // mapped, compatible
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return ipv4At(g, 6) // SIIT translated
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return ipv4At(g, 6) // NAT64
  if (g[0] === 0x2002) return ipv4At(g, 1) // 6to4
  return undefined
}

function ipv4At(g: number[], index: number): string {
  const high = g[index] ?? 0
  const low = g[index + 1] ?? 0
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
}

/** Expects a string that `net.isIPv6` accepted, without a zone. */
function parseIPv6(text: string): number[] {
  let rest = text
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(rest)
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[2]!.split('.').map(Number)
    rest = `${dotted[1]!}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const toGroups = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)))
  const [head, tail] = rest.split('::')
  const left = toGroups(head!)
  if (tail === undefined) return left
  const right = toGroups(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}
