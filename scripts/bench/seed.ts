import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import type { Connection } from 'mysql2/promise'
import { v7 as uuidv7 } from 'uuid'
import { SCOPES } from '../../src/auth/tokens.js'
import type { Secrets } from './secrets.js'

export interface SeededTenant {
  id: string
  accountId: string
  /** A user token of the tenant's Owner. */
  token: string
  scmCount: number
}

export interface SeededScm {
  id: string
  tenant: number
  /** The plaintext, to check what the credentials route answers. */
  accessToken: string
}

/** The App Store Connect API key every seeded App Store target holds (one key: what it signs is what is measured). */
export interface SeededAppStoreKey {
  keyId: string
  issuerId: string
  /** SPKI PEM, to check the tokens minted with the private half. */
  publicKey: string
}

export interface DataSet {
  tenants: SeededTenant[]
  /** Indexes into `tenants` of those with more source-control integrations than a page holds. */
  large: number[]
  scm: SeededScm[]
  /** Source-control rows the delete scenario removes, each once (seedDisposable fills it just before). */
  disposable: { id: string; tenant: number }[]
  /** One App Store target per tenant, by id and tenant index. */
  appStore: { id: string; tenant: number }[]
  appStoreKey: SeededAppStoreKey
  /** `service:bench` with integrations:read and integrations:credentials:read. */
  serviceToken: string
  rows: Record<string, number>
}

type Row = Record<string, unknown>

const BATCH = 1000
/** Every LARGE_EVERY-th tenant gets LARGE_FACTOR times as many integrations, so a page can be full. */
const LARGE_EVERY = 50
const LARGE_FACTOR = 8
const SCM_PROVIDERS = ['GITHUB', 'GITLAB', 'BITBUCKET'] as const

async function insert(conn: Connection, table: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))]
  for (let i = 0; i < rows.length; i += BATCH) {
    const values = rows.slice(i, i + BATCH).map((row) => columns.map((c) => row[c] ?? null))
    await conn.query('INSERT INTO ?? (??) VALUES ?', [table, columns, values])
  }
}

function common(id: string, tenantId: string, accountId: string, at: Date, valid: boolean): Row {
  return {
    id,
    tenantId,
    isActive: true,
    verificationStatus: valid ? 'VALID' : 'PENDING',
    lastVerifiedAt: valid ? at : null,
    createdByAccountId: accountId,
    createdAt: at,
    updatedAt: at,
  }
}

/**
 * Seeds accounts, tenants, Owner collaborators and integrations straight into the tables
 * the service created, with secrets sealed by the service's own cipher and keys. Each
 * tenant gets `perTenant` integrations (every 50th tenant eight times as many): of every ten,
 * seven source control (GitHub, GitLab, Bitbucket), a Jenkins, a GitHub Actions and a Slack
 * connection; and one App Store target, for the access-token route.
 */
