import { fingerprintKey, hasSecretKey, instantFields, internalFields, secretFields, type KindDefinition } from '../kinds/define/kind.js'
import { Model } from 'sequelize'
import type { IntegrationRecord } from '../db/models/integration-model.js'

/** A row read with `raw: true`: column → value. */
export type RawRow = Record<string, unknown>

export function asPlain(row: IntegrationRecord | RawRow): RawRow {
  return row instanceof Model ? row.get({ plain: true }) : row
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : d == null ? null : new Date(d as string | number).toISOString())

/** Columns a response may carry: everything but the ciphertext and the service's own bookkeeping. */
export function viewAttributes(kind: KindDefinition, model: { getAttributes(): object }): string[] {
  const hidden = new Set([...secretFields(kind), ...internalFields(kind)])
  return Object.keys(model.getAttributes()).filter((c) => !hidden.has(c))
}

/**
 * How a kind's rows are shown: secrets reduced to "is set" and a fingerprint, timestamps as
 * ISO strings. Built once per kind; the returned function runs for every row served.
 */
export function rowView(kind: KindDefinition, columns: readonly string[]) {
  const secrets = secretFields(kind).map((field) => ({ field, has: hasSecretKey(field), fingerprint: fingerprintKey(field) }))
  const instants = ['lastVerifiedAt', 'credentialExpiresAt', 'createdAt', 'updatedAt', ...instantFields(kind)]
  return (row: IntegrationRecord | RawRow): Record<string, unknown> => {
    const plain = asPlain(row)
    const view: Record<string, unknown> = {}
    // A freshly created row lacks the columns it left to the database: they are null.
    for (const name of columns) view[name] = plain[name] ?? null
    for (const { has, fingerprint } of secrets) {
      const value = plain[fingerprint] ?? null
      view[has] = value !== null
      view[fingerprint] = value
    }
    view.isActive = Boolean(plain.isActive)
    for (const name of instants) view[name] = iso(plain[name])
    return view
  }
}
