import { Type, type Static } from '@sinclair/typebox'
import { NOT_STANDING, permitTenantRead, standingParams, standingSql } from '../auth/access.js'
import type { Principal } from '../auth/tokens.js'
import type { Database } from '../db/database.js'
import { TenantIdSchema } from '../http/common-schemas.js'
import { pageIndexName } from '../db/models/integration-model.js'
import { readerFor, tableThrough } from '../db/reader.js'
import { encodeCursor } from './cursor.js'
import { VerificationStatusSchema } from './schemas.js'
import { connectionsOf, providerFields, type KindDefinition, type ProviderSpec } from '../kinds/define/kind.js'

export const ProviderCatalogSchema = Type.Object(
  {
    kinds: Type.Array(
      Type.Object({
        kind: Type.String({ description: 'URL segment under /api/v1/integrations' }),
        title: Type.String(),
        providerField: Type.String({ description: 'Body field that names the provider, e.g. scmType' }),
        providers: Type.Array(
          Type.Object({
            id: Type.String(),
            label: Type.String(),
            verifies: Type.Union([Type.String(), Type.Null()], { description: 'What verification checks' }),
            connections: Type.Array(
              Type.Object({
                id: Type.String(),
                label: Type.String(),
                required: Type.Array(Type.String(), { description: "Fields this way needs beside the provider's required ones" }),
                optional: Type.Array(Type.String()),
                verifies: Type.Union([Type.String(), Type.Null()]),
                mintsTokens: Type.Boolean({ description: 'Whether the access-token route mints short-lived tokens for it' }),
              }),
              {
                description:
                  'The ways to connect the provider; an integration uses exactly one, chosen by the fields given (the first is the default)',
              },
            ),
            fields: Type.Array(
              Type.Object({
                name: Type.String(),
                required: Type.Boolean({
                  description:
                    'Required: by the provider, or by the one way to connect it belongs to (for a field several ways take, the default way)',
                }),
                connection: Type.Union([Type.String(), Type.Null()], {
                  description: 'The one way to connect that takes the field (see connections); null when every way may',
                }),
                secret: Type.Boolean({ description: 'Write-only: stored encrypted, never returned' }),
                schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the value' }),
              }),
            ),
          }),
        ),
      }),
    ),
  },
  { $id: 'ProviderCatalog', title: 'ProviderCatalog' },
)

/** Whether a field is required, and the one way of connecting it belongs to (null: it belongs to the provider). */
function fieldConnection(provider: ProviderSpec, name: string): { required: boolean; connection: string | null } {
  if (provider.required.includes(name) || provider.optional.includes(name))
    return { required: provider.required.includes(name), connection: null }
  const connections = connectionsOf(provider)
  const takers = connections.filter((c) => c.required.includes(name) || c.optional.includes(name))
  const only = takers.length === 1 ? takers[0]! : undefined
  // Required where its own way requires it; a field several ways take reads as the default way (the first) has it.
  return { required: (only ?? connections[0]!).required.includes(name), connection: only?.id ?? null }
}

/** The catalog is the kind definitions themselves, described; built once. */
export function providerCatalog(kinds: readonly KindDefinition[]): Static<typeof ProviderCatalogSchema> {
  return {
    kinds: kinds.map((kind) => ({
      kind: kind.segment,
      title: kind.title,
      providerField: kind.providerField,
      providers: kind.providers.map((provider) => ({
        id: provider.id,
        label: provider.label,
        verifies: provider.verifies ?? null,
        connections: connectionsOf(provider).map((c) => ({
          id: c.id,
          label: c.label,
          required: [...c.required],
          optional: [...c.optional],
          verifies: c.verifies ?? null,
          mintsTokens: c.mint !== undefined,
        })),
        fields: providerFields(provider).map((name) => ({
          name,
          ...fieldConnection(provider, name),
          secret: kind.fields[name]!.secret ?? false,
          schema: JSON.parse(JSON.stringify(kind.fields[name]!.schema)) as Record<string, unknown>,
        })),
      })),
    })),
  }
}

const SummaryItemSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  provider: Type.String(),
  displayName: Type.String(),
  isActive: Type.Boolean(),
  verificationStatus: VerificationStatusSchema,
  lastVerifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})

/** How many items of each kind the summary answers at most, unless the query says otherwise. */
export const SUMMARY_LIMIT_DEFAULT = 50

export const SummaryQuerySchema = Type.Object(
  {
    tenantId: TenantIdSchema,
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        default: SUMMARY_LIMIT_DEFAULT,
        description: "Most items per kind, the kind's oldest first; nextCursors says where each kind continues",
      }),
    ),
  },
  { additionalProperties: false },
)