export async function seed(conn: Connection, secrets: Secrets, tenantCount: number, perTenant: number): Promise<DataSet> {
  const { cipher } = secrets
  const seal = (kind: string, tenantId: string, id: string, field: string, plaintext: string) => ({
    [field]: cipher.encrypt(plaintext, { tenantId, kind, id, field }),
    [`${field}Fingerprint`]: cipher.fingerprint(plaintext),
  })
  const accounts: Row[] = []
  const tenantRows: Row[] = []
  const collaborators: Row[] = []
  const scmRows: Row[] = []
  const cicdRows: Row[] = []
  const slackRows: Row[] = []
  const targetRows: Row[] = []
  const appStore: DataSet['appStore'] = []
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const p8 = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const appStoreKey: SeededAppStoreKey = {
    keyId: 'BENCHKEY01',
    issuerId: randomUUID(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
  const tenants: SeededTenant[] = []
  const large: number[] = []
  const scm: SeededScm[] = []
  const start = Date.now() - tenantCount * perTenant * 1000

  for (let t = 0; t < tenantCount; t++) {
    const accountId = `bench-owner-${t}`
    const tenantId = randomUUID()
    const at = new Date(start + t * perTenant * 1000)
    accounts.push({ id: accountId, email: `owner-${t}@bench.test`, name: `Owner ${t}`, createdAt: at, updatedAt: at })
    tenantRows.push({ id: tenantId, displayName: `Bench tenant ${t}`, createdBy: accountId, createdAt: at, updatedAt: at })
    collaborators.push({
      email: `owner-${t}@bench.test`,
      accountId,
      appId: null,
      tenantId,
      permission: 'Owner',
      isCreator: true,
      createdAt: at,
      updatedAt: at,
    })
    let scmCount = 0
    const count = t % LARGE_EVERY === 0 ? perTenant * LARGE_FACTOR : perTenant
    for (let k = 0; k < count; k++) {
      const id = uuidv7()
      const rowAt = new Date(at.getTime() + k * 1000)
      const base = common(id, tenantId, accountId, rowAt, k % 2 === 0)
      const token = `bench_${t}_${k}_${randomBytes(12).toString('base64url')}`
      const slot = k % 10
      if (slot < 7) {
        const provider = SCM_PROVIDERS[slot % 3]!
        const url =
          provider === 'GITHUB'
            ? `https://github.com/org-${t}/repo-${k}`
            : provider === 'GITLAB'
              ? `https://gitlab.com/group-${t}/apps/repo-${k}`
              : `https://bitbucket.org/ws-${t}/repo-${k}`
        scmRows.push({
          ...base,
          scmType: provider,
          displayName: `Repo ${k}`,
          githubOrganization: provider === 'GITHUB' ? `org-${t}` : null,
          githubRepository: provider === 'GITHUB' ? `repo-${k}` : null,
          repositoryUrl: url,
          defaultBranch: 'main',
          ...seal('scm', tenantId, id, 'accessToken', `ghp_${token}`),
        })
        scm.push({ id, tenant: t, accessToken: `ghp_${token}` })
        scmCount++
      } else if (slot === 7) {
        cicdRows.push({
          ...base,
          cicdType: 'JENKINS',
          displayName: 'Jenkins',
          hostUrl: `https://ci-${t}-${k}.bench.test/jenkins`,
          username: 'release-bot',
          ...seal('ci-cd', tenantId, id, 'apiToken', token),
        })
      } else if (slot === 8) {
        cicdRows.push({
          ...base,
          cicdType: 'GITHUB_ACTIONS',
          displayName: 'Actions',
          repositoryUrl: `https://github.com/org-${t}/repo-${k}`,
          ...seal('ci-cd', tenantId, id, 'accessToken', `ghp_${token}`),
        })
      } else {
        slackRows.push({
          ...base,
          communicationType: 'SLACK',
          displayName: 'Slack',
          workspaceId: `T${t}W${k}`,
          workspaceName: `Workspace ${t}`,
          ...seal('communication', tenantId, id, 'botToken', `xoxb-${token}`),
        })
      }
    }
    const targetId = uuidv7()
    targetRows.push({
      ...common(targetId, tenantId, accountId, at, true),
      targetType: 'APP_STORE',
      displayName: 'iOS',
      bundleId: `com.bench.app${t}`,
      issuerId: appStoreKey.issuerId,
      keyId: appStoreKey.keyId,
      applicationId: `com.bench.app${t}`,
      ...seal('targets', tenantId, targetId, 'privateKey', p8),
    })
    appStore.push({ id: targetId, tenant: t })
    if (scmCount > 50) large.push(t)
    tenants.push({ id: tenantId, accountId, token: await secrets.userToken(accountId), scmCount })
  }

  await insert(conn, 'accounts', accounts)
  await insert(conn, 'tenants', tenantRows)
  await insert(conn, 'collaborators', collaborators)
  await insert(conn, 'tenant_scm_integrations', scmRows)
  await insert(conn, 'tenant_cicd_integrations', cicdRows)
  await insert(conn, 'tenant_communication_integrations', slackRows)
  await insert(conn, 'tenant_target_integrations', targetRows)
  // Fresh statistics, as after any bulk load: InnoDB's automatic recalculation lags, and until it
  // runs the optimizer believes each tenant holds half of a table created empty, so for a page
  // (ORDER BY id LIMIT n) it scans the primary key instead of the tenant index. Whichever server
  // ran during that window was measured against a full table scan.
  await conn.query(
    'ANALYZE TABLE accounts, tenants, collaborators, tenant_scm_integrations, tenant_cicd_integrations, tenant_communication_integrations, tenant_target_integrations',
  )
  return {
    tenants,
    large,
    scm,
    disposable: [],
    appStore,
    appStoreKey,
    serviceToken: await secrets.serviceToken(`${SCOPES.read} ${SCOPES.credentials}`),
    rows: {
      accounts: accounts.length,
      tenants: tenantRows.length,
      collaborators: collaborators.length,
      tenant_scm_integrations: scmRows.length,
      tenant_cicd_integrations: cicdRows.length,
      tenant_communication_integrations: slackRows.length,
      tenant_target_integrations: targetRows.length,
    },
  }
}

/**
 * Seeds `count` source-control rows for the delete scenario, spread over the seeded tenants. Their ids are newer
 * than every seeded row, so the list scenario's first pages are unchanged; the other scenarios never pick them.
 */
export async function seedDisposable(conn: Connection, secrets: Secrets, data: DataSet, count: number): Promise<void> {
  const rows: Row[] = []
  const at = new Date()
  const tag = randomBytes(4).toString('hex')
  for (let n = 0; n < count; n++) {
    const t = n % data.tenants.length
    const tenant = data.tenants[t]!
    const id = uuidv7()
    const token = `ghp_disposable_${n}_${randomBytes(12).toString('base64url')}`
    rows.push({
      ...common(id, tenant.id, tenant.accountId, at, n % 2 === 0),
      scmType: 'GITHUB',
      displayName: `Disposable ${n}`,
      githubOrganization: `disposable-${tag}`,
      githubRepository: `repo-${n}`,
      repositoryUrl: `https://github.com/disposable-${tag}/repo-${n}`,
      defaultBranch: 'main',
      accessToken: secrets.cipher.encrypt(token, { tenantId: tenant.id, kind: 'scm', id, field: 'accessToken' }),
      accessTokenFingerprint: secrets.cipher.fingerprint(token),
    })
    data.disposable.push({ id, tenant: t })
  }
  await insert(conn, 'tenant_scm_integrations', rows)
  await conn.query('ANALYZE TABLE tenant_scm_integrations')
}
