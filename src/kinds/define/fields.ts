import { Type, type TSchema } from '@sinclair/typebox'
import { DataTypes } from 'sequelize'
import type { FieldSpec } from './kind.js'
import { HTTPS_URL_RULES, tokenPattern } from '../../http/patterns.js'

interface Options {
  verified?: boolean
  patchable?: boolean
}

/** A non-secret text column, nullable because other providers of the kind leave it empty. */
export function textField(schema: TSchema & { maxLength?: number }, options: Options = {}): FieldSpec<never> {
  return {
    schema,
    column: { type: DataTypes.STRING(schema.maxLength ?? 255), allowNull: true },
    verified: options.verified ?? true,
    patchable: options.patchable ?? true,
  }
}

/** What the service stores from a verification; never taken from a request body. */
export function recordedField(description: string, maxLength = 255): FieldSpec<never> {
  return { schema: Type.String({ maxLength, description }), column: { type: DataTypes.STRING(maxLength), allowNull: true } }
}

interface SecretOptions {
  maxLength?: number
  /** A standard JSON Schema pattern (see describedPattern): no format of our own. */
  pattern?: string
  check?: FieldSpec['check']
}

/** Write-only, encrypted at rest. */
export function secretField(description: string, options: SecretOptions = {}): FieldSpec<never> {
  return {
    schema: Type.String({
      minLength: 1,
      maxLength: options.maxLength ?? 4096,
      description: `${description} (write-only)`,
      ...(options.pattern ? { pattern: options.pattern } : {}),
    }),
    column: { type: DataTypes.TEXT, allowNull: true },
    secret: true,
    ...(options.check ? { check: options.check } : {}),
  }
}

/**
 * A secret the verifier sends in an HTTP header: printable ASCII without spaces, or it could not
 * be sent; `prefix` is how the provider's tokens start (e.g. `xoxb-`).
 */
export function tokenField(
  description: string,
  options: Omit<SecretOptions, 'pattern'> & { prefix?: string | readonly string[] } = {},
): FieldSpec<never> {
  const { prefix, ...rest } = options
  return secretField(description, { ...rest, ...tokenPattern(prefix) })
}

/** A URL given by the tenant: https, no credentials, query or fragment (the kind canonicalises it). */
export function httpsUrlSchema(options: { maxLength: number; description: string; examples: string[] }) {
  return Type.String({ minLength: 1, ...options, allOf: [...HTTPS_URL_RULES] })
}

/** A tenant-given https base URL (Jenkins, Jira, Checkmate); canonicalised by the kind's normalize. */
export function baseUrlField(description: string, example: string): FieldSpec<never> {
  return textField(httpsUrlSchema({ maxLength: 255, description, examples: [example] }))
}

/** An instant the service records (ISO 8601 in responses); never taken from a request body. */
export function recordedInstant(description: string): FieldSpec<never> {
  return { schema: Type.String({ format: 'date-time', description }), column: { type: DataTypes.DATE(3), allowNull: true } }
}

/** The service's own bookkeeping, never shown: a text or an instant column. */
export function internalField(type: 'text' | 'instant'): FieldSpec<never> {
  return {
    schema: type === 'text' ? Type.String({ maxLength: 64 }) : Type.String({ format: 'date-time' }),
    column: { type: type === 'text' ? DataTypes.STRING(64) : DataTypes.DATE(3), allowNull: true },
    internal: true,
  }
}
