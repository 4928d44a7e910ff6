/**
 * npm run db-fault: stops MariaDB for a few seconds while the service is under load, starts it
 * again, and reports how the service answered, how fast it recovered, and whether every
 * create it acknowledged is stored (and none it refused is). See the README, "Database outages".
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import mysql from 'mysql2/promise'
import { mintToken } from '../src/auth/tokens.js'
import { DEMO } from '../src/db/dev-seed.js'

/**
 * Runs a command to its exit. Its output is not read: mariadbd, started in the background,
 * must not inherit a pipe that would keep this process waiting.
 */
function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited ${code}`))))
  })
}
const ROOT = path.resolve(import.meta.dirname, '..')
const MARIADBD = '/usr/sbin/mariadbd'
/** A request without an answer after this long is counted as hanging. */
const HANG_MS = 15_000
/** The service's own bounds: an answer slower than the acquire timeout waited on something else. */
const FAST_P99_MS = 1_000
const MAX_MS = 5_000
const RECOVERY_LIMIT_MS = 10_000

const USAGE = `npm run db-fault -- [options]
  --outage S        seconds MariaDB stays stopped (10)
  --before S        seconds of load before the stop (5)
  --after S         seconds of load after MariaDB answers again (10)
  --concurrency N   concurrent clients (4)
  --built           run dist/src/server.js (after npm run build) instead of src/server.ts through tsx
  --mysql-url URL   the MariaDB server to create the scratch database on (TEST_MYSQL_URL or mysql://root@127.0.0.1:3306/)
  --json FILE       also write every figure as JSON

Stops and starts the local MariaDB with start-stop-daemon (${MARIADBD}): run as root, on a
machine where a 10-second outage harms nobody. MariaDB is started again whatever happens.`

function options() {
  const { values } = parseArgs({
    strict: true,
    options: {
      outage: { type: 'string', default: '10' },
      before: { type: 'string', default: '5' },
      after: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '4' },
      built: { type: 'boolean', default: false },
      'mysql-url': { type: 'string', default: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const seconds = (name: 'outage' | 'before' | 'after' | 'concurrency', max: number) => {
    const n = Number(values[name])
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}`)
    return n
  }
  return {
    outageS: seconds('outage', 60),
    beforeS: seconds('before', 120),
    afterS: seconds('after', 300),
    concurrency: seconds('concurrency', 64),
    built: values.built,
    serverUrl: values['mysql-url'],
    json: values.json,
  }
}

type Op = 'create' | 'list' | 'get'

interface Sample {
  op: Op
  start: number
  end: number
  status: number | 'no answer'
  code?: string
  /** creates: the unique name sent, and the id when answered 201 */
  name?: string
  id?: string
}

const clock = () => performance.now()

function serverUrl(base: string, database?: string): string {
  const url = new URL(base)
  url.pathname = database ? `/${database}` : '/'
  return url.toString()
}

