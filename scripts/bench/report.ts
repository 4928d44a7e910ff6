import fs from 'node:fs'
import path from 'node:path'
import type { LoadResult } from './load.js'
import type { ScenarioKey } from './options.js'

/** Issue 15's targets: a hot read ≥ 0.8× the baseline's throughput with p99 ≤ 2×; a write ≥ 0.7×. */
export const TARGETS = {
  read: { minThroughputRatio: 0.8, maxP99Ratio: 2 },
  write: { minThroughputRatio: 0.7, maxP99Ratio: Infinity },
} as const

export interface ScenarioResult {
  key: ScenarioKey
  name: string
  read: boolean
  service: LoadResult
  baseline: LoadResult
  /** Service / baseline. CPU per request is the steadiest of the three when the machine is shared. */
  ratios: { throughput: number; p99: number; cpuPerRequest: number | null }
  /** Whether the scenario meets its TARGETS (a read's, or a write's). */
  meetsTargets: boolean
  /** With --rounds: every round's throughput ratio, in order; this result is the median one. */
  roundRatios?: number[]
}

/** A scenario's median round by throughput ratio (the lower middle one of an even count), with every round's ratio. */
export function medianRound(rounds: readonly ScenarioResult[]): ScenarioResult {
  const sorted = [...rounds].sort((a, b) => a.ratios.throughput - b.ratios.throughput)
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!
  return rounds.length > 1 ? { ...median, roundRatios: rounds.map((r) => r.ratios.throughput) } : median
}

export function compare(key: ScenarioKey, name: string, read: boolean, service: LoadResult, baseline: LoadResult): ScenarioResult {
  const cpu =
    service.serverCpuMsPerRequest !== null && baseline.serverCpuMsPerRequest
      ? service.serverCpuMsPerRequest / baseline.serverCpuMsPerRequest
      : null
  const ratios = { throughput: service.requestsPerSec / baseline.requestsPerSec, p99: service.p99Ms / baseline.p99Ms, cpuPerRequest: cpu }
  const target = read ? TARGETS.read : TARGETS.write
  const meets = ratios.throughput >= target.minThroughputRatio && ratios.p99 <= target.maxP99Ratio
  return { key, name, read, service, baseline, ratios, meetsTargets: meets }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n')
}

const ms = (v: number | null) => (v === null ? '-' : v.toFixed(3))
const mib = (bytes: number | null) => (bytes === null ? '-' : (bytes / 1024 / 1024).toFixed(0))

export function printResults(results: ScenarioResult[]): void {
  const rows = [['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'peak RSS MiB', 'CPU ms/req', 'DB CPU ms/req']]
  for (const r of results) {
    for (const [label, m] of [
      ['service', r.service],
      ['baseline', r.baseline],
    ] as const) {
      rows.push([
        label === 'service' ? r.name : '',
        label,
        m.requestsPerSec.toFixed(0),
        m.p50Ms.toFixed(1),
        m.p99Ms.toFixed(1),
        String(m.non2xx),
        String(m.errors),
        mib(m.peakRssBytes),
        ms(m.serverCpuMsPerRequest),
        ms(m.databaseCpuMsPerRequest),
      ])
    }
  }
  console.log(`\n${table(rows)}\n`)
  const ratios = [
    [
      'scenario',
      'throughput service/baseline',
      'p99 service/baseline',
      'CPU per request',
      'targets (reads: ≥ 0.8×, p99 ≤ 2×; writes: ≥ 0.7×)',
    ],
  ]
  for (const r of results) {
    const verdict = r.meetsTargets ? 'met' : 'MISSED'
    const cpu = r.ratios.cpuPerRequest === null ? '-' : `${r.ratios.cpuPerRequest.toFixed(2)}×`
    const each = r.roundRatios ? ` (rounds: ${r.roundRatios.map((x) => x.toFixed(2)).join(', ')})` : ''
    ratios.push([r.name, `${r.ratios.throughput.toFixed(2)}×${each}`, `${r.ratios.p99.toFixed(2)}×`, cpu, verdict])
  }
  console.log(`${table(ratios)}\n`)
}

export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  console.log(`results written to ${file}`)
}
