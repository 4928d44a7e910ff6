import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { KINDS } from '../src/kinds/index.js'
import { accessTokenBodyId, createBodyId, providersWithTokenOptions } from '../src/integrations/schemas.js'
import {
  exampleTenant,
  providerExamples,
  tokenOptionExamples,
  type ExampleTenant,
  type NamedExample,
} from '../src/integrations/examples.js'
import { errorExample } from '../src/http/common-schemas.js'

export const BEARER = 'bearerAuth'
/** Where Swagger UI and the OpenAPI document are served. */
export const DOCUMENTATION_PREFIX = '/documentation'

type Media = {
  schema?: { $ref?: string; anyOf?: { type?: string; $ref?: string }[] }
  example?: unknown
  examples?: Record<string, unknown>
}
type Operation = {
  parameters?: { name: string; in: string; example?: unknown }[]
  requestBody?: { required?: boolean; content?: Record<string, Media> }
  responses?: Record<string, { content?: Record<string, Media> }>
}
type Document = {
  components?: { schemas?: Record<string, { discriminator?: { propertyName: string; mapping?: Record<string, string> } }> }
  paths?: Record<string, Record<string, Operation>>
}

const ERROR_REF = '#/components/schemas/ErrorResponse'
const SCHEMAS = '#/components/schemas/'

const operationsOf = (document: Document) => Object.values(document.paths ?? {}).flatMap((item) => Object.values(item))

/**
 * What the explorer fills in (a $ref body cannot carry examples beside it): every tenantId
 * parameter names the example tenant, every create or draft-verify body lists one example per
 * provider, so "Try it out" starts from a body the service accepts once the secret is real, and an
 * access-token body that takes options shows them.
 */
function withExplorerExamples<T>(document: T, tenant: ExampleTenant): T {
  const examples = new Map<string, Record<string, NamedExample>>([
    ...KINDS.map((k) => [`${SCHEMAS}${k.name}CreateRequest`, providerExamples(k, tenant)] as const),
    ...KINDS.map((k) => [`${SCHEMAS}${k.name}AccessTokenRequest`, tokenOptionExamples(k)] as const),
  ])
  for (const operation of operationsOf(document as Document)) {
    for (const parameter of operation.parameters ?? []) {
      if (parameter.name === 'tenantId' && parameter.in === 'query') parameter.example = tenant.id
    }
    const media = operation.requestBody?.content?.['application/json']
    // An optional body is `anyOf: [{ $ref }, { type: 'null' }]`.
    const ref = media?.schema?.$ref ?? media?.schema?.anyOf?.find((branch) => branch.$ref)?.$ref
    const bodyExamples = examples.get(ref ?? '')
    if (media && bodyExamples) media.examples = bodyExamples
  }
  return document
}

/** Each error response shows an answer of its own status (a $ref cannot carry one beside it). */
function withErrorExamples<T>(document: T): T {
  for (const operation of operationsOf(document as Document)) {
    for (const [code, response] of Object.entries(operation.responses ?? {})) {
      const media = response.content?.['application/json']
      if (media?.schema?.$ref === ERROR_REF) media.example = errorExample(Number(code))
    }
  }
  return document
}

function withDiscriminatorMappings<T>(document: T): T {
  const schemas = (document as Document).components?.schemas ?? {}
  const map = (name: string, entries: [string, string][]) => {
    const discriminator = schemas[name]?.discriminator
    if (discriminator) discriminator.mapping = Object.fromEntries(entries.map(([id, body]) => [id, `${SCHEMAS}${body}`]))
  }
  for (const kind of KINDS) {
    map(
      `${kind.name}CreateRequest`,
      kind.providers.map((p) => [p.id, createBodyId(kind, p)]),
    )
    map(
      `${kind.name}AccessTokenRequest`,
      providersWithTokenOptions(kind).map((p) => [p.id, accessTokenBodyId(kind, p)]),
    )
  }
  return document
}

/** A body whose schema takes null is optional (see createValidatorCompiler): the document says so. */
function withOptionalBodies<T>(document: T): T {
  for (const item of Object.values((document as Document).paths ?? {})) {
    for (const operation of Object.values(item)) {
      const body = operation.requestBody
      const schema = body?.content?.['application/json']?.schema
      if (body && schema?.anyOf?.some((branch) => branch.type === 'null')) body.required = false
    }
  }
  return document
}

/** OpenAPI 3.1 from the route schemas; shared schemas keep their `$id` as component name. */
export default fp(
  async (app) => {
    const { publicBaseUrl } = app.config.http
    // The demo tenant when the development seed made one, which the printed token's account owns.
    const tenant = exampleTenant(app.config.devSeed)
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Delivr integrations',
          version: '1.0.0',
          description: "A tenant's connections to source control, stores, CI/CD, Slack, Jira and test management. Secrets are write-only.",
        },
        ...(publicBaseUrl ? { servers: [{ url: publicBaseUrl, description: 'This deployment' }] } : {}),
        components: {
          securitySchemes: { [BEARER]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        // Every operation needs a token unless it says `security: []` (health).
        security: [{ [BEARER]: [] }],
        tags: [
          ...KINDS.map((k) => ({ name: k.segment, description: `${k.title} integrations` })),
          { name: 'catalog', description: 'Providers and a tenant-wide summary' },
          { name: 'audit', description: "A tenant's audit trail: who changed, verified, read or minted what" },
          { name: 'health', description: 'Liveness and readiness' },
        ],
      },
      // A prefixed '/' route answers with and without the slash; document the contract's form.
      transform: ({ schema, url }) => ({ schema, url: url.length > 1 ? url.replace(/\/$/, '') : url }),
      // The validator's discriminator takes no mapping; the published document needs one so
      // generated clients type the provider field as 'GITHUB', not as a component name.
      transformObject: (document) =>
        withOptionalBodies(
          withExplorerExamples(
            withErrorExamples(withDiscriminatorMappings('openapiObject' in document ? document.openapiObject : document.swaggerObject)),
            tenant,
          ),
        ),
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    })
    await app.register(swaggerUi, { routePrefix: DOCUMENTATION_PREFIX })
  },
  { name: 'swagger', dependencies: ['config'] },
)
