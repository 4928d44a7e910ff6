import { generateKeyPairSync } from 'node:crypto'
import type mysql from 'mysql2/promise'
import { v7 as uuidv7 } from 'uuid'
import type { Secrets } from './secrets.js'

/** The tenants the curve is measured on, by their number of source-control integrations. */
export const SCALE_SIZES = [10, 10_000, 100_000] as const
/** Integrations of each other kind every measured tenant holds (so the summary reads six tables). */
export const OTHER_PER_MEASURED = 2
/** Source-control integrations of each filler tenant; each also gets one row of every other kind. */
const FILLER_SIZE = 100
const BATCH = 2_000

export interface ScaleTenant {
  size: number
  id: string
  accountId: string
  /** The id a deep page starts after: 90 % into the tenant's rows, less one page. */
  deepAfterId: string
}

export interface ScaleData {
  tenants: ScaleTenant[]
  rows: Record<string, number>
  seededInS: number
}

type Row = (string | number | Date | null)[]

const MARKER = 'bench_scale_marker'

/** A scale database is reused while its marker says it holds `scmRows` source-control rows, complete. */
export function scaleDatabaseName(scmRows: number): string {
  return `bench_scale_${scmRows}`
}

export interface ScaleMarker {
  jwtSecret: string
  credentialKeys: string
  data: ScaleData
}

export async function readMarker(conn: mysql.Connection): Promise<ScaleMarker | undefined> {
  const [tables] = await conn.query<mysql.RowDataPacket[]>('SHOW TABLES LIKE ?', [MARKER])
  if (tables.length === 0) return undefined
  const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT body FROM \`${MARKER}\` WHERE complete = 1`)
  return rows[0] ? (JSON.parse(String(rows[0].body)) as ScaleMarker) : undefined
}

const COMMON = ['id', 'tenantId', 'isActive', 'verificationStatus', 'lastVerifiedAt', 'createdByAccountId', 'createdAt', 'updatedAt']

interface KindRows {
  table: string
  columns: string[]
  /** Provider fields and sealed secrets of the `n`-th row of a tenant. */
  build(seal: Sealer, tenant: number, n: number, id: string, tenantId: string): Row
}
type Sealer = (kind: string, tenantId: string, id: string, field: string, plaintext: string) => [string, string]

function kinds(p8: string): { scm: KindRows; others: KindRows[] } {
  const scm: KindRows = {
    table: 'tenant_scm_integrations',
    columns: [
      'scmType',
      'displayName',
      'githubOrganization',
      'githubRepository',
      'repositoryUrl',
      'defaultBranch',
      'accessToken',
      'accessTokenFingerprint',
    ],
    build: (seal, t, n, id, tenantId) => [
      'GITHUB',
      `Repo ${n}`,
      `org-${t}`,
      `repo-${n}`,
      `https://github.com/org-${t}/repo-${n}`,
      'main',
      ...seal('scm', tenantId, id, 'accessToken', `ghp_scale_${t}_${n}`),
    ],
  }
  const others: KindRows[] = [
    {
      table: 'tenant_target_integrations',
      columns: ['targetType', 'displayName', 'bundleId', 'issuerId', 'keyId', 'applicationId', 'privateKey', 'privateKeyFingerprint'],
      build: (seal, t, n, id, tenantId) => [
        'APP_STORE',
        `iOS ${n}`,
        `com.scale.app${t}.n${n}`,
        '69a6de7e-0000-47e3-e053-5b8c7c11a4d1',
        'SCALEKEY01',
        `com.scale.app${t}.n${n}`,
        ...seal('targets', tenantId, id, 'privateKey', p8),
      ],
    },
    {
      table: 'tenant_cicd_integrations',
      columns: ['cicdType', 'displayName', 'hostUrl', 'username', 'apiToken', 'apiTokenFingerprint'],
      build: (seal, t, n, id, tenantId) => [
        'JENKINS',
        `Jenkins ${n}`,
        `https://ci-${t}-${n}.scale.test/jenkins`,
        'release-bot',
        ...seal('ci-cd', tenantId, id, 'apiToken', `jenkins_${t}_${n}`),
      ],
    },
    {
      table: 'tenant_communication_integrations',
      columns: ['communicationType', 'displayName', 'workspaceId', 'workspaceName', 'botToken', 'botTokenFingerprint'],
      build: (seal, t, n, id, tenantId) => [
        'SLACK',
        `Slack ${n}`,
        `T${t}W${n}`,
        `Workspace ${t}`,
        ...seal('communication', tenantId, id, 'botToken', `xoxb-scale-${t}-${n}`),
      ],
    },
    {
      table: 'tenant_project_management_integrations',
      columns: ['projectManagementType', 'displayName', 'baseUrl', 'jiraType', 'email', 'apiToken', 'apiTokenFingerprint'],
      build: (seal, t, n, id, tenantId) => [
        'JIRA',
        `Jira ${n}`,
        `https://site-${t}-${n}.atlassian.net`,
        'CLOUD',
        `release-${t}@scale.test`,
        ...seal('project-management', tenantId, id, 'apiToken', `jira_${t}_${n}`),
      ],
    },
    {
      table: 'tenant_test_management_integrations',
      columns: ['testManagementType', 'displayName', 'baseUrl', 'orgId', 'authToken', 'authTokenFingerprint'],
      build: (seal, t, n, id, tenantId) => [
        'CHECKMATE',
        `Checkmate ${n}`,
        `https://checkmate-${t}.scale.test`,
        `org${n}`,
        ...seal('test-management', tenantId, id, 'authToken', `checkmate_${t}_${n}`),
      ],
    },
  ]
  return { scm, others }
}

