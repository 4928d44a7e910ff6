import type { webcrypto } from 'node:crypto'
import { errors as joseErrors, importPKCS8, jwtVerify, SignJWT } from 'jose'
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { v7 as uuidv7 } from 'uuid'
import type { CredentialCipher } from '../../src/crypto/credential-cipher.js'

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

type Principal = { type: 'user'; accountId: string } | { type: 'service'; scopes: Set<string> }
type Action = 'read' | 'write' | 'credentials'

const RANK: Record<string, number> = { Viewer: 1, Editor: 2, Owner: 3 }
const NEEDS: Record<Exclude<Action, 'credentials'>, number> = { read: 1, write: 3 }
/** Every column the service's answer shows (everything but the ciphertexts), as the service reads them. */
const COLUMNS =
  'id, tenantId, scmType, displayName, githubOrganization, githubRepository, repositoryUrl, defaultBranch, ' +
  'accessTokenFingerprint, githubAppId, githubInstallationId, githubAppPrivateKeyFingerprint, isActive, ' +
  'verificationStatus, lastVerifiedAt, verificationError, credentialExpiresAt, createdByAccountId, createdAt, updatedAt'

const ITEM_COLUMNS = COLUMNS.split(', ')
  .map((c) => `i.${c}`)
  .join(', ')
const NULL_COLUMNS = COLUMNS.split(', ')
  .map((c) => `NULL AS ${c}`)
  .join(', ')

function view(row: Record<string, unknown>): Record<string, unknown> {
  return {
    ...row,
    isActive: Boolean(row.isActive),
    hasAccessToken: row.accessTokenFingerprint != null,
    hasGithubAppPrivateKey: row.githubAppPrivateKeyFingerprint != null,
  }
}

const TARGET_TOKEN_COLUMNS =
  'id, tenantId, targetType, version, credentialExpiresAt, bundleId, appStoreAppId, issuerId, keyId, packageName, ' +
  'serviceAccountEmail, applicationId, privateKey, serviceAccountJson'

/** What a write's audit row and event say, as the service's journal takes it. */
interface Change {
  action: 'created' | 'updated' | 'credentials_replaced' | 'deleted' | 'verification_changed'
  changedFields?: string[]
  fingerprints?: { before: Record<string, string>; after: Record<string, string> }
  verdict?: { before: string | null; after: string | null; reason?: string }
}
interface Subject {
  id: string
  tenantId: string
  provider: string
  status: string
}
const asJson = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
const AUDIT_PLACEHOLDERS = Array.from({ length: 13 }, () => '?').join(', ')
/** What the service's created row lists as changed: the provider, name, active flag and the kind's fields given. */
const CREATED_FIELDS = [
  'scmType',
  'displayName',
  'isActive',
  'githubOrganization',
  'githubRepository',
  'repositoryUrl',
  'defaultBranch',
  'accessToken',
]

/** Minted App Store tokens live the service's default lifetime and are served until its default margin. */
const TOKEN_LIFETIME_S = 1200
const REFRESH_MARGIN_MS = 300_000

/**
 * The same work per request as the service, written directly: verify the HS256 token,
 * read the integration row(s) with the caller's role rows in the same statement, decrypt
 * only for credentials and for a token not yet minted.
 */
