import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, ref } from '../../../../src/http/common-schemas.js'
import { AuditEventPageSchema, auditEvents, auditQuerySchema } from '../../../../src/integrations/audit-events.js'
import {
  providerCatalog,
  ProviderCatalogSchema,
  SummaryQuerySchema,
  summarySchema,
  tenantSummary,
} from '../../../../src/integrations/catalog.js'
import { KINDS } from '../../../../src/kinds/index.js'

// Routes across kinds live here; each folder beside this file is one kind's.
const catalog = providerCatalog(KINDS)
const SummarySchema = summarySchema(KINDS)
const AuditQuerySchema = auditQuerySchema(KINDS)

const integrations: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/providers',
    {
      schema: {
        tags: ['catalog'],
        operationId: 'listProviders',
        summary: 'Every integration kind and provider, with its fields (JSON Schema), which are secret, and what verification checks',
        description: 'Any valid token. The same for every caller: build forms and validate input from it.',
        response: { 200: ref(ProviderCatalogSchema), ...errorResponses(401) },
      },
    },
    async () => catalog,
  )

  app.get(
    '/',
    {
      config: { database: true },
      schema: {
        tags: ['catalog'],
        operationId: 'getTenantIntegrations',
        summary: "A tenant's integrations across every kind: provider, name, status and last verification",
        description:
          'Any role in the tenant, or a service token with `integrations:read`. Up to `limit` integrations of each kind, oldest first; ' +
          'where a kind has more, `nextCursors` holds the cursor its list (`GET /api/v1/integrations/{kind}?tenantId=&cursor=`) continues from.',
        querystring: SummaryQuerySchema,
        response: { 200: ref(SummarySchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    (request) => tenantSummary(app.db, KINDS, request.principal, request.query.tenantId, request.query.limit),
  )

  app.get(
    '/audit-events',
    {
      config: { database: true },
      schema: {
        tags: ['audit'],
        operationId: 'listAuditEvents',
        summary: "A tenant's audit trail: who created, changed, rotated, deleted, verified, read or minted what, and when",
        description:
          'Owner or Editor of the tenant, or a service token with `integrations:read`. Oldest first; page with `cursor`. Events name the fields changed and show secret fingerprints before and after, never a secret.',
        querystring: AuditQuerySchema,
        response: { 200: ref(AuditEventPageSchema, 'One page of audit events, oldest first'), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    (request) => auditEvents(app.db, request.principal, request.query),
  )
}

export default integrations