/**
 * Multi-row INSERTs of BATCH rows, at most one in flight per table while the next batch is built
 * (encrypting is the seed's own cost, inserting MariaDB's: the two overlap on two cores).
 */
function bulkWriter(conn: mysql.Connection, table: string, columns: string[]) {
  let buffer: Row[] = []
  let inFlight: Promise<unknown> = Promise.resolve()
  let written = 0
  const sql = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`
  const flush = async () => {
    if (buffer.length === 0) return
    const values = buffer
    buffer = []
    await inFlight
    written += values.length
    inFlight = conn.query(sql, [values])
  }
  return {
    async add(row: Row) {
      buffer.push(row)
      if (buffer.length >= BATCH) await flush()
    },
    async end() {
      await flush()
      await inFlight
      return written
    },
  }
}

/**
 * Seeds `scmRows` source-control integrations: one tenant of each SCALE_SIZES size, the rest across
 * tenants of FILLER_SIZE, every row sealed with the service's cipher as the service writes it. Each tenant
 * also gets integrations of the five other kinds (OTHER_PER_MEASURED each for the measured tenants, one
 * each for the fillers). Ids (UUIDv7, tenants too) ascend in insertion order, so every index led by
 * tenantId or id is appended to, not split. Ends with ANALYZE TABLE and a marker row naming what is there.
 */
export async function seedScale(conn: mysql.Connection, secrets: Secrets, scmRows: number): Promise<ScaleData> {
  const started = Date.now()
  const measured = SCALE_SIZES.reduce((a, b) => a + b, 0)
  if (scmRows < measured) throw new Error(`--scale-rows must be at least ${measured} (the measured tenants hold that many)`)
  await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0')
  const p8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const { scm, others } = kinds(p8)
  const seal: Sealer = (kind, tenantId, id, field, plaintext) => [
    secrets.cipher.encrypt(plaintext, { tenantId, kind, id, field }),
    secrets.cipher.fingerprint(plaintext),
  ]
  const writers = new Map(
    [scm, ...others].map((k) => [k.table, { kind: k, writer: bulkWriter(conn, k.table, [...COMMON, ...k.columns]) }] as const),
  )
  const accounts = bulkWriter(conn, 'accounts', ['id', 'email', 'name', 'createdAt', 'updatedAt'])
  const tenantRows = bulkWriter(conn, 'tenants', ['id', 'displayName', 'createdBy', 'createdAt', 'updatedAt'])
  const members = bulkWriter(conn, 'collaborators', [
    'email',
    'accountId',
    'appId',
    'tenantId',
    'permission',
    'isCreator',
    'createdAt',
    'updatedAt',
  ])

  const sizes: number[] = []
  // The measured tenants first, then fillers: the large tenants' rows are not the table's newest.
  for (const size of SCALE_SIZES) sizes.push(size)
  for (let left = scmRows - measured; left > 0; left -= FILLER_SIZE) sizes.push(Math.min(FILLER_SIZE, left))
  const at = new Date(Date.now() - 86_400_000)
  const tenants: ScaleTenant[] = []

  for (let t = 0; t < sizes.length; t++) {
    const size = sizes[t]!
    const tenantId = uuidv7()
    const accountId = `scale-owner-${t}`
    const email = `owner-${t}@scale.test`
    await accounts.add([accountId, email, `Owner ${t}`, at, at])
    await tenantRows.add([tenantId, `Scale tenant ${t}`, accountId, at, at])
    await members.add([email, accountId, null, tenantId, 'Owner', 1, at, at])
    const row = (kind: KindRows, n: number) => {
      const id = uuidv7()
      const valid = n % 2 === 0
      return {
        id,
        values: [
          id,
          tenantId,
          1,
          valid ? 'VALID' : 'PENDING',
          valid ? at : null,
          accountId,
          at,
          at,
          ...kind.build(seal, t, n, id, tenantId),
        ],
      }
    }
    const deepAt = Math.max(0, Math.floor(size * 0.9) - 50)
    let deepAfterId = ''
    const { writer } = writers.get(scm.table)!
    for (let n = 0; n < size; n++) {
      const { id, values } = row(scm, n)
      if (n === deepAt) deepAfterId = id
      await writer.add(values)
    }
    const perOther = t < SCALE_SIZES.length ? OTHER_PER_MEASURED : 1
    for (const kind of others) {
      for (let n = 0; n < perOther; n++) await writers.get(kind.table)!.writer.add(row(kind, n).values)
    }
    if (t < SCALE_SIZES.length) tenants.push({ size, id: tenantId, accountId, deepAfterId })
    if (t % 1000 === 999) process.stdout.write(`  seeded ${t + 1} of ${sizes.length} tenants\r`)
  }
  const rows: Record<string, number> = {
    accounts: await accounts.end(),
    tenants: await tenantRows.end(),
    collaborators: await members.end(),
  }
  for (const [table, { writer }] of writers) rows[table] = await writer.end()
  await conn.query(
    `ANALYZE TABLE ${Object.keys(rows)
      .map((t) => `\`${t}\``)
      .join(', ')}`,
  )
  const data: ScaleData = { tenants, rows, seededInS: Math.round((Date.now() - started) / 100) / 10 }
  const marker: ScaleMarker = { jwtSecret: secrets.jwtSecret, credentialKeys: secrets.credentialKeys, data }
  await conn.query(`CREATE TABLE \`${MARKER}\` (complete TINYINT NOT NULL, body LONGTEXT NOT NULL)`)
  await conn.query(`INSERT INTO \`${MARKER}\` (complete, body) VALUES (1, ?)`, [JSON.stringify(marker)])
  return data
}
