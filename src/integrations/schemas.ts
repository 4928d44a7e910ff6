import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'
import { ref, StringEnum, TenantIdSchema } from '../http/common-schemas.js'
import { SINGLE_LINE_NOT_BLANK } from '../http/patterns.js'
import { CURSOR_PATTERN } from './cursor.js'
import type { VerificationReport } from './service.js'
import { VERIFICATION_STATUSES } from '../db/models/integration-model.js'
import {
  fingerprintKey,
  connectionsOf,
  hasSecretKey,
  providerFields,
  tokenOptionsOf,
  withArticle,
  type FieldValues,
  type KindDefinition,
  type ProviderSpec,
} from '../kinds/define/kind.js'

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const pascal = (id: string) => id.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())
const closed = { additionalProperties: false } as const

/** A PATCH must never fill in a field the caller did not send. */
function withoutDefault<T extends TSchema>(schema: T): T {
  const rest: Record<string, unknown> = { ...schema }
  delete rest.default
  return rest as T
}

export const DisplayNameSchema = Type.String({
  minLength: 1,
  maxLength: 255,
  ...SINGLE_LINE_NOT_BLANK,
  description: 'Name shown in Delivr',
})
export const VerificationStatusSchema = StringEnum(VERIFICATION_STATUSES)
const Timestamp = Type.String({ format: 'date-time' })

/** What the access-token route answers, for every kind and provider. */
export const AccessTokenSchema = Type.Object(
  {
    accessToken: Type.String({ description: "The token to send to the provider: minted (shortLived) or the integration's stored secret" }),
    tokenType: StringEnum(['Bearer', 'Basic'] as const, {
      description:
        "How to send it: `Authorization: Bearer <accessToken>`, or HTTP Basic with the integration's user (Jenkins `username`, Jira Cloud `email`) and accessToken as the password",
    }),
    expiresAt: Nullable({
      ...Timestamp,
      description: 'When the token expires; for a stored secret, what the last verification learned (null: not known, or never)',
    }),
    shortLived: Type.Boolean({ description: 'Minted for this use (true), or the long-lived stored secret (false)' }),
    grants: Nullable(
      Type.Array(Type.String(), {
        description: 'What the token is limited to (OAuth scopes, App Store operations); null: whatever the credential allows',
      }),
    ),
  },
  { $id: 'AccessToken', title: 'AccessToken' },
)

/** An access-token body without options: the provider's defaults (as is no body at all). */
export const AccessTokenDefaultsSchema = Type.Object(
  {},
  { ...closed, $id: 'AccessTokenDefaults', title: 'AccessTokenDefaults', description: "No options: the provider's defaults" },
)

function pick(kind: KindDefinition, names: readonly string[], optional: boolean): TProperties {
  return Object.fromEntries(names.map((n) => [n, optional ? Type.Optional(kind.fields[n]!.schema) : kind.fields[n]!.schema]))
}

function providerEnum(kind: KindDefinition) {
  return StringEnum(kind.providers.map((p) => p.id))
}

/** Component name of a provider's create body, e.g. `ScmGithubCreateRequest`. */
export function createBodyId(kind: KindDefinition, provider: ProviderSpec): string {
  return `${kind.name}${pascal(provider.id)}CreateRequest`
}

/** Component name of a provider's access-token options, e.g. `TargetAppStoreAccessTokenRequest`. */
export function accessTokenBodyId(kind: KindDefinition, provider: ProviderSpec): string {
  return `${kind.name}${pascal(provider.id)}AccessTokenRequest`
}

/** Providers whose minter takes options in the access-token body. */
export const providersWithTokenOptions = (kind: KindDefinition) => kind.providers.filter((p) => tokenOptionsOf(p) !== undefined)

function accessTokenRequest(kind: KindDefinition, provider: ProviderSpec): TObject {
  return Type.Object(
    { [kind.providerField]: Type.Literal(provider.id), ...tokenOptionsOf(provider)! },
    { ...closed, $id: accessTokenBodyId(kind, provider), title: `Options for ${provider.label} access tokens` },
  )
}

function createRequest(kind: KindDefinition, provider: ProviderSpec): TObject {
  return Type.Object(
    {
      tenantId: TenantIdSchema,
      [kind.providerField]: Type.Literal(provider.id),
      displayName: DisplayNameSchema,
      ...pick(kind, provider.required, false),
      ...pick(
        kind,
        providerFields(provider).filter((f) => !provider.required.includes(f)),
        true,
      ),
      isActive: Type.Optional(Type.Boolean({ default: true })),
    },
    {
      ...closed,
      $id: createBodyId(kind, provider),
      title: `Create ${withArticle(`${provider.label} ${kind.title} integration`)}`,
      ...(provider.connections ? { description: connectionsText(provider) } : {}),
    },
  )
}

/** How the body says which way it connects: "Connect one way: with a personal access token (accessToken), or …". */
function connectionsText(provider: ProviderSpec): string {
  const ways = connectionsOf(provider).map((c) => `${withArticle(c.label)} (${c.required.join(', ')})`)
  return `Connect one way: with ${ways.join(', or with ')}. Fields of two ways together are refused (400).`
}

/** One body per provider as a `oneOf` discriminated by the provider field, so generated clients get one type each. */
function byProvider<T>(kind: KindDefinition, id: string, bodies: readonly TObject[]) {
  return Type.Unsafe<T>({
    $id: id,
    title: id,
    type: 'object',
    oneOf: bodies.map((b) => Type.Ref(b.$id!)),
    discriminator: { propertyName: kind.providerField },
  })
}

