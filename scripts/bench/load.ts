import autocannon from 'autocannon'
import { cpuMeter, databasePid } from './cpu.js'
import { sampleRss } from './rss.js'
import type { RequestSpec } from './scenarios.js'

export interface LoadSettings {
  connections: number
  durationS: number
  warmupS: number
}

export interface Target {
  url: string
  pid: number
}

export interface LoadResult {
  requestsPerSec: number
  requests: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  peakRssBytes: number | null
  /** CPU time per answered request: the server process, and the database server (shared with anything else using it). */
  serverCpuMsPerRequest: number | null
  databaseCpuMsPerRequest: number | null
  durationS: number
}

/** One autocannon request whose method, path, headers and body come from `next` each time. */
export function generated(next: () => RequestSpec, onResponse?: (status: number) => void): autocannon.Request {
  return {
    setupRequest: (request) => ({ ...request, ...next() }),
    ...(onResponse ? { onResponse: (status: number) => onResponse(status) } : {}),
  }
}

export function drive(
  url: string,
  requests: autocannon.Request[],
  connections: number,
  durationS: number,
  onLatency?: (ms: number) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: durationS, requests, timeout: 10 }, (err, result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    )
    if (onLatency) instance.on('response', (_client, _status, _bytes, ms) => onLatency(ms))
  })
}

export function statusCodes(result: autocannon.Result): Record<string, number> {
  return Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]))
}

/** What several measured slices against one server add up to, with exact percentiles over all of them. */
function accumulator() {
  const latencies: number[] = []
  const total = { requests: 0, durationS: 0, non2xx: 0, errors: 0, timeouts: 0, serverCpuMs: 0, databaseCpuMs: 0 }
  const codes: Record<string, number> = {}
  let peakRssBytes: number | null = null
  let cpuKnown = true
  return {
    latencies,
    add(result: autocannon.Result, peak: number | null, [serverCpuMs, databaseCpuMs]: (number | null)[]) {
      total.requests += result.requests.total
      total.durationS += result.duration
      total.non2xx += result.non2xx
      total.errors += result.errors
      total.timeouts += result.timeouts
      for (const [code, n] of Object.entries(statusCodes(result))) codes[code] = (codes[code] ?? 0) + n
      if (peak !== null) peakRssBytes = Math.max(peakRssBytes ?? 0, peak)
      if (serverCpuMs == null || databaseCpuMs == null) cpuKnown = false
      total.serverCpuMs += serverCpuMs ?? 0
      total.databaseCpuMs += databaseCpuMs ?? 0
    },
    result(): LoadResult {
      latencies.sort((a, b) => a - b)
      const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 10) / 10
      const perRequest = (ms: number) => (cpuKnown && total.requests > 0 ? ms / total.requests : null)
      return {
        requestsPerSec: total.durationS > 0 ? total.requests / total.durationS : 0,
        requests: total.requests,
        p50Ms: at(0.5),
        p90Ms: at(0.9),
        p99Ms: at(0.99),
        maxMs: at(1),
        non2xx: total.non2xx,
        errors: total.errors,
        timeouts: total.timeouts,
        statusCodes: codes,
        peakRssBytes,
        serverCpuMsPerRequest: perRequest(total.serverCpuMs),
        databaseCpuMsPerRequest: perRequest(total.databaseCpuMs),
        durationS: total.durationS,
      }
    },
  }
}

/**
 * Warms both servers up, then measures them in ABBA order (service, baseline, baseline,
 * service), half the duration per slice: a burst of load from elsewhere on the machine
 * then falls on both sides instead of skewing the ratio.
 */
export async function measurePair(service: Target, baseline: Target, next: () => RequestSpec, settings: LoadSettings) {
  const { connections, durationS, warmupS } = settings
  const sides = { service: accumulator(), baseline: accumulator() }
  const targets = { service, baseline }
  if (warmupS > 0) {
    await drive(service.url, [generated(next)], connections, warmupS)
    await drive(baseline.url, [generated(next)], connections, warmupS)
  }
  const dbPid = databasePid()
  for (const side of ['service', 'baseline', 'baseline', 'service'] as const) {
    const { url, pid } = targets[side]
    const acc = sides[side]
    const rss = sampleRss(pid)
    const cpu = cpuMeter([pid, dbPid])
    const result = await drive(url, [generated(next)], connections, durationS / 2, (ms) => acc.latencies.push(ms))
    acc.add(result, rss.stop(), cpu())
  }
  return { service: sides.service.result(), baseline: sides.baseline.result() }
}

/** One server alone: warm-up, then `durationS` measured in two slices. */
export async function measureOne(target: Target, next: () => RequestSpec, settings: LoadSettings): Promise<LoadResult> {
  const { connections, durationS, warmupS } = settings
  const acc = accumulator()
  if (warmupS > 0) await drive(target.url, [generated(next)], connections, warmupS)
  const dbPid = databasePid()
  for (let slice = 0; slice < 2; slice++) {
    const rss = sampleRss(target.pid)
    const cpu = cpuMeter([target.pid, dbPid])
    const result = await drive(target.url, [generated(next)], connections, durationS / 2, (ms) => acc.latencies.push(ms))
    acc.add(result, rss.stop(), cpu())
  }
  return acc.result()
}
