import fs from 'node:fs'
import path from 'node:path'
import mysql from 'mysql2/promise'
import t, { type Test } from 'tap'
import { testDialects } from '../helpers/databases.js'
import { runTs, tempDir } from '../helpers/processes.js'

// `npm run bench` at toy scale: it must keep working for whoever measures next. What it
// measures is never asserted here (timings belong to the bench's report, not to tests).
t.setTimeout(300_000)

interface Measured {
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  peakRssBytes: number | null
}

interface BenchJson {
  kind: string
  machine: { nproc: number; node: string; mariadb: string }
  dataset: { tenants: number; rows: Record<string, number> }
  scenarios: {
    key: string
    read: boolean
    service: Measured
    baseline: Measured
    ratios: { throughput: number; p99: number }
    meetsTargets: boolean
    roundRatios?: number[]
  }[]
}

const benchDatabase = (stdout: string) => /^database (bench_\w+) on /m.exec(stdout)?.[1]

async function databaseExists(name: string): Promise<boolean> {
  const conn = await mysql.createConnection(process.env.TEST_MYSQL_URL!)
  try {
    const [rows] = await conn.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])
    return (rows as unknown[]).length > 0
  } finally {
    await conn.end()
  }
}

function assertClean(t: Test, label: string, m: Measured, statuses: string[]) {
  t.ok(m.requests > 0, `${label}: answered requests`)
  t.equal(m.non2xx, 0, `${label}: no non-2xx`)
  t.equal(m.errors, 0, `${label}: no errors`)
  t.equal(m.timeouts, 0, `${label}: no timeouts`)
  t.same(Object.keys(m.statusCodes), statuses, `${label}: only ${statuses.join(', ')}`)
  t.ok(m.peakRssBytes === null || m.peakRssBytes > 0, `${label}: peak RSS read`)
}

// In CI testDialects() throws without MariaDB rather than letting this skip.
const skip = testDialects().includes('mysql') ? false : 'the bench drives MariaDB: set TEST_MYSQL_URL'
const small = ['--tenants', '20', '--connections', '4', '--mysql-url', process.env.TEST_MYSQL_URL ?? '']

t.test('npm run bench: both servers, every scenario, results as JSON, its database dropped', { skip }, async (t) => {
  const out = path.join(tempDir(t), 'bench.json')
  const run = await runTs(t, ['scripts/bench/index.ts', '--duration', '2', '--warmup', '0', ...small, '--out', out], {}, 240_000)
  t.equal(run.code, 0, run.stderr || run.stdout)
  t.match(run.stdout, /both servers answer each scenario correctly/)
  t.match(run.stdout, /throughput service\/baseline/)

  const result = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchJson
  t.equal(result.kind, 'bench')
  t.equal(result.machine.node, process.version)
  t.match(result.machine.mariadb, /MariaDB|^\d/)
  t.same(result.dataset.rows.tenants, 20)
  t.same(
    result.dataset.rows.tenant_scm_integrations,
    19 * 7 + 8 * 7,
    'seven source control of every ten; the first tenant has eight times as many',
  )
  t.same(result.dataset.rows.tenant_target_integrations, 20, 'an App Store target per tenant')
  t.same(
    result.scenarios.map((s) => [s.key, s.read]),
    [
      ['get-one', true],
      ['list', true],
      ['credentials', true],
      ['access-token', true],
      ['create', false],
      ['patch', false],
      ['replace-credentials', false],
      ['delete', false],
    ],
    'the reads, then the writes',
  )
  const answered: Record<string, string> = { create: '201', delete: '204' }
  for (const s of result.scenarios) {
    const statuses = [answered[s.key] ?? '200']
    assertClean(t, `${s.key} service`, s.service, statuses)
    assertClean(t, `${s.key} baseline`, s.baseline, statuses)
    t.ok(Number.isFinite(s.ratios.throughput) && s.ratios.throughput > 0, `${s.key}: a throughput ratio`)
    t.ok(Number.isFinite(s.ratios.p99) && s.ratios.p99 > 0, `${s.key}: a p99 ratio`)
    t.equal(typeof s.meetsTargets, 'boolean', `${s.key}: a verdict against its target`)
  }

  const name = benchDatabase(run.stdout)
  t.ok(name, 'names its database')
  t.notOk(await databaseExists(name!), 'and drops it')
})

t.test('npm run bench -- --rounds: every scenario measured in turn, each reports its median round', { skip }, async (t) => {
  const out = path.join(tempDir(t), 'bench.json')
  const args = ['scripts/bench/index.ts', '--rounds', '3', '--only', 'get-one,delete', '--duration', '2', '--warmup', '0', ...small]
  const run = await runTs(t, [...args, '--out', out], {}, 240_000)
  t.equal(run.code, 0, run.stderr || run.stdout)
  t.match(run.stdout, /round 3 of 3/)
  const result = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchJson
  t.same(
    result.scenarios.map((s) => s.key),
    ['get-one', 'delete'],
  )
  for (const s of result.scenarios) {
    t.equal(s.roundRatios?.length, 3, `${s.key}: three rounds`)
    const sorted = [...s.roundRatios!].sort((a, b) => a - b)
    t.equal(s.ratios.throughput, sorted[1], `${s.key}: the median round is the one reported`)
  }
  // Rows for the deletes of every round were seeded: none answered 404.
  assertClean(t, 'delete service', result.scenarios[1]!.service, ['204'])
  assertClean(t, 'delete baseline', result.scenarios[1]!.baseline, ['204'])
})

t.test('npm run bench -- --soak: samples RSS and event-loop delay over time, no errors', { skip }, async (t) => {
  const out = path.join(tempDir(t), 'soak.json')
  const run = await runTs(
    t,
    ['scripts/bench/index.ts', '--no-build', '--soak', '4', '--sample-every', '1', ...small, '--out', out],
    {},
    120_000,
  )
  t.equal(run.code, 0, run.stderr || run.stdout)
  const { kind, soak } = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    kind: string
    soak: {
      requests: number
      errors: number
      non2xx: number
      byScenario: Record<string, { requests: number }>
      samples: { t: number; rssBytes: number; eventLoopLagP99Ms: number }[]
    }
  }
  t.equal(kind, 'soak')
  t.ok(soak.requests > 0)
  t.equal(soak.errors, 0)
  t.equal(soak.non2xx, 0)
  t.same(Object.keys(soak.byScenario).sort(), ['create', 'credentials', 'get-one', 'list'], 'a mixed load')
  t.ok(soak.samples.length >= 4, `${soak.samples.length} samples`)
  t.ok(
    soak.samples.every((s) => s.rssBytes > 0 && Number.isFinite(s.eventLoopLagP99Ms)),
    'each sample has RSS and event-loop delay',
  )
  t.same(
    soak.samples.map((s) => s.t),
    [...soak.samples.map((s) => s.t)].sort((a, b) => a - b),
    'in time order',
  )
  const name = benchDatabase(run.stdout)
  t.ok(name && !(await databaseExists(name)), 'its database is dropped')
})
