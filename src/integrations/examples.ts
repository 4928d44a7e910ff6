import { DEMO } from '../db/dev-seed.js'
import { providerFields, tokenOptionsOf, type KindDefinition } from '../kinds/define/kind.js'

/** A UUID that reads as an example: the tenant of the explorer's examples where no demo tenant is seeded. */
export const EXAMPLE_TENANT_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7'

export interface ExampleTenant {
  id: string
  /** The demo tenant the development seed creates, which the printed token's account owns. */
  demo: boolean
}

/** The tenant the explorer's examples name: the demo tenant where it is seeded, else an example to replace. */
export function exampleTenant(demoSeeded: boolean): ExampleTenant {
  return demoSeeded ? { id: DEMO.tenantId, demo: true } : { id: EXAMPLE_TENANT_ID, demo: false }
}

/** An OpenAPI Example Object: Swagger UI lists it by its summary and fills in its value. */
export interface NamedExample {
  summary: string
  description: string
  value: Record<string, unknown>
}

const code = (names: string[]) => names.map((n) => `\`${n}\``).join(' and ')

/**
 * One named example per provider of a create (or draft verify) body: the provider's own example
 * values with the tenant, the provider and a name, sendable once its secrets (and, outside
 * development, the tenant) are the caller's.
 */
export function providerExamples(kind: KindDefinition, tenant: ExampleTenant): Record<string, NamedExample> {
  return Object.fromEntries(
    kind.providers.map((provider) => {
      const secrets = providerFields(provider).filter((f) => kind.fields[f]?.secret && provider.example[f] !== undefined)
      const tenantNote = tenant.demo ? '`tenantId` is the demo tenant.' : "Put your tenant's id in `tenantId`."
      return [
        provider.id,
        {
          summary: provider.label,
          description: `${tenantNote} Replace the placeholder in ${code(secrets)} with yours, then Execute.`,
          value: { tenantId: tenant.id, [kind.providerField]: provider.id, displayName: provider.label, ...provider.example },
        },
      ]
    }),
  )
}

/**
 * One named example per provider whose access-token route takes options: the provider and each option's
 * documented example, sendable as is. Without a body the route mints a token with no narrowing.
 */
export function tokenOptionExamples(kind: KindDefinition): Record<string, NamedExample> {
  return Object.fromEntries(
    kind.providers
      .filter((provider) => tokenOptionsOf(provider) !== undefined)
      .map((provider) => {
        const options = Object.entries(tokenOptionsOf(provider)!).flatMap(([name, schema]) => {
          const [example] = (schema as { examples?: unknown[] }).examples ?? []
          return example === undefined ? [] : [[name, example] as const]
        })
        return [
          provider.id,
          {
            summary: `${provider.label}, narrowed`,
            description: `Every option is optional; send no body for a token with all the key allows.`,
            value: { [kind.providerField]: provider.id, ...Object.fromEntries(options) },
          },
        ]
      }),
  )
}
