import { parseArgs } from 'node:util'

export const SCENARIO_KEYS = ['get-one', 'list', 'credentials', 'access-token', 'create', 'patch', 'replace-credentials', 'delete'] as const
export type ScenarioKey = (typeof SCENARIO_KEYS)[number]

export interface BenchOptions {
  durationS: number
  warmupS: number
  connections: number
  tenants: number
  perTenant: number
  only: ScenarioKey[]
  /** Times every scenario is measured, in turn; each scenario reports its median round. */
  rounds: number
  /** Soak mode: mixed load against the service only, for this many seconds. */
  soakS?: number
  sampleEveryS?: number
  build: boolean
  cpuProf: boolean
  /** Node flags the service runs with, before its script (e.g. --max-semi-space-size=2), as the Dockerfile's CMD would. */
  nodeFlags: string[]
  /** Scale mode: pages and the summary for tenants of 10, 10,000 and 100,000 in a large table. */
  scale: boolean
  /** Start mode: process start to ready, and idle RSS, for the built service and under tsx. */
  start: boolean
  scaleRows: number
  reseed: boolean
  mysqlUrl: string
  out?: string
}

export const USAGE = `npm run bench -- [options]
  --duration S       measured seconds per scenario and server, in two halves (10)
  --warmup S         unmeasured seconds before each measured run (3)
  --connections N    concurrent connections (32)
  --tenants N        seeded tenants (1000)
  --per-tenant N     seeded integrations per tenant, 7 of 10 source control (10), plus one App Store target
  --only LIST        scenarios to run: ${SCENARIO_KEYS.join(',')} (all)
  --rounds N         measure every scenario N times, in turn, and report each one's median round (1)
  --soak S           mixed load against the service only for S seconds, sampling RSS and event-loop delay
  --sample-every S   soak sampling interval (5, less for short soaks)
  --no-build         use the existing dist/ instead of running npm run build
  --scale            pages of 50 (first, deep cursor) and the summary for tenants of 10, 10,000 and 100,000
                     integrations, on a database seeded once and kept (bench_scale_<rows>)
  --start            process start to the first 200 of /health/ready (schema in place), idle RSS after 3 s and after 30 s:
                     built on MariaDB and SQLite, and under tsx; and the floor: node -e 0, and importing the stack alone
  --scale-rows N     source-control rows in the scale database (1000000)
  --reseed           drop the scale database and seed it again
  --node-flags FLAGS node flags for the service (and --start's built runs), space separated, e.g. "--max-semi-space-size=2"
  --cpu-prof         write V8 CPU profiles of both servers to bench-results/profiles/
  --mysql-url URL    server to create the bench database on (mysql://root@127.0.0.1:3306)
  --out FILE         results JSON (bench-results/latest.json, soak: bench-results/soak-latest.json)`

function positive(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${value}"`)
  return n
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      tenants: { type: 'string' },
      'per-tenant': { type: 'string' },
      only: { type: 'string' },
      rounds: { type: 'string' },
      soak: { type: 'string' },
      'sample-every': { type: 'string' },
      'no-build': { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      'node-flags': { type: 'string' },
      scale: { type: 'boolean' },
      start: { type: 'boolean' },
      'scale-rows': { type: 'string' },
      reseed: { type: 'boolean' },
      'mysql-url': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...SCENARIO_KEYS]) as ScenarioKey[]
  for (const key of only) {
    if (!SCENARIO_KEYS.includes(key)) throw new Error(`--only takes ${SCENARIO_KEYS.join(', ')}; got "${key}"`)
  }
  const mysqlUrl = values['mysql-url'] ?? process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'
  const host = new URL(mysqlUrl).hostname
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`--mysql-url must point at 127.0.0.1, got ${host}`)
  return {
    durationS: positive('duration', values.duration, 10, 2),
    warmupS: positive('warmup', values.warmup, 3, 0),
    connections: positive('connections', values.connections, 32),
    tenants: positive('tenants', values.tenants, 1000),
    perTenant: positive('per-tenant', values['per-tenant'], 10),
    only,
    rounds: positive('rounds', values.rounds, 1),
    soakS: values.soak === undefined ? undefined : positive('soak', values.soak, 300),
    sampleEveryS: values['sample-every'] === undefined ? undefined : positive('sample-every', values['sample-every'], 5),
    build: !values['no-build'],
    cpuProf: Boolean(values['cpu-prof']),
    nodeFlags: values['node-flags']?.split(' ').filter(Boolean) ?? [],
    scale: Boolean(values.scale),
    start: Boolean(values.start),
    scaleRows: positive('scale-rows', values['scale-rows'], 1_000_000, 110_010),
    reseed: Boolean(values.reseed),
    mysqlUrl,
    out: values.out,
  }
}