async function answers(base: string): Promise<boolean> {
  try {
    const conn = await mysql.createConnection({ uri: serverUrl(base), connectTimeout: 1_000 })
    await conn.query('SELECT 1')
    await conn.end()
    return true
  } catch {
    return false
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 100) {
  const deadline = clock() + timeoutMs
  while (!(await check())) {
    if (clock() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await sleep(everyMs)
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const ms = (n: number) => `${Math.round(n)} ms`
const s = (n: number) => `${(n / 1000).toFixed(2)} s`

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1
  return counts
}

const describe = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ') || 'none'

function logMessage(line: string): string {
  try {
    return (JSON.parse(line) as { msg?: string }).msg ?? '?'
  } catch {
    return line.slice(0, 80)
  }
}

const answerKey = (x: Sample) => (x.status === 'no answer' ? 'no answer' : x.code ? `${x.status} ${x.code}` : String(x.status))

async function main() {
  const opts = options()
  const runId = randomBytes(4).toString('hex')
  const database = `di_fault_${runId}`
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivr-db-fault-'))
  const secret = randomBytes(32).toString('hex')
  const auth = { algorithms: ['HS256' as const], secret }
  let service: ChildProcess | undefined
  let serviceExit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined
  let mariadbStopped = false
  let stopLoad = false

  let cleaning: Promise<void> | undefined
  const cleanup = () => (cleaning ??= restoreAndClean())
  const restoreAndClean = async () => {
    stopLoad = true
    if (mariadbStopped) {
      // Whatever went wrong, the machine's MariaDB is started again before anything else.
      await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', MARIADBD]).catch((err) =>
        console.error(`could not start MariaDB: ${(err as Error).message}`),
      )
      await waitFor('MariaDB answering again', () => answers(opts.serverUrl), 60_000).then(
        () => (mariadbStopped = false),
        (err: Error) => console.error(`${err.message}: start it with start-stop-daemon --start --oknodo --background --exec ${MARIADBD}`),
      )
    }
    if (service && service.exitCode === null && service.signalCode === null) service.kill('SIGKILL')
    await mysql
      .createConnection(serverUrl(opts.serverUrl))
      .then(async (conn) => {
        await conn.query(`DROP DATABASE IF EXISTS \`${database}\``)
        await conn.end()
      })
      .catch((err: Error) => console.error(`could not drop ${database}: ${err.message}`))
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  const deadline = (opts.beforeS + opts.outageS + opts.afterS + 180) * 1000
  const abort = (why: string) => {
    console.error(`\n${why}: restoring MariaDB and cleaning up`)
    void cleanup().finally(() => process.exit(1))
  }
  process.once('SIGINT', () => abort('interrupted'))
  process.once('SIGTERM', () => abort('terminated'))
  setTimeout(() => abort(`deadline of ${deadline / 1000} s passed`), deadline).unref()

  try {
    if (!(await answers(opts.serverUrl))) throw new Error(`MariaDB at ${opts.serverUrl} does not answer; nothing was done`)
    const admin = await mysql.createConnection(serverUrl(opts.serverUrl))
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    await admin.end()

    // Start the service on the scratch database.
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const entry = opts.built
      ? [path.join(ROOT, 'dist', 'src', 'server.js')]
      : [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'src', 'server.ts')]
    if (opts.built && !fs.existsSync(entry[0]!)) throw new Error('dist/src/server.js is missing: run npm run build first')
    const logFile = path.join(dataDir, 'service.log')
    const log = fs.openSync(logFile, 'a')
    service = spawn(process.execPath, entry, {
      cwd: ROOT,
      stdio: ['ignore', log, log],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        DATA_DIR: dataDir,
        DATABASE_URL: serverUrl(opts.serverUrl, database),
        AUTH_JWT_SECRET: secret,
        CREDENTIAL_KEYS: `f1:${randomBytes(32).toString('base64')}`,
        DEV_SEED: 'true',
      },
    })
    service.once('exit', (code, signal) => (serviceExit = { code, signal, at: clock() }))
    await waitFor(
      'the service ready',
      async () => {
        if (serviceExit) throw new Error(`the service exited at start (${serviceExit.code ?? serviceExit.signal}); see ${logFile}`)
        return (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200
      },
      90_000,
    )
    const pid = service.pid
    const headers = { authorization: `Bearer ${await mintToken(auth, { sub: DEMO.accountId, expiresIn: '1h' })}` }

    // Load: each client loops create / list / get-one until told to stop.
    const samples: Sample[] = []
    const created: string[] = []
    let seq = 0
    const send = async (op: Op): Promise<void> => {
      const sample: Sample = { op, start: clock(), end: 0, status: 'no answer' }
      let url = `${base}/api/v1/integrations/scm`
      const init: RequestInit = { headers, signal: AbortSignal.timeout(HANG_MS) }
      if (op === 'create') {
        sample.name = `fault-${runId}-${++seq}`
        init.method = 'POST'
        init.headers = { ...headers, 'content-type': 'application/json' }
        init.body = JSON.stringify({
          tenantId: DEMO.tenantId,
          scmType: 'GITHUB',
          displayName: sample.name,
          repositoryUrl: `https://github.com/delivr-fault/${sample.name}`,
          accessToken: `ghp_${randomBytes(16).toString('hex')}`,
        })
      } else if (op === 'list') {
        url += `?tenantId=${DEMO.tenantId}&limit=20`
      } else {
        url += `/${created[Math.floor(Math.random() * created.length)]}`
      }
      try {
        const res = await fetch(url, init)
        const body = (await res.json().catch(() => ({}))) as { code?: string; id?: string }
        sample.status = res.status
        sample.code = res.status >= 400 ? body.code : undefined
        if (op === 'create' && res.status === 201 && body.id) {
          sample.id = body.id
          created.push(body.id)
        }
      } catch {
        sample.status = 'no answer'
      }
      sample.end = clock()
      samples.push(sample)
    }
    const client = async () => {
      while (!stopLoad) {
        const roll = Math.random()
        await send(roll < 0.3 || created.length === 0 ? 'create' : roll < 0.65 ? 'list' : 'get')
        await sleep(20)
      }
    }
    const loadStart = clock()
    const clients = Array.from({ length: opts.concurrency }, client)

    await sleep(opts.beforeS * 1000)
    const stopIssued = clock()
    mariadbStopped = true
    await run('start-stop-daemon', ['--stop', '--exec', MARIADBD, '--retry', 'TERM/30/KILL/5'])
    const stopped = clock()
    await sleep(opts.outageS * 1000)
    const startIssued = clock()
    await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', MARIADBD])
    await waitFor('MariaDB answering again', () => answers(opts.serverUrl), 60_000, 50)
    const back = clock()
    mariadbStopped = false
    await sleep(opts.afterS * 1000)
    stopLoad = true
    await Promise.all(clients)
    const loadEnd = clock()

    const aliveThroughout = serviceExit === undefined
    service.kill('SIGTERM')
    await waitFor('the service to exit after SIGTERM', async () => serviceExit !== undefined, 30_000, 50)
    const exit = serviceExit!

    // Reconcile every create against what the database holds.
    const conn = await mysql.createConnection(serverUrl(opts.serverUrl, database))
    const [rows] = (await conn.query(
      'SELECT id, displayName, accessToken, accessTokenFingerprint FROM tenant_scm_integrations WHERE tenantId = ?',
      [DEMO.tenantId],
    )) as unknown as [{ id: string; displayName: string; accessToken: string | null; accessTokenFingerprint: string | null }[]]
    await conn.end()
    const stored = new Map(rows.map((r) => [r.displayName, r]))
    const creates = samples.filter((x) => x.op === 'create')
    const acknowledged = creates.filter((x) => x.status === 201)
    const refused = creates.filter((x) => x.status !== 201)
    const missing = acknowledged.filter((x) => stored.get(x.name!)?.id !== x.id)
    const leftBehind = refused.filter((x) => stored.has(x.name!))
    const sentNames = new Set(creates.map((x) => x.name))
    const unexplained = rows.filter((r) => !sentNames.has(r.displayName))
    const incomplete = rows.filter((r) => !r.accessToken?.startsWith('enc:v2:') || !r.accessTokenFingerprint)

    // Figures.
    const overlaps = (x: Sample, from: number, to: number) => x.start < to && x.end >= from
    const during = samples.filter((x) => overlaps(x, stopIssued, back))
    const latencies = during.map((x) => x.end - x.start).sort((a, b) => a - b)
    const firstOk = samples.filter((x) => typeof x.status === 'number' && x.status < 300 && x.end >= back).sort((a, b) => a.end - b.end)[0]
    const recoveryMs = firstOk ? firstOk.end - back : undefined
    const unanswered = samples.filter((x) => x.status === 'no answer')
    const unexpected = samples.filter((x) => typeof x.status === 'number' && x.status >= 500 && x.code !== 'DATABASE_UNAVAILABLE')
    const logLines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean)

    const checks: [string, boolean][] = [
      [
        `the service never exited on its own, and exited 0 on SIGTERM (got ${exit.code ?? exit.signal})`,
        aliveThroughout && exit.code === 0,
      ],
      [`every request was answered within ${HANG_MS / 1000} s (${unanswered.length} were not)`, unanswered.length === 0],
      [
        `answers during the outage were quick: p99 ${ms(percentile(latencies, 99))} (< ${ms(FAST_P99_MS)}), max ${ms(latencies.at(-1) ?? 0)} (< ${ms(MAX_MS)})`,
        percentile(latencies, 99) < FAST_P99_MS && (latencies.at(-1) ?? 0) < MAX_MS,
      ],
      [`no 5xx other than 503 DATABASE_UNAVAILABLE (${unexpected.length})`, unexpected.length === 0],
      [
        `first 2xx ${recoveryMs === undefined ? 'never came' : `${s(recoveryMs)} after MariaDB answered again`} (< ${s(RECOVERY_LIMIT_MS)})`,
        recoveryMs !== undefined && recoveryMs < RECOVERY_LIMIT_MS,
      ],
      [`every create answered 201 is stored (${acknowledged.length - missing.length}/${acknowledged.length})`, missing.length === 0],
      [`no create answered otherwise left a row (${leftBehind.length} of ${refused.length} did)`, leftBehind.length === 0],
      [
        `no row the load did not ask for, none incomplete (${unexplained.length}, ${incomplete.length})`,
        unexplained.length + incomplete.length === 0,
      ],
    ]
    const at = (t: number) => s(t - loadStart)
    const report = [
      `db-fault: MariaDB stopped for ${opts.outageS} s under load (${opts.concurrency} clients, ~30% creates, 70% reads; ${opts.built ? 'dist' : 'tsx'} service pid ${pid}, database ${database})`,
      `timeline from load start: stop issued ${at(stopIssued)}, mariadbd gone ${at(stopped)}, start issued ${at(startIssued)}, answering ${at(back)}, load ended ${at(loadEnd)}`,
      `requests: ${samples.length} — ${describe(countBy(samples, answerKey))}`,
      `during the outage (requests overlapping ${at(stopIssued)}–${at(back)}): ${during.length} — ${describe(countBy(during, answerKey))}`,
      `  latency p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1) ?? 0)}`,
      `recovery: first 2xx ${recoveryMs === undefined ? 'never' : `${s(recoveryMs)} after MariaDB answered (${s(firstOk!.end - startIssued)} after the start command)`}`,
      `creates: ${creates.length} sent — 201 ×${acknowledged.length}, otherwise ×${refused.length} (${describe(countBy(refused, answerKey))}); rows stored ${rows.length}`,
      `service log: ${logLines.length} warn/error lines (${describe(countBy(logLines, logMessage))})`,
      '',
      ...checks.map(([what, ok]) => `${ok ? 'ok  ' : 'FAIL'} ${what}`),
    ]
    console.log(report.join('\n'))
    for (const x of [...missing, ...leftBehind].slice(0, 10))
      console.log(`  create ${x.name}: answered ${answerKey(x)}, stored: ${stored.has(x.name!)}`)
    if (opts.json) {
      fs.writeFileSync(
        opts.json,
        JSON.stringify(
          {
            outageS: opts.outageS,
            concurrency: opts.concurrency,
            requests: samples.length,
            duringOutage: {
              answers: during.length,
              byAnswer: countBy(during, answerKey),
              p50Ms: percentile(latencies, 50),
              p99Ms: percentile(latencies, 99),
              maxMs: latencies.at(-1) ?? 0,
            },
            recoveryMs,
            creates: { sent: creates.length, acknowledged: acknowledged.length, missing: missing.length, leftBehind: leftBehind.length },
            checks: Object.fromEntries(checks),
          },
          null,
          2,
        ),
      )
    }
    process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1
  } finally {
    await cleanup()
  }
}

main().catch((err: Error) => {
  console.error(`db-fault: ${err.message}`)
  process.exit(1)
})
