import type { TSchema } from '@sinclair/typebox'
import type { DataType } from 'sequelize'
import type { TokenMinter, TokenType } from '../../verification/access-token.js'
import type { VerificationResult, Verifier } from '../../verification/types.js'

export type FieldValues = Record<string, unknown>

/** Columns every integration table has beside its kind's own fields (see the db models). */
export type CommonColumn =
  | 'id'
  | 'tenantId'
  | 'displayName'
  | 'isActive'
  | 'verificationStatus'
  | 'lastVerifiedAt'
  | 'verificationError'
  | 'credentialExpiresAt'
  | 'createdByAccountId'
  | 'createdAt'
  | 'updatedAt'
  | 'version'

export interface FieldSpec<F extends string = string> {
  /** JSON Schema of the value: request bodies, responses and the provider catalog derive from it. */
  schema: TSchema
  column: { type: DataType; allowNull: boolean; defaultValue?: unknown }
  /** Stored encrypted, write-only: never in a response or a log line. */
  secret?: boolean
  /** Changing it makes the last verification verdict stale. */
  verified?: boolean
  /** May be changed with PATCH. Secrets are always replaceable. */
  patchable?: boolean
  /** Derived from another field when not given; a PATCH of that field derives it again. */
  derivedFrom?: F
  /**
   * Checks a given value beyond its JSON Schema (a PEM that parses, JSON with the right
   * keys); returns the problem, phrased to follow the field name, or undefined.
   */
  check?: (value: unknown) => string | undefined
}

export interface ProviderSpec<F extends string = string> {
  id: string
  label: string
  /** Fields this provider takes on create; every other kind field must stay unset. */
  required: readonly F[]
  optional: readonly F[]
  /**
   * The values the API explorer's example create body carries for this provider, beside the
   * tenant, the provider and a name: valid as they are, but each secret a placeholder that reads
   * as one (and still fits the field's pattern), for the person to replace with theirs.
   */
  example: { readonly [K in F]?: string }
  /** Checks credentials against the provider's API. */
  verify?: Verifier
  /** What verification checks, for the provider catalog. */
  verifies?: string
  /** Create always verifies: what identifies the connection comes from the provider's answer. */
  verifyOnCreate?: boolean
  /** Columns to keep from a VALID verification (e.g. the Slack workspace it answered for); undefined values are skipped. */
  recordFacts?: (result: VerificationResult) => { [K in F]?: string | number | boolean | null | undefined }
  /** Mints short-lived tokens from the stored credential. Without one, the access-token route hands out the stored secret. */
  mint?: TokenMinter
  /** How the stored secret is presented when handed out as it is; Bearer unless given. */
  tokenType?: (values: FieldValues) => TokenType
}

export interface IndexSpec<C extends string = string> {
  name: string
  fields: readonly C[]
  unique?: boolean
}

/**
 * Everything that differs between integration kinds. CRUD, authorization, secret
 * handling, pagination, errors and OpenAPI are written once against this shape.
 * `F` names the kind's fields and `P` its provider column; write one with `defineKind`
 * so every name that refers to a field is checked by the compiler.
 */
export interface KindDefinition<F extends string = string, P extends string = string> {
  /** URL segment under /api/v1/integrations, e.g. `ci-cd`. */
  segment: string
  /** PascalCase stem for OpenAPI component names and operation ids. */
  name: string
  /** What a person calls it: "source control". */
  title: string
  tableName: string
  /** Discriminator column naming the provider, e.g. `scmType`. */
  providerField: P
  providers: readonly ProviderSpec<F>[]
  fields: Readonly<Record<F, FieldSpec<F>>>
  /**
   * Must include an index led by tenantId and the named unique index. The engine adds the keyset
   * index (tenantId, id) that pages walk to every kind's table.
   */
  indexes: readonly IndexSpec<F | P | CommonColumn>[]
  /** 409 message when the named unique index refuses a row. */
  duplicateMessage: string
  /**
   * Normalises and cross-checks provider fields after schema validation (e.g. canonical
   * URLs). Gets the full set of values the row will hold; throws a FieldError.
   */
  normalize(values: FieldValues, provider: string): FieldValues
  /**
   * The origin a stored secret is sent to. When a change moves it, the secret must be
   * re-entered in the same request: a stored secret never follows a host the caller chose.
   */
  secretOrigin?(values: FieldValues): string | undefined
}

/**
 * Declares a kind. The field names are taken from `fields` alone; every other place that
 * names a field (a provider's `required`/`optional`, `derivedFrom`, index columns,
 * `recordFacts`) must use one of them, so a misspelt name fails to compile.
 */
export function defineKind<const F extends string, const P extends string>(
  definition: Omit<KindDefinition<F, P>, 'providers' | 'fields' | 'indexes'> & {
    fields: Readonly<Record<F, FieldSpec<NoInfer<F>>>>
    providers: readonly ProviderSpec<NoInfer<F>>[]
    indexes: readonly IndexSpec<NoInfer<F | P> | CommonColumn>[]
  },
): KindDefinition {
  return definition
}

export function secretFields(kind: KindDefinition): string[] {
  return Object.entries(kind.fields)
    .filter(([, f]) => f.secret)
    .map(([name]) => name)
}

/** Whether a provider of the kind takes what identifies a connection from its answer, and so verifies every change to it. */
export function identifiedByProvider(kind: KindDefinition): boolean {
  return kind.providers.some((p) => p.verifyOnCreate)
}

/**
 * The secret a provider without a minter hands out as its access token: its one required secret field. Undefined
 * when it has none or several (such a provider needs a minter).
 */
export function handedOutSecret(kind: KindDefinition, provider: ProviderSpec): string | undefined {
  const secrets = provider.required.filter((field) => kind.fields[field]?.secret)
  return secrets.length === 1 ? secrets[0] : undefined
}

export function providerFields(provider: ProviderSpec): string[] {
  return [...provider.required, ...provider.optional]
}

export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

// Letters whose names start with a vowel sound: an acronym is read letter by letter ("an SCM", "a CI/CD").
const VOWEL_SOUND_LETTERS = /^[AEFHILMNORSX]/

/** `phrase` after "a" or "an", as its first word sounds: "an app distribution target", "a GitHub …", "an SCM …". */
export function withArticle(phrase: string): string {
  const word = phrase.split(/[\s/]/, 1)[0] ?? ''
  const vowelSound = /^[A-Z0-9]{2,}$/.test(word) ? VOWEL_SOUND_LETTERS.test(word) : /^[aeiou]/i.test(word)
  return `${vowelSound ? 'an' : 'a'} ${phrase}`
}
export const hasSecretKey = (field: string) => `has${capitalize(field)}`
export const fingerprintKey = (field: string) => `${field}Fingerprint`