export function baselineHandlers(pool: Pool, cipher: CredentialCipher, jwtKey: webcrypto.CryptoKey) {
  const tokens = new Map<string, { token: string; expiresAt: Date; version: number }>()
  async function authenticate(header: string | undefined): Promise<Principal> {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined
    if (!token) throw new HttpError(401, 'Missing bearer token')
    try {
      const { payload } = await jwtVerify(token, jwtKey, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] })
      const sub = payload.sub!
      if (!sub.startsWith('service:')) return { type: 'user', accountId: sub }
      return { type: 'service', scopes: new Set((typeof payload.scope === 'string' ? payload.scope : '').split(' ')) }
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new HttpError(401, 'Token is invalid')
      throw err
    }
  }

  async function authorize(principal: Principal, tenantId: string, action: Action): Promise<void> {
    if (principal.type === 'service') {
      const scope = action === 'credentials' ? 'integrations:credentials:read' : 'integrations:read'
      if (action === 'write' || !principal.scopes.has(scope)) throw new HttpError(403, 'Forbidden')
      return
    }
    const [rows] = await pool.execute<RowDataPacket[]>(
      'SELECT permission FROM collaborators WHERE accountId = ? AND tenantId = ? AND appId IS NULL',
      [principal.accountId, tenantId],
    )
    const rank = Math.max(0, ...rows.map((r) => RANK[r.permission as string] ?? 0))
    if (rank === 0) throw new HttpError(404, 'Not found')
    if (action === 'credentials' || rank < NEEDS[action]) throw new HttpError(403, 'Forbidden')
  }

  /** The SCM columns the bench reads, as mysql2 decodes them. */
  interface ScmRow extends RowDataPacket {
    id: string
    tenantId: string
    scmType: string
    accessToken: string
  }

  async function row(id: string, columns: string) {
    const [rows] = await pool.execute<ScmRow[]>(`SELECT ${columns} FROM tenant_scm_integrations WHERE id = ?`, [id])
    if (!rows[0]) throw new HttpError(404, 'Integration not found')
    return rows[0]
  }

  /** Runs `work` between START TRANSACTION and COMMIT on one pooled connection; ROLLBACK when it throws. */
  async function inTransaction<T>(work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await pool.getConnection()
    try {
      await conn.query('START TRANSACTION')
      const result = await work(conn)
      await conn.query('COMMIT')
      return result
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      conn.release()
    }
  }

  /**
   * The audit rows and change events of a write, as the service's journal writes them: one multi-row INSERT
   * each, in the write's transaction.
   */
  async function journal(conn: PoolConnection, actor: { name: string; requestId: string }, subject: Subject, changes: Change[]) {
    const at = new Date()
    const audit = changes.map((c) => [
      uuidv7(),
      subject.tenantId,
      'scm',
      subject.id,
      c.action,
      actor.name,
      actor.requestId,
      at,
      asJson(c.changedFields),
      asJson(c.fingerprints?.before),
      asJson(c.fingerprints?.after),
      c.verdict?.before ?? null,
      c.verdict?.after ?? null,
    ])
    await conn.execute(
      `INSERT INTO integration_audit_events (id, tenantId, kind, integrationId, action, actor, requestId, at, changedFields, fingerprintsBefore, fingerprintsAfter, verdictBefore, verdictAfter) VALUES ${audit.map(() => `(${AUDIT_PLACEHOLDERS})`).join(', ')}`,
      audit.flat(),
    )
    const events = changes.map((c) => {
      const type = `integration.${c.action}`
      const extra =
        c.action === 'verification_changed'
          ? { from: c.verdict?.before ?? null, to: c.verdict?.after ?? null, reason: c.verdict?.reason ?? null }
          : c.action === 'updated'
            ? { changedFields: c.changedFields ?? [] }
            : {}
      const data = {
        integrationId: subject.id,
        tenantId: subject.tenantId,
        kind: 'scm',
        provider: subject.provider,
        status: subject.status,
        ...extra,
      }
      const payload = JSON.stringify({ type, timestamp: at.toISOString(), data })
      return [uuidv7(), type, subject.tenantId, subject.id, payload, at, 'pending', 0, at]
    })
    await conn.execute(
      `INSERT INTO integration_events_outbox (id, type, tenantId, integrationId, payload, createdAt, state, attempts, nextAttemptAt) VALUES ${events.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      events.flat(),
    )
  }

  /** A read or a mint on the audit trail, as the service's journal records it (no event). */
  async function audit(actor: { name: string; requestId: string }, kind: string, row: Record<string, unknown>, action: string) {
    await pool.execute(
      `INSERT INTO integration_audit_events (id, tenantId, kind, integrationId, action, actor, requestId, at, changedFields, fingerprintsBefore, fingerprintsAfter, verdictBefore, verdictAfter) VALUES (${AUDIT_PLACEHOLDERS})`,
      [uuidv7(), String(row.tenantId), kind, String(row.id), action, actor.name, actor.requestId, new Date(), null, null, null, null, null],
    )
  }

  /**
   * The row with the user's collaborator rows in its tenant joined (one statement), and the user's rank there; 404
   * for a row that does not exist or a stranger.
   */
  async function asMember(principal: Extract<Principal, { type: 'user' }>, id: string): Promise<{ shown: RowDataPacket; rank: number }> {
    const [rows] = await pool.execute<RowDataPacket[]>(
      `SELECT ${ITEM_COLUMNS}, c.permission AS memberPermission, c.accountId AS memberAccountId, c.tenantId AS memberTenantId ` +
        'FROM tenant_scm_integrations i LEFT JOIN collaborators c ON c.accountId = ? AND c.tenantId = i.tenantId AND c.appId IS NULL WHERE i.id = ?',
      [principal.accountId, id],
    )
    const found = rows[0]
    if (!found) throw new HttpError(404, 'Integration not found')
    const rank = Math.max(
      0,
      ...rows
        .filter((r) => r.memberAccountId === principal.accountId && r.memberTenantId === found.tenantId)
        .map((r) => RANK[r.memberPermission as string] ?? 0),
    )
    if (rank === 0) throw new HttpError(404, 'Not found')
    const { memberPermission: _p, memberAccountId: _a, memberTenantId: _t, ...shown } = found
    return { shown, rank }
  }

  /** The row for a write: Owners only, 404 to strangers. */
  async function writable(principal: Principal, id: string): Promise<RowDataPacket> {
    if (principal.type === 'service') throw new HttpError(403, 'Forbidden')
    const { shown, rank } = await asMember(principal, id)
    if (rank < NEEDS.write) throw new HttpError(403, 'Forbidden')
    return shown
  }

  let requests = 0
  const actorOf = (principal: Principal) => ({
    name: principal.type === 'user' ? principal.accountId : 'service:bench',
    requestId: `req-${(++requests).toString(36)}`,
  })
  const subjectOf = (row: Record<string, unknown>): Subject => ({
    id: String(row.id),
    tenantId: String(row.tenantId),
    provider: String(row.scmType),
    status: String(row.verificationStatus),
  })

  return {
    /** One round trip for a user too: the row with the user's collaborator rows in its tenant joined. */
    async get(header: string | undefined, id: string) {
      const principal = await authenticate(header)
      if (principal.type === 'service') {
        const found = await row(id, COLUMNS)
        await authorize(principal, found.tenantId, 'read')
        return view(found)
      }
      return view((await asMember(principal, id)).shown)
    },

    /** One round trip: the caller's standing (collaborator rows, or the tenant for a service), then the page. */
    async list(header: string | undefined, tenantId: string, limit: number) {
      const principal = await authenticate(header)
      const standing =
        principal.type === 'service'
          ? 'SELECT 1 AS standing, NULL AS permission, NULL AS accountId, id AS memberTenantId'
          : 'SELECT 1 AS standing, permission, accountId, tenantId AS memberTenantId'
      const from =
        principal.type === 'service' ? 'tenants WHERE id = ?' : 'collaborators WHERE accountId = ? AND tenantId = ? AND appId IS NULL'
      const [all] = await pool.execute<RowDataPacket[]>(
        `${standing}, ${NULL_COLUMNS} FROM ${from} UNION ALL ` +
          `(SELECT NULL, NULL, NULL, NULL, ${COLUMNS} FROM tenant_scm_integrations FORCE INDEX (idx_scm_tenant_page) WHERE tenantId = ? ORDER BY id LIMIT ${limit + 1})`,
        principal.type === 'service' ? [tenantId, tenantId] : [principal.accountId, tenantId, tenantId],
      )
      const members = all.filter((r) => r.standing !== null)
      if (principal.type === 'service') {
        if (!members.some((r) => r.memberTenantId === tenantId)) throw new HttpError(404, 'Tenant not found')
        if (!principal.scopes.has('integrations:read')) throw new HttpError(403, 'Forbidden')
      } else {
        const rank = Math.max(
          0,
          ...members
            .filter((r) => r.accountId === principal.accountId && r.memberTenantId === tenantId)
            .map((r) => RANK[r.permission as string] ?? 0),
        )
        if (rank === 0) throw new HttpError(404, 'Not found')
      }
      const rows = all
        .filter((r) => r.standing === null)
        .map(({ standing: _s, permission: _p, accountId: _a, memberTenantId: _t, ...r }) => r)
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      const nextCursor = rows.length > limit && last ? Buffer.from(`v1:${String(last.id)}`).toString('base64url') : null
      return { items: page.map(view), nextCursor }
    },

    /** The row write, its audit row and its change event in one transaction; the unique index refuses a duplicate (409). */
    async create(header: string | undefined, body: Record<string, string>) {
      const principal = await authenticate(header)
      await authorize(principal, body.tenantId!, 'write')
      const url = new URL(body.repositoryUrl!)
      const path = url.pathname
        .toLowerCase()
        .replace(/\/+$/, '')
        .replace(/\.git$/, '')
      const [owner, repo] = path.split('/').filter(Boolean)
      const id = uuidv7()
      const now = new Date()
      const values = {
        id,
        tenantId: body.tenantId!,
        scmType: body.scmType!,
        displayName: body.displayName,
        githubOrganization: owner ?? null,
        githubRepository: repo ?? null,
        repositoryUrl: `${url.origin}${path}`,
        defaultBranch: body.defaultBranch ?? 'main',
        accessToken: cipher.encrypt(body.accessToken!, { tenantId: body.tenantId!, kind: 'scm', id, field: 'accessToken' }),
        accessTokenFingerprint: cipher.fingerprint(body.accessToken!),
        isActive: true,
        verificationStatus: 'PENDING',
        createdByAccountId: principal.type === 'user' ? principal.accountId : '',
        createdAt: now,
        updatedAt: now,
      }
      const columns = Object.keys(values)
      const subject = { id, tenantId: values.tenantId, provider: values.scmType, status: 'PENDING' }
      try {
        await inTransaction(async (conn) => {
          await conn.execute<ResultSetHeader>(
            `INSERT INTO tenant_scm_integrations (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
            Object.values(values).map((v) => v ?? null),
          )
          await journal(conn, actorOf(principal), subject, [
            {
              action: 'created',
              changedFields: CREATED_FIELDS,
              verdict: { before: null, after: 'PENDING' },
              fingerprints: { before: {}, after: { accessToken: values.accessTokenFingerprint } },
            },
          ])
        })
      } catch (err) {
        if ((err as { code?: string }).code === 'ER_DUP_ENTRY') throw new HttpError(409, 'Duplicate repository')
        throw err
      }
      const { accessToken: _secret, ...shown } = values
      const unset = { githubAppId: null, githubInstallationId: null, githubAppPrivateKeyFingerprint: null }
      return view({ ...shown, ...unset, lastVerifiedAt: null, verificationError: null, credentialExpiresAt: null })
    },

    /** PATCH of a non-secret field: the Owner's row read in one statement, then the write, audit row and event. */
    async patch(header: string | undefined, id: string, body: Record<string, string>) {
      const principal = await authenticate(header)
      const found = await writable(principal, id)
      const updatedAt = new Date()
      await inTransaction(async (conn) => {
        const [result] = await conn.execute<ResultSetHeader>(
          'UPDATE tenant_scm_integrations SET displayName = ?, updatedAt = ?, version = version + 1 WHERE id = ?',
          [body.displayName!, updatedAt, id],
        )
        if (result.affectedRows === 0) throw new HttpError(404, 'Integration not found')
        const status = String(found.verificationStatus)
        await journal(conn, actorOf(principal), subjectOf(found), [
          { action: 'updated', changedFields: ['displayName'], verdict: { before: status, after: status } },
        ])
      })
      return view({ ...found, displayName: body.displayName, updatedAt })
    },

    /** New secret, sealed as the service seals it; the status back to PENDING (and its change recorded when it moves). */
    async replaceCredentials(header: string | undefined, id: string, body: Record<string, string>) {
      const principal = await authenticate(header)
      const found = await writable(principal, id)
      const tenantId = String(found.tenantId)
      const accessToken = cipher.encrypt(body.accessToken!, { tenantId, kind: 'scm', id, field: 'accessToken' })
      const fingerprint = cipher.fingerprint(body.accessToken!)
      const updatedAt = new Date()
      await inTransaction(async (conn) => {
        const [result] = await conn.execute<ResultSetHeader>(
          'UPDATE tenant_scm_integrations SET accessToken = ?, accessTokenFingerprint = ?, verificationStatus = ?, lastVerifiedAt = NULL, ' +
            'verificationError = NULL, credentialExpiresAt = NULL, updatedAt = ?, version = version + 1 WHERE id = ?',
          [accessToken, fingerprint, 'PENDING', updatedAt, id],
        )
        if (result.affectedRows === 0) throw new HttpError(404, 'Integration not found')
        const before = String(found.verificationStatus)
        const verdict = { before, after: 'PENDING' }
        const changes: Change[] = [
          {
            action: 'credentials_replaced',
            changedFields: ['accessToken'],
            verdict,
            fingerprints: { before: { accessToken: found.accessTokenFingerprint as string }, after: { accessToken: fingerprint } },
          },
        ]
        if (before !== 'PENDING')
          changes.push({ action: 'verification_changed', verdict: { ...verdict, reason: 'Credentials replaced; not verified since' } })
        await journal(conn, actorOf(principal), { ...subjectOf(found), status: 'PENDING' }, changes)
      })
      const shown = { ...found, accessTokenFingerprint: fingerprint, verificationStatus: 'PENDING', lastVerifiedAt: null }
      return view({ ...shown, verificationError: null, credentialExpiresAt: null, updatedAt })
    },

    async remove(header: string | undefined, id: string) {
      const principal = await authenticate(header)
      const found = await writable(principal, id)
      await inTransaction(async (conn) => {
        const [result] = await conn.execute<ResultSetHeader>('DELETE FROM tenant_scm_integrations WHERE id = ?', [id])
        if (result.affectedRows === 0) throw new HttpError(404, 'Integration not found')
        const fingerprints = { before: { accessToken: found.accessTokenFingerprint as string }, after: {} }
        await journal(conn, actorOf(principal), subjectOf(found), [
          { action: 'deleted', changedFields: [], verdict: { before: String(found.verificationStatus), after: null }, fingerprints },
        ])
      })
    },

    async credentials(header: string | undefined, id: string) {
      const principal = await authenticate(header)
      const found = await row(id, 'id, tenantId, scmType, accessToken')
      await authorize(principal, found.tenantId, 'credentials')
      const accessToken = cipher.decrypt(found.accessToken, { tenantId: found.tenantId, kind: 'scm', id: found.id, field: 'accessToken' })
      // Every read of a secret is on the audit trail, as the service records it: one INSERT, no transaction.
      await audit(actorOf(principal), 'scm', found, 'credentials_read')
      return { id: found.id, tenantId: found.tenantId, scmType: found.scmType, credentials: { accessToken } }
    },

    /** An App Store token: minted from the stored key once per integration version, then served from memory. */
    async accessToken(header: string | undefined, id: string) {
      const principal = await authenticate(header)
      // The columns the service reads: the row's provider, fields, key, version and known expiry.
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${TARGET_TOKEN_COLUMNS} FROM tenant_target_integrations WHERE id = ?`, [
        id,
      ])
      const found = rows[0]
      if (!found) throw new HttpError(404, 'Integration not found')
      await authorize(principal, String(found.tenantId), 'credentials')
      let cached = tokens.get(id)
      if (!cached || cached.version !== found.version || cached.expiresAt.getTime() - REFRESH_MARGIN_MS <= Date.now()) {
        const location = { tenantId: String(found.tenantId), kind: 'targets', id, field: 'privateKey' }
        const key = await importPKCS8(cipher.decrypt(String(found.privateKey), location), 'ES256')
        const issuedAt = Math.floor(Date.now() / 1000)
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: String(found.keyId), typ: 'JWT' })
          .setIssuer(String(found.issuerId))
          .setIssuedAt(issuedAt)
          .setExpirationTime(issuedAt + TOKEN_LIFETIME_S)
          .setAudience('appstoreconnect-v1')
          .sign(key)
        cached = { token, expiresAt: new Date((issuedAt + TOKEN_LIFETIME_S) * 1000), version: Number(found.version) }
        tokens.set(id, cached)
      }
      await audit(actorOf(principal), 'targets', found, 'access_token_issued')
      return { accessToken: cached.token, tokenType: 'Bearer', expiresAt: cached.expiresAt.toISOString(), shortLived: true, grants: null }
    },
  }
}
