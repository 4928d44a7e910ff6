import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchDatabase } from './bench-database.js'
import { onCleanup, track } from './cleanup.js'
import { cpuTimeMs } from './cpu.js'
import { writeJson } from './report.js'
import { readRss } from './rss.js'
import type { Secrets } from './secrets.js'
import { freePort } from './server-process.js'

const RUNS = 5
/** How long the process idles after its first ready answer before its RSS is read. */
const IDLE_MS = 3_000
/**
 * One more start per series idles this long, its RSS read every RSS_EVERY_MS: V8 gives back the heap it grew
 * while loading (the young generation above all) only when its memory reducer runs, some seconds into idleness.
 */
const SETTLE_MS = 30_000
const RSS_EVERY_MS = 1_000

export interface StartRun {
  readyMs: number
  /** CPU the process spent until then: steadier than the wall clock on a shared machine. */
  cpuMs: number | null
  idleRssBytes: number | null
  /** The settling run's RSS, read every RSS_EVERY_MS after ready. */
  rssSamples?: { afterReadyMs: number; rssBytes: number | null }[]
}

export interface StartFigures {
  label: string
  runs: StartRun[]
  medianReadyMs: number
  medianCpuMs: number | null
  medianIdleRssMiB: number | null
  /** RSS after SETTLE_MS of idleness, and when it first fell below its 3-second reading by more than 10 %. */
  settled: { rssMiB: number | null; fellAtMs: number | null; samples: NonNullable<StartRun['rssSamples']> }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/**
 * Spawns the service, answers the time from spawn to the first 200 of /health/ready and the RSS after idling;
 * with `settleMs`, also the RSS every RSS_EVERY_MS until then.
 */
async function startOnce(args: string[], env: NodeJS.ProcessEnv, logFile: string, settleMs = 0): Promise<StartRun> {
  const port = await freePort()
  const log = fs.openSync(logFile, 'a')
  const spawned = performance.now()
  const child = spawn(process.execPath, args, { env: { ...env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', log, log] })
  fs.closeSync(log)
  track(child)
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited before it was ready; see ${logFile}`)
      const status = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => r.status)
        .catch(() => 0)
      if (status === 200) break
      if (performance.now() - spawned > 60_000) throw new Error(`the service was not ready within 60 s; see ${logFile}`)
      await sleep(5)
    }
    const readyAt = performance.now()
    const cpuMs = cpuTimeMs(child.pid!) ?? null
    await sleep(IDLE_MS)
    const run: StartRun = { readyMs: Math.round(readyAt - spawned), cpuMs, idleRssBytes: readRss(child.pid!) ?? null }
    if (settleMs === 0) return run
    const samples: NonNullable<StartRun['rssSamples']> = []
    for (let at = IDLE_MS; at <= settleMs; at += RSS_EVERY_MS) {
      await sleep(Math.max(0, readyAt + at - performance.now()))
      samples.push({ afterReadyMs: at, rssBytes: readRss(child.pid!) ?? null })
    }
    return { ...run, rssSamples: samples }
  } finally {
    child.kill('SIGTERM')
    await gone
  }
}

async function series(label: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Promise<StartFigures> {
  // The first start creates the schema; the measured ones find it in place.
  await startOnce(args, env, logFile)
  const runs: StartRun[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await startOnce(args, env, logFile))
  const rss = runs.map((r) => r.idleRssBytes).filter((b): b is number => b !== null)
  const samples = (await startOnce(args, env, logFile, SETTLE_MS)).rssSamples!
  const first = samples[0]?.rssBytes
  const last = samples.at(-1)?.rssBytes
  const fell = first == null ? undefined : samples.find((s) => s.rssBytes !== null && s.rssBytes < first * 0.9)
  const figures: StartFigures = {
    label,
    runs,
    medianReadyMs: median(runs.map((r) => r.readyMs)),
    medianCpuMs: runs.every((r) => r.cpuMs !== null) ? median(runs.map((r) => r.cpuMs!)) : null,
    medianIdleRssMiB: rss.length > 0 ? Math.round(median(rss) / 1024 / 1024) : null,
    settled: { rssMiB: last == null ? null : Math.round(last / 1024 / 1024), fellAtMs: fell?.afterReadyMs ?? null, samples },
  }
  console.log(
    `${label}: ready in ${figures.medianReadyMs} ms (median of ${RUNS}: ${runs.map((r) => r.readyMs).join(', ')}), ` +
      `${figures.medianCpuMs} ms of CPU, idle RSS ${figures.medianIdleRssMiB} MiB after ${IDLE_MS / 1000} s, ` +
      `${figures.settled.rssMiB} MiB after ${SETTLE_MS / 1000} s` +
      (figures.settled.fellAtMs === null ? ' (V8 gave nothing back)' : ` (fell ${figures.settled.fellAtMs / 1000} s after ready)`),
  )
  return figures
}

/** The packages the project fixes (README, The stack) that every start imports before any of the service's code runs. */
const STACK = ['fastify', 'sequelize', 'mysql2', '@sinclair/typebox']

export interface Floor {
  label: string
  runsMs: number[]
  medianMs: number
}

/** Spawns `node args` in `cwd` and answers the time until it exited, refusing a failure. */
async function timeToExit(args: string[], cwd: string): Promise<number> {
  const spawned = performance.now()
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
  track(child)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}`)
  return Math.round(performance.now() - spawned)
}

/**
 * What no change to the service can go below, timed the way a start is: Node itself, and a process that only
 * imports the stack (as ES modules, as the service does) and exits.
 */
async function floors(root: string, nodeFlags: string[]): Promise<Floor[]> {
  const imports = `await Promise.all(${JSON.stringify(STACK)}.map((m) => import(m)))`
  const cases = [
    { label: 'node -e 0', args: [...nodeFlags, '-e', '0'] },
    { label: `importing ${STACK.join(', ')}`, args: [...nodeFlags, '--input-type=module', '-e', imports] },
  ]
  const found: Floor[] = []
  for (const { label, args } of cases) {
    // As for a start, the first run is not measured: it reads the files into the page cache.
    await timeToExit(args, root)
    const runsMs: number[] = []
    for (let i = 0; i < RUNS; i++) runsMs.push(await timeToExit(args, root))
    const floor = { label, runsMs, medianMs: median(runsMs) }
    console.log(`floor, ${label}: exits in ${floor.medianMs} ms (median of ${RUNS}: ${runsMs.join(', ')})`)
    found.push(floor)
  }
  return found
}

/**
 * `npm run bench -- --start`: process start to the first 200 of /health/ready with the schema in place, and
 * RSS after idling, for the built service (what the Dockerfile runs) on MariaDB and on SQLite, and under tsx.
 */
export async function measureStart(
  db: BenchDatabase,
  secrets: Secrets,
  dirs: { root: string; resultsDir: string },
  out?: string,
  nodeFlags: string[] = [],
) {
  const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-start-'))
  onCleanup(async () => fs.rmSync(sqliteDir, { recursive: true, force: true }))
  const env = (databaseUrl: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DB_SYNC: 'safe',
    AUTH_JWT_SECRET: secrets.jwtSecret,
    CREDENTIAL_KEYS: secrets.credentialKeys,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    // What the tsx CLI tells @fastify/autoload; loaded with --import it cannot tell.
    FASTIFY_AUTOLOAD_TYPESCRIPT: '1',
  })
  const built = [...nodeFlags, path.join(dirs.root, 'dist/src/server.js')]
  const tsx = ['--import', 'tsx', path.join(dirs.root, 'src/server.ts')]
  const logFile = path.join(dirs.resultsDir, 'start.log')
  fs.writeFileSync(logFile, '')
  const sqlite = `sqlite:${path.join(sqliteDir, 'start.sqlite')}`
  const floor = await floors(dirs.root, nodeFlags)
  const results = [
    await series('built (node dist/src/server.js), MariaDB', built, env(db.url), logFile),
    await series('built (node dist/src/server.js), SQLite', built, env(sqlite), logFile),
    await series('tsx (src/server.ts), MariaDB', tsx, env(db.url), logFile),
  ]
  writeJson(out ?? path.join(dirs.resultsDir, 'start-latest.json'), {
    kind: 'start',
    at: new Date().toISOString(),
    idleMs: IDLE_MS,
    settleMs: SETTLE_MS,
    nodeFlags,
    floors: floor,
    results,
  })
}
