import { fingerprintKey, hasSecretKey, secretFields, type KindDefinition } from '../kinds/kind.js'
import { Model } from 'sequelize'
import type { IntegrationRecord } from '../kinds/integration-model.js'

/** A row read with `raw: true`: column → value. */
export type RawRow = Record<string, unknown>

export function asPlain(row: IntegrationRecord | RawRow): RawRow {
  return row instanceof Model ? (row.get({ plain: true }) as RawRow) : row
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : d == null ? null : new Date(String(d)).toISOString())

/** Columns a response may carry: everything but the ciphertext. */
export function viewAttributes(kind: KindDefinition, model: { getAttributes(): object }): string[] {
  const secrets = new Set(secretFields(kind))
  return Object.keys(model.getAttributes()).filter((c) => !secrets.has(c))
}

/** A row as the API shows it: secrets reduced to "is set" and a fingerprint, timestamps as ISO strings. */
export function toView(kind: KindDefinition, columns: readonly string[], row: IntegrationRecord | RawRow): Record<string, unknown> {
  const plain = asPlain(row)
  const view: Record<string, unknown> = {}
  // A freshly created row lacks the columns it left to the database: they are null.
  for (const name of columns) view[name] = plain[name] ?? null
  for (const field of secretFields(kind)) {
    const fingerprint = plain[fingerprintKey(field)] ?? null
    view[hasSecretKey(field)] = fingerprint !== null
    view[fingerprintKey(field)] = fingerprint
  }
  view.isActive = Boolean(plain.isActive)
  view.lastVerifiedAt = iso(plain.lastVerifiedAt)
  view.credentialExpiresAt = iso(plain.credentialExpiresAt)
  view.createdAt = iso(plain.createdAt)
  view.updatedAt = iso(plain.updatedAt)
  return view
}
