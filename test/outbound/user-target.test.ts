import type { LookupFunction } from 'node:net'
import { isIPv6 } from 'node:net'
import t, { type Test } from 'tap'
import { outboundClient as client, outboundFailure as failure, startProviderDouble } from '../helpers/provider-double.js'

/** A loopback double that answers `ok` at `/`. */
async function startDouble(t: Test) {
  const double = await startProviderDouble(t)
  return double.on('GET', '/', { body: 'ok' })
}

/** Stands in for DNS; a name missing from the table fails like getaddrinfo does. */
function fakeDns(table: Record<string, string[] | (() => string[])>) {
  const asked: string[] = []
  const lookup: LookupFunction = (hostname, options, callback) => {
    asked.push(hostname)
    const entry = table[hostname]
    const addresses = typeof entry === 'function' ? entry() : entry
    if (!addresses) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), [])
      return
    }
    const all = addresses.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }))
    if (options.all) callback(null, all)
    else callback(null, all[0]?.address ?? '', all[0]?.family)
  }
  return { lookup, asked }
}

t.test('refuses a user target on a loopback literal and sends nothing', async (t) => {
  const double = await startDouble(t)
  const err = await failure(client(t).request({ url: `http://127.0.0.1:${double.port}/api/v4/user`, target: 'user' }))
  t.equal(err.code, 'ADDRESS_REFUSED')
  t.equal(err.host, `127.0.0.1:${double.port}`)
  t.equal(double.connections, 0)
})

t.test('refuses loopback written as IPv6, IPv4-mapped or hex literals', async (t) => {
  const double = await startDouble(t)
  const c = client(t)
  for (const host of ['[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '0x7f000001', '2130706433', '127.1']) {
    const err = await failure(c.request({ url: `http://${host}:${double.port}/`, target: 'user' }))
    t.equal(err.code, 'ADDRESS_REFUSED', host)
  }
  t.equal(double.connections, 0)
})

t.test('allows exactly the host:port listed in allowedHosts', async (t) => {
  const allowedDouble = await startDouble(t)
  const otherDouble = await startDouble(t)
  const c = client(t, { allowedHosts: new Set([`127.0.0.1:${allowedDouble.port}`]) })

  const res = await c.request({ url: `http://127.0.0.1:${allowedDouble.port}/`, target: 'user' })
  t.equal(res.status, 200)
  t.equal(res.body, 'ok')

  const err = await failure(c.request({ url: `http://127.0.0.1:${otherDouble.port}/`, target: 'user' }))
  t.equal(err.code, 'ADDRESS_REFUSED')
  t.equal(otherDouble.connections, 0)
})

t.test('refuses a host name that resolves to a refused address, before connecting', async (t) => {
  const double = await startDouble(t)
  const answers: Record<string, string[]> = {
    'loopback.test': ['127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'public-first.test': ['8.8.8.8', '127.0.0.1'],
    'private-first.test': ['127.0.0.1', '2606:4700::1111'],
    'ula.test': ['2606:4700::1111', 'fd00:ec2::254'],
  }
  const dns = fakeDns(answers)
  const c = client(t, { lookup: dns.lookup, timeoutMs: 500 })
  for (const name of Object.keys(answers)) {
    const err = await failure(c.request({ url: `http://${name}:${double.port}/`, target: 'user' }))
    t.equal(err.code, 'ADDRESS_REFUSED', name)
    t.equal(err.host, `${name}:${double.port}`)
  }
  t.equal(double.connections, 0)
  t.same(new Set(dns.asked), new Set(Object.keys(answers)), 'the check ran on the looked-up answers')
})

t.test('an allowed host name reaches its private address through the same lookup', async (t) => {
  const double = await startDouble(t)
  const dns = fakeDns({ 'gitlab.test': ['127.0.0.1'] })
  const c = client(t, { lookup: dns.lookup, allowedHosts: new Set([`gitlab.test:${double.port}`]) })
  const res = await c.request({ url: `http://GitLab.test:${double.port}/`, target: 'user' })
  t.equal(res.status, 200)
  t.equal(double.connections, 1)
})

t.test('refuses a user target whose name does not resolve', async (t) => {
  const dns = fakeDns({})
  const err = await failure(client(t, { lookup: dns.lookup }).request({ url: 'https://gone.test/', target: 'user' }))
  t.equal(err.code, 'DNS_FAILED')
  t.equal(err.host, 'gone.test:443')
})

t.test('reports DNS failure for configured targets too', async (t) => {
  const dns = fakeDns({})
  const err = await failure(client(t, { lookup: dns.lookup }).request({ url: 'https://api.gone.test/', target: 'configured' }))
  t.equal(err.code, 'DNS_FAILED')
})

t.test('configured targets skip the address policy', async (t) => {
  const double = await startDouble(t)
  const dns = fakeDns({ 'github.test': ['127.0.0.1'] })
  const c = client(t, { lookup: dns.lookup })
  t.equal((await c.request({ url: `http://127.0.0.1:${double.port}/`, target: 'configured' })).status, 200)
  t.equal((await c.request({ url: `http://github.test:${double.port}/`, target: 'configured' })).status, 200)
  t.equal(double.connections, 2)
})
