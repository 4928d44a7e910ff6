import { setTimeout as sleep } from 'node:timers/promises'
import type { Transaction } from 'sequelize'
import { v7 as uuidv7 } from 'uuid'
import { authorize, permitMember, permitTenantRead, tenantNotFound, type Action } from '../auth/access.js'
import type { Principal } from '../auth/tokens.js'
import type { CredentialCipher } from '../crypto/credential-cipher.js'
import type { Database } from '../db/database.js'
import { conflict, FieldError, notFound, ProviderUnavailableError, unprocessable } from '../http/errors.js'
import type { IntegrationRecord } from '../db/models/integration-model.js'
import {
  chooseConnection,
  connectionOf,
  fingerprintKey,
  holds,
  identifiedByProvider,
  normalizeValues,
  pointedConnection,
  providerFields,
  requiredSecrets,
  secretFields,
  withArticle,
  type Connection,
  type FieldValues,
  type KindDefinition,
} from '../kinds/define/kind.js'
import { runRotation, type MintedToken, type TokenRotation } from '../verification/access-token.js'
import { actorOf, type Actor, type Change, type EventJournal, type Fingerprints, type Subject } from '../events/journal.js'
import { runVerifier } from '../verification/run.js'
import type { VerificationResult, VerifyContext } from '../verification/types.js'
import { accessTokenIssuer, longLivedRefused, type AccessTokenDeps, type Renewal, type TokenAsk } from './access-tokens.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { integrationRepository } from './repository.js'
import { asPlain, rowView, type RawRow } from './view.js'

export interface IntegrationDeps {
  db: Database
  cipher: CredentialCipher
  verify: VerifyContext
  /** Told every verification outcome; UNAVAILABLE when the provider gave no verdict. */
  observe?: (provider: string, verdict: VerificationResult['verdict'] | 'UNAVAILABLE') => void
  tokens: AccessTokenDeps
  /** The audit trail and change events, written in the transaction of each change. */
  journal: EventJournal
}

/** Who asks, and in which request: authorization reads the principal, the audit trail both. */
export interface Caller {
  principal: Principal
  requestId: string
}

export interface ProviderCallOptions {
  /** Called right before a provider is asked, never otherwise: counts the call against the caller's limit, or throws. */
  admit?: () => Promise<void>
}

export interface WriteOptions extends ProviderCallOptions {
  /** Verify against the provider first; refuse (422) and store nothing unless VALID. */
  verify?: boolean
}

export type VerificationReport = VerificationResult & { verifiedAt: string }

function report(result: VerificationResult, at: Date): VerificationReport {
  return { ...result, verifiedAt: at.toISOString() }
}

/** The bookkeeping a verdict leaves on the row. */
function verdictColumns(result: VerificationResult, at: Date) {
  return {
    verificationStatus: result.verdict,
    lastVerifiedAt: at,
    verificationError: result.verdict === 'VALID' ? null : result.message.slice(0, 1024),
    credentialExpiresAt: result.credential.expiresAt ? new Date(result.credential.expiresAt) : null,
  }
}

function requireValid(result: VerificationResult) {
  if (result.verdict !== 'VALID') {
    throw unprocessable('VERIFICATION_FAILED', `Verification answered ${result.verdict}: ${result.message}. Nothing was stored`)
  }
}

const omit = (values: Record<string, string>, fields: readonly string[]) =>
  Object.fromEntries(Object.entries(values).filter(([field]) => !fields.includes(field)))

export interface ListQuery {
  tenantId: string
  limit: number
  cursor?: string
  isActive?: boolean
  verificationStatus?: string
  [providerFilter: string]: unknown
}

const integrationNotFound = () => notFound('Integration not found')

/** How long one replica may take to renew a rotating token before another may try. */
const RENEWAL_LEASE_MS = 30_000

/** The verdict a provider's refusal of the stored credential leaves, found while minting or renewing. */
function invalidVerdict(message: string): VerificationResult {
  return { verdict: 'INVALID', message, checks: [], facts: {}, credential: { expiresAt: null, scopes: null } }
}

