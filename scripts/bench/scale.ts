import path from 'node:path'
import mysql from 'mysql2/promise'
import { encodeCursor } from '../../src/integrations/cursor.js'
import { measureOne, type LoadResult, type LoadSettings } from './load.js'
import type { BenchOptions } from './options.js'
import { writeJson } from './report.js'
import { readRss } from './rss.js'
import { readMarker, scaleDatabaseName, seedScale, type ScaleData } from './scale-seed.js'
import type { RequestSpec } from './scenarios.js'
import { generateSecrets } from './secrets.js'
import { startService } from './servers.js'

const BASE = '/api/v1/integrations'

interface CurvePoint {
  scenario: string
  size: number
  connections: number
  /** Items in one answer. */
  items: number
  result: LoadResult
  /** Throughput and p99 against the 10-integration tenant's. */
  throughputRatio: number
  p99Ratio: number
}

/** Opens (or creates) the scale database; a database without a complete marker is dropped and made again. */
async function openScaleDatabase(serverUrl: string, scmRows: number, reseed: boolean) {
  const name = scaleDatabaseName(scmRows)
  const url = `${serverUrl.replace(/\/+$/, '')}/${name}`
  const admin = await mysql.createConnection({ uri: serverUrl, connectTimeout: 5_000 })
  try {
    const [version] = await admin.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version')
    if (reseed) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    const connect = () => mysql.createConnection({ uri: url, timezone: 'Z', connectTimeout: 5_000 })
    const probe = await connect()
    const marker = await readMarker(probe).finally(() => probe.end())
    if (!marker) {
      await admin.query(`DROP DATABASE \`${name}\``)
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    }
    return { name, url, marker, version: String(version[0]?.version), connect }
  } finally {
    await admin.end()
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n')
}

/**
 * `npm run bench -- --scale`: a page of 50 (first and deep), a page of 10, and the summary, for tenants of 10, 10,000
 * and 100,000 source-control integrations in a table of `--scale-rows` (1,000,000), on a database
 * seeded once and kept (bench_scale_<rows>) for the next run.
 */
export async function runScale(options: BenchOptions, dirs: { root: string; resultsDir: string }, startedAt: string) {
  const db = await openScaleDatabase(options.mysqlUrl, options.scaleRows, options.reseed)
  console.log(`database ${db.name} on MariaDB ${db.version}: ${db.marker ? 'seeded before, reused' : 'empty, seeding'}`)
  const secrets = generateSecrets(db.marker ?? undefined)
  const service = await startService({ ...dirs, databaseUrl: db.url, secrets, cpuProf: options.cpuProf, nodeFlags: options.nodeFlags })
  console.log(`service pid ${service.pid} at ${service.url}`)

  let data: ScaleData
  if (db.marker) {
    data = db.marker.data
  } else {
    const conn = await db.connect()
    data = await seedScale(conn, secrets, options.scaleRows).finally(() => conn.end())
  }
  console.log(`rows ${JSON.stringify(data.rows)} (seeded in ${data.seededInS} s)`)

  const load: LoadSettings = { connections: options.connections, durationS: options.durationS, warmupS: options.warmupS }
  const scenarios = await Promise.all(
    data.tenants.map(async (tenant) => {
      const headers = { authorization: `Bearer ${await secrets.userToken(tenant.accountId)}` }
      const page = `${BASE}/scm?tenantId=${tenant.id}&limit=50`
      return [
        { scenario: 'page of 50, first', size: tenant.size, path: page, connections: load.connections, headers },
        {
          scenario: 'page of 50, deep cursor',
          size: tenant.size,
          path: `${page}&cursor=${encodeCursor(tenant.deepAfterId)}`,
          connections: load.connections,
          headers,
        },
        // As many items for every size: the 10-integration tenant's page of 50 holds 10.
        {
          scenario: 'page of 10, first',
          size: tenant.size,
          path: `${BASE}/scm?tenantId=${tenant.id}&limit=10`,
          connections: load.connections,
          headers,
        },
        // Up to 50 of each kind (the default limit) and a cursor per kind with more.
        {
          scenario: 'summary, six kinds',
          size: tenant.size,
          path: `${BASE}?tenantId=${tenant.id}`,
          connections: load.connections,
          headers,
        },
      ]
    }),
  ).then((lists) => lists.flat().sort((a, b) => a.scenario.localeCompare(b.scenario) || a.size - b.size))

  const points: CurvePoint[] = []
  for (const s of scenarios) {
    const check = await fetch(service.url + s.path, { headers: s.headers, signal: AbortSignal.timeout(30_000) })
    const body = (await check.json()) as { items?: unknown[]; kinds?: Record<string, unknown[]> }
    if (check.status !== 200) throw new Error(`${s.scenario} for the ${s.size} tenant answered ${check.status}`)
    const items = body.items?.length ?? Object.values(body.kinds ?? {}).reduce((n, list) => n + list.length, 0)
    const next = (): RequestSpec => ({ method: 'GET', path: s.path, headers: s.headers })
    const result = await measureOne(service, next, { ...load, connections: s.connections })
    const first = points.find((p) => p.scenario === s.scenario)
    points.push({
      scenario: s.scenario,
      size: s.size,
      connections: s.connections,
      items,
      result,
      throughputRatio: first ? result.requestsPerSec / first.result.requestsPerSec : 1,
      p99Ratio: first ? result.p99Ms / first.result.p99Ms : 1,
    })
    console.log(`${s.scenario}, ${s.size} integrations: ${result.requestsPerSec.toFixed(0)} req/s, p99 ${result.p99Ms} ms`)
  }

  const rows = [['scenario', 'tenant size', 'items', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'vs 10: req/s', 'vs 10: p99']]
  for (const p of points) {
    rows.push([
      p.scenario,
      p.size.toLocaleString('en-US'),
      String(p.items),
      String(p.connections),
      p.result.requestsPerSec.toFixed(0),
      p.result.p50Ms.toFixed(1),
      p.result.p99Ms.toFixed(1),
      String(p.result.non2xx + p.result.errors),
      `${p.throughputRatio.toFixed(2)}×`,
      `${p.p99Ratio.toFixed(2)}×`,
    ])
  }
  console.log(`\n${table(rows)}\n`)
  writeJson(options.out ?? path.join(dirs.resultsDir, 'scale-latest.json'), {
    kind: 'scale',
    startedAt,
    finishedAt: new Date().toISOString(),
    command: ['npm run bench', '--', ...process.argv.slice(2)].join(' '),
    database: { name: db.name, version: db.version, rows: data.rows, seededInS: data.seededInS, reused: Boolean(db.marker) },
    settings: load,
    serviceVmHwmBytes: readRss(service.pid, 'VmHWM') ?? null,
    points,
  })
}
