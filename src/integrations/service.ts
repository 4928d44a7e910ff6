import { AsyncLocalStorage } from 'node:async_hooks'
import { v7 as uuidv7 } from 'uuid'
import { authorize, authorizeTenantRead, tenantNotFound, type Action } from '../auth/access.js'
import type { Principal } from '../auth/tokens.js'
import type { CredentialCipher } from '../crypto/credential-cipher.js'
import type { Database } from '../db/database.js'
import { conflict, FieldError, notFound, ProviderUnavailableError, unprocessable } from '../http/errors.js'
import type { IntegrationRecord } from '../db/models/integration-model.js'
import {
  fingerprintKey,
  identifiedByProvider,
  providerFields,
  secretFields,
  type FieldValues,
  type KindDefinition,
} from '../kinds/define/kind.js'
import { actorOf, type Actor, type Change, type EventJournal, type Fingerprints, type Subject } from '../events/journal.js'
import { runVerifier } from '../verification/run.js'
import type { VerificationResult, VerifyContext } from '../verification/types.js'
import { accessTokenIssuer, longLivedRefused, type AccessTokenDeps } from './access-tokens.js'
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

export interface ListQuery {
  tenantId: string
  limit: number
  cursor?: string
  isActive?: boolean
  verificationStatus?: string
  [providerFilter: string]: unknown
}