/**
 * Every schema of a kind, named for OpenAPI components. Request bodies are a oneOf over
 * providers with a discriminator, so generated clients get one typed body per provider.
 */
export function kindSchemas(kind: KindDefinition) {
  const fields = Object.entries(kind.fields)
  const plain = fields.filter(([, f]) => !f.secret && !f.internal)
  const secrets = fields.filter(([, f]) => f.secret)

  const Integration = Type.Object(
    {
      id: Type.String({ format: 'uuid' }),
      tenantId: Type.String(),
      [kind.providerField]: providerEnum(kind),
      displayName: Type.String(),
      // Nullable exactly where the column is: a client need not handle null for a NOT NULL column.
      ...Object.fromEntries(plain.map(([n, f]) => [n, f.column.allowNull ? Nullable(f.schema) : f.schema])),
      ...Object.fromEntries(
        secrets.flatMap(([n]) => [
          [hasSecretKey(n), Type.Boolean({ description: `Whether ${n} is set (its value is never returned)` })],
          [fingerprintKey(n), Nullable(Type.String({ description: `Short keyed hash of ${n}: changes when it changes` }))],
        ]),
      ),
      isActive: Type.Boolean(),
      verificationStatus: VerificationStatusSchema,
      lastVerifiedAt: Nullable(Timestamp),
      verificationError: Nullable(Type.String({ description: 'Why the last verification failed; safe to show' })),
      credentialExpiresAt: Nullable({
        ...Timestamp,
        description: 'When the secret expires, as the provider told at the last verification',
      }),
      createdByAccountId: Type.String(),
      createdAt: Timestamp,
      updatedAt: Timestamp,
    },
    { $id: `${kind.name}Integration`, title: `${kind.name}Integration` },
  )

  const providerBodies = kind.providers.map((p) => createRequest(kind, p))
  const CreateRequest = byProvider<Record<string, unknown> & { tenantId: string }>(kind, `${kind.name}CreateRequest`, providerBodies)

  const UpdateRequest = Type.Object(
    {
      displayName: Type.Optional(DisplayNameSchema),
      isActive: Type.Optional(Type.Boolean()),
      ...Object.fromEntries(
        fields.filter(([, f]) => f.patchable || f.secret).map(([n, f]) => [n, Type.Optional(withoutDefault(f.schema))]),
      ),
    },
    { ...closed, minProperties: 1, $id: `${kind.name}UpdateRequest`, title: `${kind.name}UpdateRequest` },
  )

  const secretProps = Object.fromEntries(secrets.map(([n, f]) => [n, Type.Optional(f.schema)]))
  const CredentialsUpdate = Type.Object(secretProps, {
    ...closed,
    minProperties: 1,
    $id: `${kind.name}CredentialsUpdate`,
    title: `${kind.name}CredentialsUpdate`,
  })

  const Credentials = Type.Object(
    {
      id: Type.String({ format: 'uuid' }),
      tenantId: Type.String(),
      [kind.providerField]: providerEnum(kind),
      credentials: Type.Object(secretProps),
    },
    { $id: `${kind.name}Credentials`, title: `${kind.name}Credentials` },
  )

  const Page = Type.Object(
    {
      items: Type.Array(ref(Integration)),
      nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page' })),
    },
    { $id: `${kind.name}IntegrationPage`, title: `${kind.name}IntegrationPage` },
  )

  const ListQuery = Type.Object(
    {
      tenantId: TenantIdSchema,
      [kind.providerField]: Type.Optional({ ...providerEnum(kind), description: 'Only this provider' }),
      isActive: Type.Optional(Type.Boolean({ description: 'Only active (true) or inactive (false) integrations' })),
      verificationStatus: Type.Optional({ ...VerificationStatusSchema, description: 'Only integrations with this status' }),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size' })),
      cursor: Type.Optional(Type.String({ ...CURSOR_PATTERN, description: 'nextCursor of the previous page' })),
    },
    closed,
  )

  // Only providers whose minter takes options have a body of their own; no body (or `{}`) works for every provider.
  const tokenBodies = providersWithTokenOptions(kind).map((p) => accessTokenRequest(kind, p))
  const AccessTokenRequest =
    tokenBodies.length === 0 ? undefined : byProvider<FieldValues>(kind, `${kind.name}AccessTokenRequest`, tokenBodies)
  const AccessTokenBody = Type.Union(
    [...(AccessTokenRequest ? [ref(AccessTokenRequest)] : []), ref(AccessTokenDefaultsSchema), Type.Null()],
    { description: "Optional: no body, `{}` or null take the provider's defaults" },
  )

  const VerificationOutcome = Type.Object(
    {
      result: Type.Unsafe<VerificationReport>(Type.Ref('VerificationResult')),
      integration: ref(Integration),
    },
    { $id: `${kind.name}VerificationOutcome`, title: `${kind.name}VerificationOutcome` },
  )

  return {
    Integration,
    VerificationOutcome,
    Page,
    CreateRequest,
    UpdateRequest,
    CredentialsUpdate,
    Credentials,
    ListQuery,
    AccessTokenBody,
    /** Registered once with Fastify and the validators, in dependency order. */
    shared: [
      Integration,
      Page,
      ...providerBodies,
      CreateRequest,
      UpdateRequest,
      CredentialsUpdate,
      Credentials,
      VerificationOutcome,
      ...tokenBodies,
      ...(AccessTokenRequest ? [AccessTokenRequest] : []),
    ] as TSchema[],
  }
}

export type KindSchemas = ReturnType<typeof kindSchemas>
