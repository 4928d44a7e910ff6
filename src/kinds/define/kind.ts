import type { TProperties, TSchema } from '@sinclair/typebox'
import type { DataType } from 'sequelize'
import type { TokenMinter, TokenRotation, TokenType } from '../../verification/access-token.js'
import type { VerificationResult, Verifier } from '../../verification/types.js'
import { FieldError } from '../../http/errors.js'

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
  /** The service's own bookkeeping (a refresh lease): never in a request, a response or the catalog. */
  internal?: boolean
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
  /** The field's stored form of a valid value (e.g. an id given as a number, stored as its digits); runs before the kind's normalize. */
  normalize?: (value: unknown) => unknown
}

/**
 * One way to connect a provider (a personal access token, a GitHub App): the fields it takes beside the provider's
 * own, and how it verifies and mints. An integration uses exactly one.
 */
export interface ConnectionSpec<F extends string = string> {
  id: string
  /** What a person calls it: "personal access token", "GitHub App". */
  label: string
  required: readonly F[]
  optional?: readonly F[]
  verify?: Verifier
  verifies?: string
  mint?: TokenMinter
  /** Its token is short-lived and renewed with a single-use refresh token the service keeps (and spends) itself. */
  rotate?: TokenRotation
}

/** A provider's connection with everything it inherits from the provider filled in. */
export interface Connection {
  id: string
  label: string
  required: readonly string[]
  optional: readonly string[]
  verify?: Verifier
  verifies?: string
  mint?: TokenMinter
  rotate?: TokenRotation
}

