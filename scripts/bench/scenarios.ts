import { randomBytes } from 'node:crypto'
import type { ScenarioKey } from './options.js'
import type { DataSet } from './seed.js'

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  path: string
  headers: Record<string, string>
  body?: string
}

export interface Scenario {
  key: ScenarioKey
  name: string
  /** A read (targets ≥ 0.8× the baseline's throughput, p99 ≤ 2×) or a write (≥ 0.7×); see TARGETS in report.ts. */
  read: boolean
  /** A new request each call, spread over tenants and ids so no single row stays hot. */
  next: () => RequestSpec
}

const BASE = '/api/v1/integrations/scm'
const TARGETS = '/api/v1/integrations/targets'
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Unique across runs against the same database: creates never collide. */
const runTag = randomBytes(4).toString('hex')
let created = 0
let patched = 0
let replaced = 0
/** Deletes take the seeded disposable rows in order, each once, whichever server asks. */
let deleted = 0
const json = (token: string) => ({ ...bearer(token), 'content-type': 'application/json' })

export function buildScenarios(data: DataSet): Record<ScenarioKey, Scenario> {
  return {
    'get-one': {
      key: 'get-one',
      name: 'GET one',
      read: true,
      next() {
        const row = pick(data.scm)
        return { method: 'GET', path: `${BASE}/${row.id}`, headers: bearer(data.tenants[row.tenant]!.token) }
      },
    },
    list: {
      key: 'list',
      name: 'GET list (limit 50)',
      read: true,
      next() {
        // Full pages: tenants with more than 50 source-control integrations, when the seed has them.
        const tenant = data.tenants[pick(data.large.length > 0 ? data.large : data.tenants.map((_, i) => i))]!
        return { method: 'GET', path: `${BASE}?tenantId=${tenant.id}&limit=50`, headers: bearer(tenant.token) }
      },
    },
    create: {
      key: 'create',
      name: 'POST create',
      read: false,
      next() {
        const tenant = pick(data.tenants)
        const n = ++created
        const body = JSON.stringify({
          tenantId: tenant.id,
          scmType: 'GITHUB',
          displayName: `Bench ${n}`,
          repositoryUrl: `https://github.com/bench-${runTag}/repo-${n}`,
          accessToken: `ghp_bench_created_${n}`,
        })
        return { method: 'POST', path: BASE, headers: json(tenant.token), body }
      },
    },
    patch: {
      key: 'patch',
      name: 'PATCH displayName',
      read: false,
      next() {
        const row = pick(data.scm)
        const body = JSON.stringify({ displayName: `Patched ${runTag} ${++patched}` })
        return { method: 'PATCH', path: `${BASE}/${row.id}`, headers: json(data.tenants[row.tenant]!.token), body }
      },
    },
    'replace-credentials': {
      key: 'replace-credentials',
      name: 'PUT credentials (no verify)',
      read: false,
      // Half the seeded rows are VALID: the first replacement of one also records verification_changed (2 audit rows, 2 events).
      next() {
        const row = pick(data.scm)
        const body = JSON.stringify({ accessToken: `ghp_bench_replaced_${runTag}_${++replaced}` })
        return { method: 'PUT', path: `${BASE}/${row.id}/credentials`, headers: json(data.tenants[row.tenant]!.token), body }
      },
    },
    delete: {
      key: 'delete',
      name: 'DELETE',
      read: false,
      // Rows seeded for it just before (seedDisposable); once they run out the answers are 404s, counted as non-2xx.
      next() {
        const row = data.disposable[deleted++]
        if (!row) return { method: 'DELETE', path: `${BASE}/00000000-0000-7000-8000-000000000000`, headers: bearer(data.tenants[0]!.token) }
        return { method: 'DELETE', path: `${BASE}/${row.id}`, headers: bearer(data.tenants[row.tenant]!.token) }
      },
    },
    credentials: {
      key: 'credentials',
      name: 'GET credentials (service token)',
      read: true,
      next() {
        return { method: 'GET', path: `${BASE}/${pick(data.scm).id}/credentials`, headers: bearer(data.serviceToken) }
      },
    },
    'access-token': {
      key: 'access-token',
      name: 'POST access-token (App Store, cached)',
      read: true,
      // Each target's token is minted once (during the warm-up) and served from the cache after.
      next() {
        return { method: 'POST', path: `${TARGETS}/${pick(data.appStore).id}/access-token`, headers: bearer(data.serviceToken) }
      },
    },
  }
}
