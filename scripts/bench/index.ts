import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBenchDatabase } from './bench-database.js'
import { checkSameAnswers, checkServer } from './check.js'
import { cleanup, guard } from './cleanup.js'
import { measurePair, type LoadSettings } from './load.js'
import { machineInfo } from './machine.js'
import { parseOptions, USAGE, type BenchOptions, type ScenarioKey } from './options.js'
import { compare, medianRound, printResults, TARGETS, writeJson, type ScenarioResult } from './report.js'
import { readRss } from './rss.js'
import { runScale } from './scale.js'
import { buildScenarios } from './scenarios.js'
import { generateSecrets } from './secrets.js'
import { seed, seedDisposable } from './seed.js'
import { startBaseline, startService } from './servers.js'
import { soak } from './soak.js'
import { measureStart } from './start.js'

/** The most deletes a second either server is expected to reach: the delete scenario's rows are sized by it. */
const DELETES_PER_SECOND = 3000

const root = fileURLToPath(new URL('../..', import.meta.url))
const resultsDir = path.join(root, 'bench-results')

function build() {
  console.log('building: npm run build')
  const run = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' })
  if (run.status !== 0) throw new Error(`npm run build failed (${run.status ?? run.signal})`)
}

/** Generous, but finite: a run that hangs is stopped and cleaned up. */
function deadlineMs(o: BenchOptions): number {
  // Scale: twelve measured runs, and seeding a million rows when the database is not there yet.
  const load = o.scale
    ? 1200 + 12 * (o.warmupS + o.durationS + 5)
    : (o.soakS ?? o.rounds * o.only.length * 2 * (o.warmupS + o.durationS + 5))
  return (180 + load) * 1000
}

async function main(options: BenchOptions) {
  const startedAt = new Date().toISOString()
  guard(deadlineMs(options))
  fs.mkdirSync(resultsDir, { recursive: true })
  if (options.build) build()
  if (options.scale) return runScale(options, { root, resultsDir }, startedAt)

  const secrets = generateSecrets()
  const db = await createBenchDatabase(options.mysqlUrl)
  console.log(`database ${db.name} on MariaDB ${db.version}`)
  if (options.start) return measureStart(db, secrets, { root, resultsDir }, options.out, options.nodeFlags)
  const settings = { root, resultsDir, databaseUrl: db.url, secrets, cpuProf: options.cpuProf, nodeFlags: options.nodeFlags }
  const service = await startService(settings)
  console.log(`service pid ${service.pid} at ${service.url}, node flags: ${options.nodeFlags.join(' ') || "Node's defaults"}`)

  const conn = await db.connect()
  const seeding = Date.now()
  const data = await seed(conn, secrets, options.tenants, options.perTenant).finally(() => conn.end())
  if (options.soakS === undefined && options.only.includes('delete')) {
    // Enough for both servers' warm-up and measured runs, every round, at 3,000 deletes a second each; seeded here, before any load.
    const count = Math.ceil(2 * options.rounds * (options.warmupS + options.durationS) * DELETES_PER_SECOND)
    const disposable = await db.connect()
    await seedDisposable(disposable, secrets, data, count).finally(() => disposable.end())
    console.log(`seeded ${count} source-control rows for the delete scenario`)
  }
  console.log(`seeded ${JSON.stringify(data.rows)} in ${((Date.now() - seeding) / 1000).toFixed(1)} s`)
  const scenarios = buildScenarios(data)
  const common = {
    startedAt,
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    machine: machineInfo(db.version),
    dataset: { tenants: options.tenants, perTenant: options.perTenant, rows: data.rows },
  }

  if (options.soakS !== undefined) {
    const sampleEveryS = options.sampleEveryS ?? Math.min(5, Math.max(1, Math.floor(options.soakS / 10)))
    console.log(`soak: ${options.soakS} s, ${options.connections} connections, sampling every ${sampleEveryS} s`)
    const result = await soak(service.url, service.pid, scenarios, {
      durationS: options.soakS,
      connections: options.connections,
      sampleEveryS,
    })
    const { rss, heapUsed } = result.trend
    console.log(
      `\n${result.requests} requests, ${result.requestsPerSec.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; ` +
        `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}; status codes ${JSON.stringify(result.statusCodes)}`,
    )
    console.log(
      `second half: RSS ${rss.firstMiB?.toFixed(1)} → ${rss.lastMiB?.toFixed(1)} MiB (slope ${rss.slopeMiBPerMin?.toFixed(2)} MiB/min), ` +
        `heap used ${heapUsed.firstMiB?.toFixed(1)} → ${heapUsed.lastMiB?.toFixed(1)} MiB (slope ${heapUsed.slopeMiBPerMin?.toFixed(2)} MiB/min)`,
    )
    writeJson(options.out ?? path.join(resultsDir, 'soak-latest.json'), {
      kind: 'soak',
      ...common,
      finishedAt: new Date().toISOString(),
      serviceVmHwmBytes: readRss(service.pid, 'VmHWM') ?? null,
      serviceNodeFlags: options.nodeFlags,
      soak: result,
    })
    return
  }

  const baseline = await startBaseline(settings)
  console.log(`baseline pid ${baseline.pid} at ${baseline.url}`)
  await checkServer('service', service.url, data)
  await checkServer('baseline', baseline.url, data)
  await checkSameAnswers(service.url, baseline.url, data)
  console.log('both servers answer each scenario correctly, reads with the same fields and values')

  const load: LoadSettings = { connections: options.connections, durationS: options.durationS, warmupS: options.warmupS }
  console.log(
    `load: ${load.connections} connections; per scenario and server ${load.warmupS} s warm-up, then ${load.durationS} s measured in two halves (service, baseline, baseline, service)`,
  )
  // Each round measures every scenario once, so a burst of load from elsewhere on the machine falls on one round of
  // several scenarios rather than on every round of one; each scenario then reports its median round.
  const rounds = new Map<ScenarioKey, ScenarioResult[]>(options.only.map((key) => [key, []]))
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) console.log(`round ${round} of ${options.rounds}`)
    for (const key of options.only) {
      const scenario = scenarios[key]
      const { service: s, baseline: b } = await measurePair(service, baseline, scenario.next, load)
      const result = compare(key, scenario.name, scenario.read, s, b)
      console.log(
        `${scenario.name}: service ${s.requestsPerSec.toFixed(0)} req/s, baseline ${b.requestsPerSec.toFixed(0)} req/s (${result.ratios.throughput.toFixed(2)}×)`,
      )
      rounds.get(key)!.push(result)
    }
  }
  const results = options.only.map((key) => medianRound(rounds.get(key)!))
  printResults(results)
  writeJson(options.out ?? path.join(resultsDir, 'latest.json'), {
    kind: 'bench',
    ...common,
    finishedAt: new Date().toISOString(),
    settings: { ...load, rounds: options.rounds, serviceNodeFlags: options.nodeFlags },
    targets: TARGETS,
    peakRssBytes: { service: readRss(service.pid, 'VmHWM') ?? null, baseline: readRss(baseline.pid, 'VmHWM') ?? null },
    scenarios: results,
  })
}

let options: BenchOptions
try {
  options = parseOptions(process.argv.slice(2))
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}

try {
  await main(options)
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err)
  process.exitCode = 1
} finally {
  await cleanup()
}