export function summarySchema(kinds: readonly KindDefinition[]) {
  const cursor = Type.Union([Type.String(), Type.Null()], {
    description:
      'Where this kind continues: pass it as `cursor` to GET /api/v1/integrations/{kind}?tenantId= for the next items; null when every one was listed',
  })
  return Type.Object(
    {
      tenantId: Type.String(),
      kinds: Type.Object(Object.fromEntries(kinds.map((k) => [k.segment, Type.Array(SummaryItemSchema)])), {
        description: 'Per kind, up to `limit` integrations in id (creation) order',
      }),
      nextCursors: Type.Object(Object.fromEntries(kinds.map((k) => [k.segment, cursor])), {
        description: 'Per kind, the cursor of the rest when the kind has more than `limit` integrations, else null',
      }),
    },
    { $id: 'IntegrationSummary', title: 'IntegrationSummary' },
  )
}

const SUMMARY_COLUMNS = ['kind', 'id', 'provider', 'displayName', 'isActive', 'verificationStatus', 'lastVerifiedAt'] as const

/**
 * One statement for the whole summary: the caller's standing in the tenant (see standingSql), then up to `limit + 1`
 * of the tenant's rows of each kind, oldest first, each through the keyset index pages walk (no sort, no scan, and
 * the same cost whatever the tenant's size). Each kind's branch keeps its own ORDER BY and LIMIT: parenthesised on
 * MySQL, a subquery on SQLite (which takes neither inside a compound SELECT).
 */
function summarySql(db: Database, kinds: readonly KindDefinition[], principal: Principal['type']): string {
  const branches = kinds.map((kind) => {
    const from = tableThrough(db, kind.tableName, pageIndexName(kind))
    const branch =
      `SELECT ${NOT_STANDING}, '${kind.segment}', \`id\`, \`${kind.providerField}\`, \`displayName\`, \`isActive\`, ` +
      `\`verificationStatus\`, \`lastVerifiedAt\` FROM ${from} WHERE \`tenantId\` = ? ORDER BY \`id\` LIMIT ?`
    return db.dialect === 'mysql' ? `(${branch})` : `SELECT * FROM (${branch}) AS \`page\``
  })
  return [standingSql(principal, SUMMARY_COLUMNS), ...branches].join(' UNION ALL ')
}

const summarySqlCache = new WeakMap<Database, Map<string, string>>()

/**
 * A tenant's integrations across every kind: who is connected, and whether it still works. No secrets. Up to `limit`
 * of each kind, with where the kind's list continues when it has more.
 */
export async function tenantSummary(
  db: Database,
  kinds: readonly KindDefinition[],
  principal: Principal,
  tenantId: string,
  limit = SUMMARY_LIMIT_DEFAULT,
) {
  let cache = summarySqlCache.get(db)
  if (!cache) summarySqlCache.set(db, (cache = new Map<string, string>()))
  let sql = cache.get(principal.type)
  if (!sql) cache.set(principal.type, (sql = summarySql(db, kinds, principal.type)))
  // One row more than asked per kind: whether it exists says if the kind has more. The limit as a BigInt: mysql2
  // would send a number as a DOUBLE, which MySQL 8 refuses for LIMIT.
  const params = [...standingParams(principal, tenantId), ...kinds.flatMap(() => [tenantId, BigInt(limit + 1)])]
  const read = await readerFor(db.sequelize)(sql, params)
  const lists = new Map<string, Static<typeof SummaryItemSchema>[]>(kinds.map((k) => [k.segment, []]))
  for (const r of permitTenantRead(principal, tenantId, read)) {
    lists.get(String(r.kind))?.push({
      id: String(r.id),
      provider: String(r.provider),
      displayName: String(r.displayName),
      isActive: Boolean(r.isActive),
      verificationStatus: r.verificationStatus as Static<typeof VerificationStatusSchema>,
      lastVerifiedAt: r.lastVerifiedAt ? new Date(r.lastVerifiedAt as string).toISOString() : null,
    })
  }
  const nextCursors: Record<string, string | null> = {}
  for (const [kind, items] of lists) {
    // In id order, as each kind's index gives them; a compound SELECT promises no order of its own.
    items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const more = items.length > limit
    if (more) items.length = limit
    nextCursors[kind] = more ? encodeCursor(items.at(-1)!.id) : null
  }
  return { tenantId, kinds: Object.fromEntries(lists), nextCursors }
}
