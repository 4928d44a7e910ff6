import { Op } from 'sequelize'
import type { Database } from '../db/database.js'
import type { IntegrationModel, IntegrationRecord } from '../db/models/integration-model.js'
import { fingerprintKey, secretFields, type FieldValues, type KindDefinition } from '../kinds/define/kind.js'
import { CredentialDecryptError, type CredentialCipher } from '../crypto/credential-cipher.js'

export interface ReencryptLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface ReencryptOptions {
  /** Rows read per query; the table is never loaded whole. */
  batchSize: number
  /** Decrypt and count, write nothing. */
  dryRun?: boolean
  log?: ReencryptLogger
}

export interface KindCounts {
  /** Rows read. */
  scanned: number
  /** Rows with a secret under another key or in an older format, rewritten (or, in a dry run, that would be). */
  reencrypted: number
  /** Of those, rows with a secret in the `enc:v1` format (the tenant not bound), now `enc:v2`. */
  upgraded: number
  /** Rows with a secret that cannot be decrypted; listed in `failures`. */
  failed: number
}

/** Where a secret could not be decrypted, and why. Never the stored value. */
export interface ReencryptFailure {
  kind: string
  id: string
  field: string
  reason: string
}

export interface ReencryptResult {
  activeKeyId: string
  dryRun: boolean
  kinds: Record<string, KindCounts>
  failures: ReencryptFailure[]
}

type RowOutcome = 'current' | 'reencrypted' | 'upgraded' | 'failed' | 'changed'

// A row rewritten by the service between our read and our write is read again, a few times at most.
const ATTEMPTS = 3

const silent = { info() {}, warn() {} }

/**
 * Rewrites every secret not under the active key, or in an older stored format (`enc:v1`, without
 * the tenant bound), under the active key in the current format, with a fresh fingerprint (keyed from
 * the active key). Only those columns change: `updatedAt` is left as it was (`silent`), because
 * the secret a user stored did not change. Each write is conditional on the ciphertext it
 * replaces, so a secret the running service stores meanwhile is never overwritten with the old one.
 * A row with a secret that cannot be decrypted counts as failed; its other secrets are still rewritten.
 */
export async function reencryptAll(
  db: Pick<Database, 'integrations'>,
  kinds: readonly KindDefinition[],
  cipher: CredentialCipher,
  options: ReencryptOptions,
): Promise<ReencryptResult> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError('batchSize must be a positive integer')
  const run: Run = { cipher, batchSize: options.batchSize, dryRun: options.dryRun ?? false, log: options.log ?? silent, failures: [] }
  const result: ReencryptResult = { activeKeyId: cipher.activeKeyId, dryRun: run.dryRun, kinds: {}, failures: run.failures }
  for (const kind of kinds) {
    const model = db.integrations.get(kind.segment)
    if (!model) throw new Error(`No model for integration kind ${kind.segment}`)
    result.kinds[kind.segment] = await reencryptKind(model, kind, run)
  }
  return result
}

interface Run {
  cipher: CredentialCipher
  batchSize: number
  dryRun: boolean
  log: ReencryptLogger
  failures: ReencryptFailure[]
}

async function reencryptKind(model: IntegrationModel, kind: KindDefinition, run: Run): Promise<KindCounts> {
  const { cipher, dryRun, log } = run
  const fields = secretFields(kind)
  const attributes = ['id', 'tenantId', ...fields]
  const counts: KindCounts = { scanned: 0, reencrypted: 0, upgraded: 0, failed: 0 }

  /** One attempt at a row's stale secrets; `changed` when another writer got there between read and write. */
  async function reencryptRow(row: IntegrationRecord): Promise<{ outcome: RowOutcome; failures: ReencryptFailure[] }> {
    const changes: FieldValues = {}
    const expected: FieldValues = { id: row.id }
    const failures: ReencryptFailure[] = []
    let upgraded = false
    for (const field of fields) {
      const stored = row.get(field)
      if (typeof stored !== 'string' || cipher.isCurrent(stored)) continue
      const location = { tenantId: row.tenantId, kind: kind.segment, id: row.id, field }
      try {
        const plaintext = cipher.decrypt(stored, location)
        changes[field] = cipher.encrypt(plaintext, location)
        changes[fingerprintKey(field)] = cipher.fingerprint(plaintext)
        expected[field] = stored
        upgraded ||= cipher.versionOf(stored) === 'v1'
      } catch (err) {
        if (!(err instanceof CredentialDecryptError)) throw err
        failures.push({ kind: kind.segment, id: row.id, field, reason: err.reason })
      }
    }
    const rewritten = fields.filter((f) => f in changes)
    if (rewritten.length > 0 && !dryRun) {
      const [updated] = await model.update(changes, { where: expected, silent: true, hooks: false, validate: false })
      if (updated === 0) {
        const reason = 'changed by another writer on every attempt; run again'
        failures.push(...rewritten.map((field) => ({ kind: kind.segment, id: row.id, field, reason })))
        return { outcome: 'changed', failures }
      }
    }
    const done = upgraded ? 'upgraded' : 'reencrypted'
    return { outcome: failures.length > 0 ? 'failed' : rewritten.length > 0 ? done : 'current', failures }
  }

  async function settle(row: IntegrationRecord): Promise<Exclude<RowOutcome, 'changed'>> {
    for (let attempt = 1; ; attempt++) {
      const { outcome, failures } = await reencryptRow(row)
      if (outcome === 'changed' && attempt < ATTEMPTS) {
        const fresh = await model.findByPk(row.id, { attributes })
        if (!fresh) return 'current'
        row = fresh
        continue
      }
      for (const failure of failures) {
        run.failures.push(failure)
        log.warn(failure, 'secret left as it is')
      }
      return outcome === 'changed' ? 'failed' : outcome
    }
  }

  let after: string | undefined
  for (;;) {
    const rows = await page(model, attributes, after, run.batchSize)
    for (const row of rows) {
      counts.scanned++
      const outcome = await settle(row)
      if (outcome === 'reencrypted' || outcome === 'upgraded') counts.reencrypted++
      if (outcome === 'upgraded') counts.upgraded++
      else if (outcome === 'failed') counts.failed++
    }
    if (rows.length > 0) log.info({ kind: kind.segment, ...counts }, dryRun ? 'batch checked' : 'batch done')
    if (rows.length < run.batchSize) return counts
    after = rows[rows.length - 1]!.id
  }
}

/** Keyset pagination by primary key: stable while rows are rewritten, cheap on large tables. */
function page(model: IntegrationModel, attributes: string[], after: string | undefined, limit: number) {
  return model.findAll({
    attributes,
    where: after === undefined ? {} : { id: { [Op.gt]: after } },
    order: [['id', 'ASC']],
    limit,
  })
}