export interface ProviderSpec<F extends string = string> {
  id: string
  label: string
  /** Fields this provider takes on create (beside its connection's); every other kind field must stay unset. */
  required: readonly F[]
  optional: readonly F[]
  /**
   * Ways to connect, when there is more than one: each integration uses exactly one, chosen by the fields given (the
   * first is the default). Without them the provider has one way, with `verify` and `mint`.
   */
  connections?: readonly ConnectionSpec<F>[]
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

/** Fields the service keeps for itself (see FieldSpec.internal). */
export function internalFields(kind: KindDefinition): string[] {
  return Object.entries(kind.fields)
    .filter(([, f]) => f.internal)
    .map(([name]) => name)
}

/** Fields that hold an instant (a DATE column), shown as ISO 8601. */
export function instantFields(kind: KindDefinition): string[] {
  return Object.entries(kind.fields)
    .filter(([, f]) => (f.schema as { format?: string }).format === 'date-time' && !f.internal)
    .map(([name]) => name)
}

/** `values` with each given field in its stored form (FieldSpec.normalize), then the kind's own normalize. */
export function normalizeValues(kind: KindDefinition, values: FieldValues, provider: string): FieldValues {
  const stored: FieldValues = { ...values }
  for (const [field, spec] of Object.entries(kind.fields)) {
    if (spec.normalize && stored[field] != null) stored[field] = spec.normalize(stored[field])
  }
  return kind.normalize(stored, provider)
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

/** The secret fields a connected integration must hold: the provider's and its connection's required ones. */
export function requiredSecrets(kind: KindDefinition, provider: ProviderSpec, connection: Connection): string[] {
  return [...provider.required, ...connection.required].filter((field) => kind.fields[field]?.secret)
}

/**
 * The secret a provider without a minter hands out as its access token: its one required secret field. Undefined
 * when it has none or several (such a provider needs a minter).
 */
export function handedOutSecret(kind: KindDefinition, provider: ProviderSpec, connection: Connection): string | undefined {
  const secrets = [...provider.required, ...connection.required].filter((field) => kind.fields[field]?.secret)
  return secrets.length === 1 ? secrets[0] : undefined
}

/** Every field a provider takes, whichever way it is connected. */
export function providerFields(provider: ProviderSpec): string[] {
  const ways = (provider.connections ?? []).flatMap((c) => [...c.required, ...(c.optional ?? [])])
  return [...new Set([...provider.required, ...provider.optional, ...ways])]
}

const DEFAULT_CONNECTION = 'default'

/** The ways to connect a provider, each with what it inherits from the provider; one for a provider without `connections`. */
export function connectionsOf(provider: ProviderSpec): readonly Connection[] {
  return resolved(provider).connections
}

/** A provider's ways, each with the fields only it takes: worked out once per provider (every token request asks). */
const resolvedWays = new WeakMap<ProviderSpec, { connections: readonly Connection[]; own: readonly (readonly string[])[] }>()

function resolved(provider: ProviderSpec) {
  let ways = resolvedWays.get(provider)
  if (!ways) {
    const inherited = { verify: provider.verify, verifies: provider.verifies, mint: provider.mint }
    const connections: Connection[] = provider.connections
      ? provider.connections.map((c) => ({
          id: c.id,
          label: c.label,
          required: c.required,
          optional: c.optional ?? [],
          verify: c.verify ?? inherited.verify,
          verifies: c.verifies ?? inherited.verifies,
          mint: c.mint ?? inherited.mint,
          ...(c.rotate ? { rotate: c.rotate } : {}),
        }))
      : [{ id: DEFAULT_CONNECTION, label: provider.label, required: [], optional: [], ...inherited }]
    // A connection's fields that no other way of the provider takes: giving one of them says which way is meant.
    const own = connections.map((connection) => {
      const others = new Set(connections.filter((c) => c !== connection).flatMap((c) => [...c.required, ...c.optional]))
      return [...connection.required, ...connection.optional].filter((f) => !others.has(f))
    })
    resolvedWays.set(provider, (ways = { connections, own }))
  }
  return ways
}

/**
 * The ways of connecting a kind's providers whose tokens are short-lived (minted, or renewed from a refresh token),
 * each named for messages ("GitHub (GitHub App)"), and whether getting one may ask the provider.
 */
export function shortLivedConnections(kind: KindDefinition): { label: string; callsProvider: boolean }[] {
  return kind.providers.flatMap((provider) =>
    connectionsOf(provider).flatMap((c) => {
      if (!c.mint && !c.rotate) return []
      const label = provider.connections ? `${provider.label} (${c.label})` : provider.label
      // A renewal spends the refresh token at the provider.
      return [{ label, callsProvider: c.rotate !== undefined || c.mint!.callsProvider }]
    }),
  )
}

/** The options a provider's access-token body may carry: those of each of its minting ways; undefined when none takes any. */
export function tokenOptionsOf(provider: ProviderSpec): TProperties | undefined {
  const options = connectionsOf(provider).flatMap((c) => (c.mint?.options ? [c.mint.options] : []))
  return options.length === 0 ? undefined : options.reduce<TProperties>((all, more) => ({ ...all, ...more }), {})
}

/** The ways `has` points to: those with a field of their own set. */
function meant(provider: ProviderSpec, has: (field: string) => boolean) {
  const { connections, own } = resolved(provider)
  const pointed = connections.map((connection, i) => ({ connection, given: own[i]!.filter(has) })).filter((m) => m.given.length > 0)
  return { connections, pointed }
}

/** The way the fields `has` points to, when they point to exactly one by a field of its own; undefined otherwise. */
export function pointedConnection(provider: ProviderSpec, has: (field: string) => boolean): Connection | undefined {
  const { pointed } = meant(provider, has)
  return pointed.length === 1 ? pointed[0]!.connection : undefined
}

/** What a row holds: a plain column set, or a secret stored (its fingerprint set). */
export const holds = (row: Record<string, unknown>) => (field: string) => row[field] != null || row[fingerprintKey(field)] != null

/** The way a stored integration is connected, by the fields it holds (`has`); the default when none points elsewhere. */
export function connectionOf(provider: ProviderSpec, has: (field: string) => boolean): Connection {
  const { connections, pointed } = meant(provider, has)
  return pointed[0]?.connection ?? connections[0]!
}

/**
 * The one way fields given for a new connection (`has`) choose; a FieldError when they mix two ways or one of the
 * chosen way's required fields is missing.
 */
export function chooseConnection(provider: ProviderSpec, has: (field: string) => boolean): Connection {
  const { connections, pointed } = meant(provider, has)
  if (pointed.length > 1) {
    const [first, second] = pointed as [(typeof pointed)[0], (typeof pointed)[0]]
    throw new FieldError(
      second.given[0]!,
      `cannot be given with ${first.given[0]}: ${provider.label} integrations connect one way, with ${phrase(first.connection)} or with ${phrase(second.connection)}`,
    )
  }
  const connection = pointed[0]?.connection ?? connections[0]!
  const missing = connection.required.find((f) => !has(f))
  if (missing !== undefined) {
    const others = connections.filter((c) => c !== connection).map(phrase)
    const alternatives = pointed.length === 0 && others.length > 0 ? ` (or connect with ${others.join(' or ')})` : ''
    const how = connections.length > 1 ? ` to connect with ${connection.label}` : ''
    throw new FieldError(missing, `is required${how}${alternatives}`)
  }
  return connection
}

/** "a GitHub App (githubAppId, githubInstallationId, githubAppPrivateKey)". */
function phrase(connection: Connection): string {
  return `${withArticle(connection.label)} (${connection.required.join(', ')})`
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