const integrationNotFound = () => notFound('Integration not found')

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

  async function load(principal: Principal, id: string, action: Action, attributes?: readonly string[]): Promise<IntegrationRecord> {
    const row = await repository.load(id, attributes)
    if (!row) throw integrationNotFound()
    await authorize(models, principal, row.tenantId, action, integrationNotFound)
    return row
  }

  async function read(
    principal: Principal,
    id: string,
    action: Action,
    find: (id: string) => Promise<RawRow | undefined>,
  ): Promise<RawRow> {
    const row = await find(id)
    if (!row) throw integrationNotFound()
    await authorize(models, principal, String(row.tenantId), action, integrationNotFound)
    return row
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

  function storedSecrets(row: IntegrationRecord | RawRow): Record<string, string> {
    const values = asPlain(row)
    const plain: Record<string, string> = {}
    for (const field of secrets) {
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

  const fingerprintsOf = (values: RawRow): Fingerprints =>
    Object.fromEntries(secrets.map((f) => [f, (values[fingerprintKey(f)] as string | null | undefined) ?? null]))

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

  /** Who is minting, for a refusal recorded on the way. */
  const minting = new AsyncLocalStorage<Actor>()

  function nonSecretValues(row: IntegrationRecord): FieldValues {
    return kindValues(row.get({ plain: true }), notSecret)
  }

  /** A provider refused the stored credential while minting: a verdict, landing only on the version that was read. */
  async function recordRefusal(row: RawRow, message: string) {
    const refusal: VerificationResult = {
      verdict: 'INVALID',
      message,
      checks: [],
      facts: {},
      credential: { expiresAt: null, scopes: null },
    }
    const id = String(row.id)
    const written = await deps.db.transaction(async (transaction) => {
      if (!(await repository.updateAt(id, verdictColumns(refusal, new Date()), Number(row.version), transaction))) return false
      const before = typeof row.verificationStatus === 'string' ? row.verificationStatus : null
      if (before !== 'INVALID') {
        const actor = minting.getStore() ?? { name: 'unknown', requestId: null }
        const verdict = { before, after: 'INVALID', reason: message }
        await deps.journal.record(transaction, actor, { ...subjectOf(row), status: 'INVALID' }, [
          { action: 'verification_changed', verdict },
        ])
      }
      return true
    })
    tokens.drop(id)
    if (written) return
    if (await repository.exists(id)) {
      throw conflict('VERIFICATION_STALE', 'The integration changed while its token was being minted; nothing was recorded. Ask again')
    }
    throw integrationNotFound()
  }

  // Any write to an integration drops its cached tokens, here at once and on other replicas by the version it moves on.
  const tokens = accessTokenIssuer(kind, deps.tokens, {
    secrets: storedSecrets,
    values: (row) => kindValues(row, notSecret),
    refuse: recordRefusal,
  })

  /** A new integration's values as the caller may create it: authorized, checked, normalised. */
  async function draft(principal: Principal, body: FieldValues & { tenantId: string }) {
    await authorize(models, principal, body.tenantId, 'write', tenantNotFound)
    checkValues(body)
    const provider = body[kind.providerField] as string
    return { provider, values: kind.normalize(kindValues(body, notSecret), provider) }
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
    landing: { written?: FieldValues; mustBeValid: boolean; stale: string; actor: Actor; primary?: Change['action'] },
    options: ProviderCallOptions,
  ): Promise<VerificationReport> {
    const verified = row.version
    const result = await check(subject.provider, subject.values, subject.secrets, options)
    if (landing.mustBeValid) requireValid(result)
    const at = new Date()
    const values = { ...landing.written, ...recorded(subject.provider, result, at) }
    const { actor, primary } = landing
    const written = await commit(row, values, { actor, primary, ifVersion: verified, reason: result.message })
    if (written) return report(result, at)
    if (await repository.exists(row.id)) throw conflict('VERIFICATION_STALE', landing.stale)
    throw integrationNotFound()
  }

  async function check(provider: string, values: FieldValues, secretValues: Record<string, string>, options: ProviderCallOptions) {
    await options.admit?.()
    try {
      const result = await runVerifier(
        providerSpec(provider),
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

  async function verifyRow(row: IntegrationRecord, actor: Actor, options: ProviderCallOptions) {
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
      await authorizeTenantRead(models, principal, query.tenantId)
      const after = query.cursor ? decodeCursor(query.cursor) : undefined
      // One row more than asked: whether it exists says if there is a next page.
      const rows = await repository.page(query.tenantId, query, after, query.limit + 1)
      const page = rows.slice(0, query.limit)
      const last = page.at(-1)
      return {
        items: page.map((r) => toView(r)),
        nextCursor: rows.length > query.limit && last ? encodeCursor(String(last.id)) : null,
      }
    },

    async get({ principal }: Caller, id: string) {
      return toView(await read(principal, id, 'read', repository.findView))
    },

    async create(caller: Caller, body: FieldValues & { tenantId: string }, options: WriteOptions = {}) {
      const { principal } = caller
      const { provider, values } = await draft(principal, body)
      const id = uuidv7()
      let verdict = {}
      if (options.verify || providerSpec(provider).verifyOnCreate) {
        await refuseDuplicate(body.tenantId, provider, values)
        const result = await check(provider, values, plainSecrets(body), options)
        requireValid(result)
        verdict = recorded(provider, result, new Date())
      }
      const sealed = sealSecrets({ id, tenantId: body.tenantId }, body)
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
      const next = kind.normalize(merged, provider)

      const newSecrets = secrets.filter((s) => typeof patch[s] === 'string')
      const before = kind.secretOrigin?.(current)
      const after = kind.secretOrigin?.(next)
      if (before !== after) {
        const missing = providerSpec(provider).required.filter((f) => kind.fields[f]!.secret && !newSecrets.includes(f))
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
      }
      if (!stale || !providerSpec(provider).verifyOnCreate) {
        await write(row, { ...written, ...(stale ? unverified : {}) }, actor, 'updated', 'Changed; not verified since')
        return toView(row)
      }
      // What identifies the connection comes from the provider's answer: a change it depends on is verified, as on create.
      await verifyOnto(
        row,
        { provider, values: next, secrets: { ...storedSecrets(row), ...plainSecrets(patch) } },
        {
          written,
          mustBeValid: true,
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
      const missing = spec.required.filter((f) => kind.fields[f]!.secret && typeof body[f] !== 'string')
      if (missing.length > 0) throw new FieldError(missing[0]!, `is required for ${spec.id} integrations`)
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
      const row = await read(caller.principal, id, 'credentials', repository.findSecrets)
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
      const row = await read(caller.principal, id, 'credentials', repository.findForToken)
      const actor = actorOf(caller.principal, caller.requestId)
      const token = await minting.run(actor, () => tokens.issue(row, body, options.admit))
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