/** Integration operations for one kind; every kind gets the same behaviour. */
export function integrationService(deps: IntegrationDeps, kind: KindDefinition) {
  const repository = integrationRepository(deps.db, kind)
  const secrets = secretFields(kind)
  const toView = rowView(kind, repository.visible)
  const { models } = deps.db
  const notSecret = (field: string) => !kind.fields[field]!.secret

  function providerOf(row: IntegrationRecord): string {
    return row.get(kind.providerField) as string
  }

  function providerSpec(id: string) {
    return kind.providers.find((p) => p.id === id)!
  }

  /** The row for a write or a verification, and the caller's right to it: one statement for a user (see permitMember). */
  async function load(principal: Principal, id: string, action: Action, attributes?: readonly string[]): Promise<IntegrationRecord> {
    if (principal.type === 'user') {
      const { row, members } = await repository.loadAsMember(id, principal.accountId, attributes)
      if (!row) throw integrationNotFound()
      permitMember(principal.accountId, members, action, integrationNotFound)
      return row
    }
    const row = await repository.load(id, attributes)
    if (!row) throw integrationNotFound()
    await authorize(models, principal, row.tenantId, action, integrationNotFound)
    return row
  }

  /**
   * One statement: a service's read is the row alone (its scopes decide), a user's carries the user's
   * collaborator rows in the row's tenant (see permitMember).
   */
  async function read(
    principal: Principal,
    id: string,
    action: Action,
    find: (id: string) => Promise<RawRow | undefined>,
    findAsMember: (id: string, accountId: string) => Promise<RawRow[]>,
  ): Promise<RawRow> {
    if (principal.type === 'service') {
      const row = await find(id)
      if (!row) throw integrationNotFound()
      await authorize(models, principal, String(row.tenantId), action, integrationNotFound)
      return row
    }
    const rows = await findAsMember(id, principal.accountId)
    if (!rows[0]) throw integrationNotFound()
    permitMember(principal.accountId, rows, action, integrationNotFound)
    return rows[0]
  }

  /** Encrypts the given secrets for this row and returns the columns to store. */
  function sealSecrets({ id, tenantId }: { id: string; tenantId: string }, values: FieldValues): FieldValues {
    const sealed: FieldValues = {}
    for (const field of secrets) {
      const plaintext = values[field]
      if (typeof plaintext !== 'string') continue
      sealed[field] = deps.cipher.encrypt(plaintext, { tenantId, kind: kind.segment, id, field })
      sealed[fingerprintKey(field)] = deps.cipher.fingerprint(plaintext)
    }
    return sealed
  }

  function kindValues(source: FieldValues, include: (field: string) => boolean): FieldValues {
    return Object.fromEntries(
      Object.keys(kind.fields)
        .filter((f) => include(f) && f in source)
        .map((f) => [f, source[f]]),
    )
  }

  /** Runs each given field's own check (beyond its JSON Schema). */
  function checkValues(body: FieldValues) {
    for (const [field, spec] of Object.entries(kind.fields)) {
      const problem = field in body ? spec.check?.(body[field]) : undefined
      if (problem) throw new FieldError(field, problem)
    }
  }

  /** The bookkeeping a verdict leaves on the row, plus what the provider told that the kind keeps. */
  function recorded(provider: string, result: VerificationResult, at: Date): FieldValues {
    const facts = result.verdict === 'VALID' ? (providerSpec(provider).recordFacts?.(result) ?? {}) : {}
    const known = Object.entries(facts).filter(([, value]) => value !== undefined)
    return { ...verdictColumns(result, at), ...Object.fromEntries(known) }
  }

  function assertApplies(provider: string, body: FieldValues) {
    const allowed = new Set(providerFields(providerSpec(provider)))
    for (const field of Object.keys(kind.fields)) {
      if (field in body && !allowed.has(field)) throw new FieldError(field, `does not apply to ${provider} integrations`)
    }
  }

  const unverified = { verificationStatus: 'PENDING', lastVerifiedAt: null, verificationError: null, credentialExpiresAt: null } as const

  function plainSecrets(values: FieldValues): Record<string, string> {
    return Object.fromEntries(secrets.filter((f) => typeof values[f] === 'string').map((f) => [f, values[f] as string]))
  }

  /** The row's plaintext secrets: all of them, or only those named. */
  function storedSecrets(row: IntegrationRecord | RawRow, only: readonly string[] = secrets): Record<string, string> {
    const values = asPlain(row)
    const plain: Record<string, string> = {}
    for (const field of only) {
      const stored = values[field]
      const location = { tenantId: String(values.tenantId), kind: kind.segment, id: String(values.id), field }
      if (typeof stored === 'string') plain[field] = deps.cipher.decrypt(stored, location)
    }
    return plain
  }

  function subjectOf(row: IntegrationRecord | RawRow): Subject {
    const values = asPlain(row)
    const status = values.verificationStatus
    return {
      kind: kind.segment,
      integrationId: String(values.id),
      tenantId: String(values.tenantId),
      provider: String(values[kind.providerField]),
      ...(typeof status === 'string' ? { status } : {}),
    }
  }

  /** The fingerprints of the secrets a row holds (a secret not set is left out). */
  const fingerprintsOf = (values: RawRow): Fingerprints =>
    Object.fromEntries(secrets.flatMap((f) => (values[fingerprintKey(f)] == null ? [] : [[f, values[fingerprintKey(f)] as string]])))

  /** The names a write changes, as the trail lists them: fields of the kind, the name and the active flag. */
  const changedFields = (values: FieldValues) =>
    Object.keys(values).filter((f) => f in kind.fields || f === 'displayName' || f === 'isActive' || f === kind.providerField)

  /**
   * Writes `values` onto the row (only at version `ifVersion` when given) and records `primary` with what the write did
   * to the verdict and the secrets, in one transaction. Answers whether the row was written; nothing is recorded otherwise.
   */
  async function commit(
    row: IntegrationRecord,
    values: FieldValues,
    record: { actor: Actor; primary?: Change['action']; ifVersion?: number; reason?: string },
  ): Promise<boolean> {
    const before = { status: row.verificationStatus, fingerprints: fingerprintsOf(asPlain(row)) }
    const written = await deps.db.transaction(async (transaction) => {
      if (!(await repository.update(row, values, record.ifVersion, transaction))) return false
      const after = { status: row.verificationStatus, fingerprints: fingerprintsOf(asPlain(row)) }
      const verdict = { before: before.status ?? null, after: after.status ?? null }
      const rotated = secrets.some((f) => before.fingerprints[f] !== after.fingerprints[f])
      const changes: Change[] = []
      if (record.primary) {
        changes.push({
          action: record.primary,
          changedFields: changedFields(values),
          verdict,
          ...(rotated ? { fingerprints: { before: before.fingerprints, after: after.fingerprints } } : {}),
        })
      }
      if (verdict.before !== verdict.after) {
        changes.push({ action: 'verification_changed', verdict: { ...verdict, reason: record.reason ?? null } })
      }
      if (changes.length > 0) await deps.journal.record(transaction, record.actor, subjectOf(row), changes)
      return true
    })
    tokens.drop(row.id)
    return written
  }

  function nonSecretValues(row: IntegrationRecord): FieldValues {
    return kindValues(row.get({ plain: true }), notSecret)
  }

  /**
   * The way a PATCH leaves the integration connected. A patch that gives a field only another way takes switches to
   * that way: the fields only the old way takes are cleared, and the new way's required ones must all be there.
   */
  function reconnection(provider: string, row: IntegrationRecord, patch: FieldValues): { connection: Connection; cleared: string[] } {
    const spec = providerSpec(provider)
    const stored = holds(asPlain(row))
    const from = connectionOf(spec, stored)
    const to = pointedConnection(spec, (field) => patch[field] != null)
    if (!to || to.id === from.id) return { connection: from, cleared: [] }
    const keeps = new Set([...spec.required, ...spec.optional, ...to.required, ...to.optional])
    const cleared = [...from.required, ...from.optional].filter((f) => !keeps.has(f) && !(f in patch))
    chooseConnection(spec, (field) => !cleared.includes(field) && (patch[field] != null || stored(field)))
    return { connection: to, cleared }
  }

  /** Columns that empty cleared secrets, and their fingerprints. */
  function clearedSecrets(cleared: readonly string[]): FieldValues {
    return Object.fromEntries(
      cleared
        .filter((f) => kind.fields[f]!.secret)
        .flatMap((f) => [
          [f, null],
          [fingerprintKey(f), null],
        ]),
    )
  }

  /** A provider refused the stored credential while minting: a verdict, landing only on the version that was read. */
  async function recordRefusal(row: RawRow, message: string, actor: Actor) {
    const id = String(row.id)
    const written = await landRefusal(row, message, actor, (values, transaction) =>
      repository.updateAt(id, values, Number(row.version), transaction),
    )
    tokens.drop(id)
    if (written) return
    if (await repository.exists(id)) {
      throw conflict('VERIFICATION_STALE', 'The integration changed while its token was being minted; nothing was recorded. Ask again')
    }
    throw integrationNotFound()
  }

  /**
   * Writes the INVALID verdict of a refused credential with `write` (which says whether it landed), and its
   * verification_changed event in the same transaction, by `actor` (whoever is minting or renewing).
   */
  async function landRefusal(
    row: RawRow,
    message: string,
    actor: Actor,
    write: (values: FieldValues, transaction: Transaction) => Promise<boolean>,
  ) {
    return deps.db.transaction(async (transaction) => {
      if (!(await write(verdictColumns(invalidVerdict(message), new Date()), transaction))) return false
      const before = typeof row.verificationStatus === 'string' ? row.verificationStatus : null
      if (before !== 'INVALID') {
        const verdict = { before, after: 'INVALID', reason: message }
        await deps.journal.record(transaction, actor, { ...subjectOf(row), status: 'INVALID' }, [
          { action: 'verification_changed', verdict },
        ])
      }
      return true
    })
  }

  const refreshMarginMs = deps.tokens.settings.refreshMarginSeconds * 1000

  /** A rotating connection's stored token, while it is usable beyond the refresh margin. */
  function heldToken(row: RawRow, rotation: TokenRotation): MintedToken | undefined {
    const expires = row[rotation.expiresField]
    if (expires == null || row[rotation.tokenField] == null) return undefined
    const expiresAt = new Date(expires as string | Date)
    if (expiresAt.getTime() - refreshMarginMs <= Date.now()) return undefined
    // Only the current token: the refresh token and the client secret stay sealed until a renewal needs them.
    return { token: storedSecrets(row, [rotation.tokenField])[rotation.tokenField]!, expiresAt, grants: null }
  }

  /** Spends the refresh token in `secretValues`; a refusal answers 422 with `refusal`, and nothing is written here. */
  async function spendRefreshToken(provider: string, rotation: TokenRotation, values: FieldValues, secretValues: Record<string, string>) {
    const spec = providerSpec(provider)
    return runRotation(spec.label, rotation, { provider, values, secrets: secretValues }, deps.verify)
  }

  /**
   * The current token of a stored rotating connection, renewed when it is about to expire. One replica at a time
   * spends the refresh token, under a lease on the row; the others wait for its result and use it. The renewed pair
   * lands only while the lease is still the renewer's, so a lease that ran out (a renewer that died after the
   * provider answered) leaves the old, spent refresh token: the next renewal is refused and the integration INVALID.
   */
  async function renewStored(first: RawRow, rotation: TokenRotation, { actor, admit }: TokenAsk): Promise<Renewal> {
    const id = String(first.id)
    const fields = rotation.leaseFields
    let row: RawRow | undefined = first
    let pause = 25
    for (;;) {
      if (!row) throw integrationNotFound()
      const held = heldToken(row, rotation)
      if (held) return { token: held, renewed: false }
      const leaseUntil = row[fields.until] == null ? undefined : new Date(row[fields.until] as string | Date).getTime()
      if (leaseUntil !== undefined && leaseUntil > Date.now()) {
        // Another replica is renewing: its result is what this one hands out.
        await sleep(Math.min(pause, Math.max(1, leaseUntil - Date.now())))
        pause = Math.min(pause * 2, 500)
        row = await repository.findForToken(id)
        continue
      }
      const lease = uuidv7()
      const fingerprint = fingerprintKey(rotation.refreshField)
      if (!(await repository.claimLease(id, fields, lease, new Date(Date.now() + RENEWAL_LEASE_MS), [fingerprint, row[fingerprint]]))) {
        row = await repository.findForToken(id)
        continue
      }
      let renewed: Awaited<ReturnType<typeof spendRefreshToken>>
      try {
        await admit?.()
        renewed = await spendRefreshToken(String(row[kind.providerField]), rotation, kindValues(row, notSecret), storedSecrets(row))
      } catch (err) {
        await repository.releaseLease(id, fields, lease)
        throw err
      }
      if ('refused' in renewed) {
        const refused = renewed.refused
        await landRefusal(row, refused, actor, (values, transaction) => repository.landUnderLease(id, fields, lease, values, transaction))
        tokens.drop(id)
        throw unprocessable('CREDENTIAL_REFUSED', `${refused}. The integration is now INVALID: replace its credentials`)
      }
      const sealed = sealSecrets(
        { id, tenantId: String(row.tenantId) },
        { [rotation.tokenField]: renewed.token, [rotation.refreshField]: renewed.refreshToken },
      )
      const renewing = row
      const before = fingerprintsOf(renewing)
      // The renewal is on the trail (who spent the refresh token, which fingerprints it left), but no change event:
      // nothing a receiver acts on changed, and it happens every few hours.
      const landed = await deps.db.transaction(async (transaction) => {
        const values = { ...sealed, [rotation.expiresField]: renewed.expiresAt }
        if (!(await repository.landUnderLease(id, fields, lease, values, transaction))) return false
        const fingerprints = { before, after: { ...before, ...fingerprintsOf(sealed) } }
        const change: Change = { action: 'credentials_renewed', changedFields: [rotation.tokenField, rotation.refreshField], fingerprints }
        await deps.journal.record(transaction, actor, subjectOf(renewing), [change])
        return true
      })
      if (!landed) {
        throw conflict(
          'TOKEN_RENEWAL_SUPERSEDED',
          'The integration changed while its token was being renewed; nothing was stored. Ask again',
        )
      }
      return { token: { token: renewed.token, expiresAt: renewed.expiresAt, grants: null }, renewed: true }
    }
  }

  /**
   * For a write that stores new credentials of a rotating connection (create, replacement, a PATCH of its secrets):
   * spends the given refresh token now and answers the values and secrets to verify and store. Other connections pass.
   */
  async function renewForWrite(provider: string, values: FieldValues, secretValues: Record<string, string>, options: ProviderCallOptions) {
    const connection = connectionOf(providerSpec(provider), (f) => values[f] != null || secretValues[f] !== undefined)
    const rotation = connection.rotate
    if (!rotation) return { values, secrets: secretValues, written: {} }
    await options.admit?.()
    const renewed = await spendRefreshToken(provider, rotation, values, secretValues)
    if ('refused' in renewed) throw unprocessable('VERIFICATION_FAILED', `${renewed.refused}. Nothing was stored`)
    const secrets = { ...secretValues, [rotation.tokenField]: renewed.token, [rotation.refreshField]: renewed.refreshToken }
    const at = { [rotation.expiresField]: renewed.expiresAt }
    // A renewal another replica has under way spent the old refresh token: its result must not land over these.
    const lease = { [rotation.leaseFields.id]: null, [rotation.leaseFields.until]: null }
    return { values: { ...values, ...at }, secrets, written: { ...at, ...lease } }
  }

  // Any write to an integration drops its cached tokens, here at once and on other replicas by the version it moves on.
  const tokens = accessTokenIssuer(kind, deps.tokens, {
    secrets: storedSecrets,
    values: (row) => kindValues(row, notSecret),
    refuse: recordRefusal,
    renew: renewStored,
  })

  /** A new integration's values as the caller may create it: authorized, checked, normalised. */
  async function draft(principal: Principal, body: FieldValues & { tenantId: string }) {
    await authorize(models, principal, body.tenantId, 'write', tenantNotFound)
    checkValues(body)
    const provider = body[kind.providerField] as string
    chooseConnection(providerSpec(provider), (field) => body[field] != null)
    return { provider, values: normalizeValues(kind, kindValues(body, notSecret), provider) }
  }

  /**
   * Refuses (409) a connection the tenant already has, before its credentials are sent anywhere. Unique keys
   * that take a value from the provider's answer (the Slack workspace) are left to the database's unique index.
   */
  async function refuseDuplicate(tenantId: string, provider: string, values: FieldValues) {
    const row: FieldValues = { ...values, tenantId, [kind.providerField]: provider }
    for (const index of kind.indexes.filter((i) => i.unique)) {
      const key = index.fields.map((f) => row[f])
      if (key.some((v) => v === undefined || v === null)) continue
      if (await repository.existsWith(index.fields, key)) throw conflict('DUPLICATE', kind.duplicateMessage)
    }
  }

  /** Writes `values` and records the change; 404 when the row went meanwhile. */
  async function write(row: IntegrationRecord, values: FieldValues, actor: Actor, primary: Change['action'], reason: string) {
    if (!(await commit(row, values, { actor, primary, reason }))) throw integrationNotFound()
  }

  /**
   * Asks the provider, then writes `written` with what it found onto the version of the row that was read, and only
   * there: after another write it would claim a state nobody checked (409 VERIFICATION_STALE, the row as that write
   * left it); a deleted row stays deleted (404). With `mustBeValid`, any verdict but VALID is refused (422), nothing written.
   */
  async function verifyOnto(
    row: IntegrationRecord,
    subject: { provider: string; values: FieldValues; secrets: Record<string, string> },
    landing: { written?: FieldValues; mustBeValid: boolean; stale: string; actor: Actor; primary?: Change['action']; renew?: boolean },
    options: ProviderCallOptions,
  ): Promise<VerificationReport> {
    const verified = row.version
    // New credentials of a rotating connection are renewed first: the pair the provider gives back is verified and stored.
    const renewal = landing.renew
      ? await renewForWrite(subject.provider, subject.values, subject.secrets, options)
      : { ...subject, written: {} }
    const result = await check(subject.provider, renewal.values, renewal.secrets, options)
    if (landing.mustBeValid) requireValid(result)
    const at = new Date()
    const renewedSecrets = Object.keys(renewal.written).length > 0 ? sealSecrets(row, renewal.secrets) : {}
    const values = { ...landing.written, ...renewal.written, ...renewedSecrets, ...recorded(subject.provider, result, at) }
    const { actor, primary } = landing
    const written = await commit(row, values, { actor, primary, ifVersion: verified, reason: result.message })
    if (written) return report(result, at)
    if (await repository.exists(row.id)) throw conflict('VERIFICATION_STALE', landing.stale)
    throw integrationNotFound()
  }

  async function check(provider: string, values: FieldValues, secretValues: Record<string, string>, options: ProviderCallOptions) {
    await options.admit?.()
    const spec = providerSpec(provider)
    const connection = connectionOf(spec, (field) => values[field] != null || secretValues[field] !== undefined)
    try {
      const result = await runVerifier(
        { label: spec.label, verify: connection.verify },
        `${provider} ${kind.title}`,
        { provider, values, secrets: secretValues },
        deps.verify,
      )
      deps.observe?.(provider, result.verdict)
      return result
    } catch (err) {
      if (err instanceof ProviderUnavailableError) deps.observe?.(provider, 'UNAVAILABLE')
      throw err
    }
  }

  async function verifyRow(loaded: IntegrationRecord, actor: Actor, options: ProviderCallOptions) {
    let row = loaded
    if (connectionOf(providerSpec(providerOf(row)), holds(asPlain(row))).rotate) {
      // A rotating token is verified as a consumer would get it: renewed first (once across replicas) when about to expire.
      const current = await repository.findForToken(row.id)
      if (current) await tokens.issue(current, null, { actor, admit: options.admit })
      row = (await repository.load(row.id, [...repository.visible, ...secrets])) ?? row
    }
    const result = await verifyOnto(
      row,
      { provider: providerOf(row), values: nonSecretValues(row), secrets: storedSecrets(row) },
      {
        mustBeValid: false,
        stale: 'The integration changed while it was being verified; the verdict was not recorded. Verify again',
        actor,
      },
      options,
    )
    return { result, integration: toView(row) }
  }

  return {
    async list({ principal }: Caller, query: ListQuery) {
      let after: string | undefined
      let refused: Error | undefined
      try {
        after = query.cursor ? decodeCursor(query.cursor) : undefined
      } catch (err) {
        refused = err as Error
      }
      // One row more than asked: whether it exists says if there is a next page. A cursor refused still reads the
      // caller's standing first: a stranger learns no more from a bad cursor than from a good one (404).
      const read = await repository.page(principal, query.tenantId, query, after, refused ? 1 : query.limit + 1)
      const rows = permitTenantRead(principal, query.tenantId, read)
      if (refused) throw refused
      const page = rows.slice(0, query.limit)
      const last = page.at(-1)
      return {
        items: page.map((r) => toView(r)),
        nextCursor: rows.length > query.limit && last ? encodeCursor(String(last.id)) : null,
      }
    },

    async get({ principal }: Caller, id: string) {
      return toView(await read(principal, id, 'read', repository.findView, repository.findViewAsMember))
    },

    async create(caller: Caller, body: FieldValues & { tenantId: string }, options: WriteOptions = {}) {
      const { principal } = caller
      const drafted = await draft(principal, body)
      const { provider } = drafted
      let { values } = drafted
      let secretValues = plainSecrets(body)
      const id = uuidv7()
      let verdict = {}
      if (options.verify || providerSpec(provider).verifyOnCreate) {
        await refuseDuplicate(body.tenantId, provider, values)
        // A rotating token is renewed first: what is verified and stored is the pair the provider gave back.
        const renewal = await renewForWrite(provider, values, secretValues, options)
        const result = await check(provider, renewal.values, renewal.secrets, options)
        requireValid(result)
        verdict = recorded(provider, result, new Date())
        ;({ values, secrets: secretValues } = renewal)
      }
      const sealed = sealSecrets({ id, tenantId: body.tenantId }, secretValues)
      const fields = { [kind.providerField]: provider, displayName: body.displayName, isActive: body.isActive ?? true, ...values }
      const row = await deps.db.transaction(async (transaction) => {
        const row = await repository.insert(
          {
            id,
            tenantId: body.tenantId,
            ...fields,
            ...sealed,
            createdByAccountId: principal.type === 'user' ? principal.accountId : '',
            ...verdict,
          },
          transaction,
        )
        const after = fingerprintsOf(sealed)
        const change: Change = {
          action: 'created',
          changedFields: changedFields({ ...fields, ...sealed }),
          verdict: { before: null, after: row.verificationStatus },
          fingerprints: { before: fingerprintsOf({}), after },
        }
        await deps.journal.record(transaction, actorOf(principal, caller.requestId), subjectOf(row), [change])
        return row
      })
      return toView(row)
    },

    async update(caller: Caller, id: string, patch: FieldValues, options: ProviderCallOptions = {}) {
      const actor = actorOf(caller.principal, caller.requestId)
      const row = await load(caller.principal, id, 'write', identifiedByProvider(kind) ? [...repository.visible, ...secrets] : undefined)
      const provider = providerOf(row)
      assertApplies(provider, patch)
      checkValues(patch)
      const current = nonSecretValues(row)
      const merged = { ...current, ...kindValues(patch, notSecret) }
      for (const [field, spec] of Object.entries(kind.fields)) {
        if (spec.derivedFrom && spec.derivedFrom in patch && !(field in patch)) delete merged[field]
      }
      const newSecrets = secrets.filter((s) => typeof patch[s] === 'string')
      const { connection, cleared } = reconnection(provider, row, patch)
      for (const field of cleared) if (!kind.fields[field]!.secret) merged[field] = null
      const next = normalizeValues(kind, merged, provider)

      const before = kind.secretOrigin?.(current)
      const after = kind.secretOrigin?.(next)
      if (before !== after) {
        const missing = requiredSecrets(kind, providerSpec(provider), connection).filter((f) => !newSecrets.includes(f))
        if (missing.length > 0) {
          throw unprocessable(
            'SECRET_REENTRY_REQUIRED',
            `Moving this integration from ${before} to ${after} needs ${missing.join(', ')} in the same request: a stored secret is never sent to a new host`,
          )
        }
      }

      const changes: FieldValues = {}
      for (const [field, value] of Object.entries(next)) {
        if (value !== current[field]) changes[field] = value
      }
      const stale = newSecrets.length > 0 || Object.keys(changes).some((f) => kind.fields[f]?.verified)
      const written = {
        ...changes,
        ...(patch.displayName !== undefined ? { displayName: patch.displayName as string } : {}),
        ...(patch.isActive !== undefined ? { isActive: patch.isActive as boolean } : {}),
        ...sealSecrets(row, patch),
        ...clearedSecrets(cleared),
      }
      if (!stale || !providerSpec(provider).verifyOnCreate) {
        await write(row, { ...written, ...(stale ? unverified : {}) }, actor, 'updated', 'Changed; not verified since')
        return toView(row)
      }
      // What identifies the connection comes from the provider's answer: a change it depends on is verified, as on create.
      await verifyOnto(
        row,
        { provider, values: next, secrets: omit({ ...storedSecrets(row), ...plainSecrets(patch) }, cleared) },
        {
          written,
          mustBeValid: true,
          renew: true,
          stale: 'The integration changed while this change was being verified; nothing was stored. Send it again',
          actor,
          primary: 'updated',
        },
        options,
      )
      return toView(row)
    },

    async replaceCredentials(caller: Caller, id: string, body: FieldValues, options: WriteOptions = {}) {
      const actor = actorOf(caller.principal, caller.requestId)
      const row = await load(caller.principal, id, 'write')
      const spec = providerSpec(providerOf(row))
      assertApplies(spec.id, body)
      checkValues(body)
      const connection = connectionOf(spec, holds(asPlain(row)))
      const takes = new Set([...spec.required, ...spec.optional, ...connection.required, ...connection.optional])
      const foreign = Object.keys(body).find((f) => !takes.has(f))
      if (foreign !== undefined) {
        throw new FieldError(
          foreign,
          `belongs to another way of connecting ${spec.label}: switch to it with PATCH, giving all of its fields`,
        )
      }
      const missing = requiredSecrets(kind, spec, connection).filter((f) => typeof body[f] !== 'string')
      if (missing.length > 0)
        throw new FieldError(missing[0]!, `is required for ${spec.id} integrations connected with ${connection.label}`)
      // A provider whose answer identifies the connection checks every new secret, as on create.
      if (!options.verify && !spec.verifyOnCreate) {
        await write(
          row,
          { ...sealSecrets(row, body), ...unverified },
          actor,
          'credentials_replaced',
          'Credentials replaced; not verified since',
        )
        return toView(row)
      }
      await verifyOnto(
        row,
        { provider: spec.id, values: nonSecretValues(row), secrets: plainSecrets(body) },
        {
          written: sealSecrets(row, body),
          mustBeValid: true,
          renew: true,
          stale: 'The integration changed while the new credentials were being verified; nothing was stored. Send them again',
          actor,
          primary: 'credentials_replaced',
        },
        options,
      )
      return toView(row)
    },

    /** Checks credentials that are not stored; stores nothing. */
    async verifyDraft(
      { principal }: Caller,
      body: FieldValues & { tenantId: string },
      options: ProviderCallOptions = {},
    ): Promise<VerificationReport> {
      const { provider, values } = await draft(principal, body)
      const connection = connectionOf(providerSpec(provider), (f) => body[f] != null)
      const current = connection.rotate?.tokenField
      if (current !== undefined && typeof body[current] !== 'string') {
        // Verifying would spend the single-use refresh token, and nothing here would keep the one given back.
        throw new FieldError(
          current,
          `is required to verify ${withArticle(connection.label)} without storing it: its refresh token works once, so it is only spent when the integration is stored`,
        )
      }
      return report(await check(provider, values, plainSecrets(body), options), new Date())
    },

    /** Re-checks the stored credentials and records the verdict; a provider that cannot answer changes nothing. */
    async verifyStored(caller: Caller, id: string, options: ProviderCallOptions = {}) {
      const row = await load(caller.principal, id, 'verify', [...repository.visible, ...secrets])
      return verifyRow(row, actorOf(caller.principal, caller.requestId), options)
    },

    /**
     * The scheduler's re-verification: as `verifyStored`, for no caller but the service itself. Undefined when the
     * integration is gone; a verdict reached on a version changed meanwhile is not recorded (409 VERIFICATION_STALE).
     */
    async verifyScheduled(id: string, actor: Actor, options: ProviderCallOptions = {}) {
      const row = await repository.load(id, [...repository.visible, ...secrets])
      if (!row) return undefined
      // An inactive integration is not asked about: its verdict would concern nobody.
      if (!row.isActive) return { result: undefined, integration: toView(row) }
      return verifyRow(row, actor, options)
    },

    async readCredentials(caller: Caller, id: string) {
      const row = await read(caller.principal, id, 'credentials', repository.findSecrets, repository.findSecretsAsMember)
      if (tokens.refusesLongLived(row)) throw longLivedRefused(kind)
      const credentials = storedSecrets(row)
      await deps.journal.audit(actorOf(caller.principal, caller.requestId), subjectOf(row), 'credentials_read')
      return {
        id: String(row.id),
        tenantId: String(row.tenantId),
        [kind.providerField]: String(row[kind.providerField]),
        credentials,
      }
    },

    /** A token to act with: minted short-lived where the provider has a minter, the stored secret otherwise. */
    async issueAccessToken(caller: Caller, id: string, body: FieldValues | null, options: ProviderCallOptions = {}) {
      const row = await read(caller.principal, id, 'credentials', repository.findForToken, repository.findForTokenAsMember)
      const actor = actorOf(caller.principal, caller.requestId)
      const token = await tokens.issue(row, body, { actor, admit: options.admit })
      await deps.journal.audit(actor, subjectOf(row), 'access_token_issued')
      return token
    },

    async remove(caller: Caller, id: string) {
      const row = await load(caller.principal, id, 'write')
      const before = fingerprintsOf(asPlain(row))
      await deps.db.transaction(async (transaction) => {
        await repository.remove(row, transaction)
        const verdict = { before: row.verificationStatus, after: null }
        const fingerprints = { before, after: fingerprintsOf({}) }
        const change: Change = { action: 'deleted', changedFields: [], verdict, fingerprints }
        await deps.journal.record(transaction, actorOf(caller.principal, caller.requestId), subjectOf(row), [change])
      })
      tokens.drop(row.id)
    },
  }
}

export type IntegrationService = ReturnType<typeof integrationService>
