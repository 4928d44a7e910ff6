import { setTimeout as sleep } from 'node:timers/promises'
import { drive, generated, statusCodes } from './load.js'
import type { ScenarioKey } from './options.js'
import { scrape } from './prometheus.js'
import { readRss } from './rss.js'
import type { Scenario } from './scenarios.js'
import { slope } from './trend.js'

/** Per connection, in this order: mostly reads, one create in ten. */
const MIX: ScenarioKey[] = [
  'get-one', 'list', 'get-one', 'credentials', 'get-one', 'list', 'get-one', 'create', 'get-one', 'credentials',
  'list', 'get-one', 'credentials', 'get-one', 'list', 'get-one', 'create', 'credentials', 'get-one', 'list',
] // prettier-ignore

export interface SoakSample {
  t: number
  rssBytes: number | null
  heapUsedBytes: number | null
  eventLoopLagMs: number | null
  eventLoopLagP99Ms: number | null
  eventLoopLagMaxMs: number | null
  dbPoolWaiting: number | null
}

export interface SoakSettings {
  durationS: number
  connections: number
  sampleEveryS: number
}

const ms = (s: number | undefined) => (s === undefined ? null : s * 1000)
const MiB = 1024 * 1024

async function sample(url: string, pid: number, t: number): Promise<SoakSample | undefined> {
  const metrics = await scrape(url).catch(() => undefined)
  if (!metrics) return undefined
  return {
    t,
    rssBytes: metrics.get('process_resident_memory_bytes') ?? readRss(pid) ?? null,
    heapUsedBytes: metrics.get('nodejs_heap_size_used_bytes') ?? null,
    eventLoopLagMs: ms(metrics.get('nodejs_eventloop_lag_seconds')),
    eventLoopLagP99Ms: ms(metrics.get('nodejs_eventloop_lag_p99_seconds')),
    eventLoopLagMaxMs: ms(metrics.get('nodejs_eventloop_lag_max_seconds')),
    dbPoolWaiting: metrics.get('db_pool_connections{state="waiting"}') ?? null,
  }
}

function trend(samples: SoakSample[], durationS: number, pick: (s: SoakSample) => number | null) {
  const points = samples.filter((s) => s.t >= durationS / 2 && pick(s) !== null).map((s) => ({ x: s.t, y: pick(s)! }))
  const perSecond = slope(points)
  return {
    points: points.length,
    firstMiB: points[0] ? points[0].y / MiB : null,
    lastMiB: points.at(-1) ? points.at(-1)!.y / MiB : null,
    slopeMiBPerMin: perSecond === null ? null : (perSecond * 60) / MiB,
  }
}

/** Mixed load against the service for `durationS`, scraping /metrics every `sampleEveryS`. */
export async function soak(url: string, pid: number, scenarios: Record<ScenarioKey, Scenario>, settings: SoakSettings) {
  const byScenario: Record<string, { requests: number; statuses: Record<number, number> }> = Object.fromEntries(
    MIX.map((k) => [k, { requests: 0, statuses: {} }]),
  )
  const requests = MIX.map((key) =>
    generated(scenarios[key].next, (status) => {
      const counts = byScenario[key]!
      counts.requests++
      counts.statuses[status] = (counts.statuses[status] ?? 0) + 1
    }),
  )
  const samples: SoakSample[] = []
  let scrapeFailures = 0
  const started = Date.now()
  const elapsed = () => Math.round((Date.now() - started) / 100) / 10
  const record = async () => {
    const s = await sample(url, pid, elapsed())
    if (s) samples.push(s)
    else scrapeFailures++
    if (s) console.log(`  ${line(s)}`)
  }

  let finished = false
  const load = drive(url, requests, settings.connections, settings.durationS).finally(() => {
    finished = true
  })
  console.log(`  ${header()}`)
  await record()
  while (!finished) {
    const next = started + (samples.length + scrapeFailures) * settings.sampleEveryS * 1000
    await Promise.race([load.catch(() => {}), sleep(Math.max(0, next - Date.now()))])
    if (!finished) await record()
  }
  const result = await load
  await record()

  return {
    durationS: result.duration,
    connections: settings.connections,
    sampleEveryS: settings.sampleEveryS,
    mix: MIX,
    requests: result.requests.total,
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: statusCodes(result),
    byScenario,
    scrapeFailures,
    trend: {
      rss: trend(samples, result.duration, (s) => s.rssBytes),
      heapUsed: trend(samples, result.duration, (s) => s.heapUsedBytes),
    },
    samples,
  }
}

export type SoakResult = Awaited<ReturnType<typeof soak>>

const fmt = (v: number | null, digits = 1) => (v === null ? '-' : v.toFixed(digits))

function header() {
  return ['t (s)', 'RSS MiB', 'heap MiB', 'lag ms', 'lag p99 ms', 'lag max ms', 'pool waiting'].map((h) => h.padStart(13)).join('')
}

function line(s: SoakSample) {
  return [
    fmt(s.t),
    fmt(s.rssBytes && s.rssBytes / MiB),
    fmt(s.heapUsedBytes && s.heapUsedBytes / MiB),
    fmt(s.eventLoopLagMs, 2),
    fmt(s.eventLoopLagP99Ms, 2),
    fmt(s.eventLoopLagMaxMs, 2),
    fmt(s.dbPoolWaiting, 0),
  ]
    .map((v) => v.padStart(13))
    .join('')
}
