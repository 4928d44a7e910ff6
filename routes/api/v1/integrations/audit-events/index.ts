import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, ref } from '../../../../../src/http/common-schemas.js'
import { AuditEventPageSchema, auditEvents, auditQuerySchema } from '../../../../../src/integrations/audit-events.js'
import { KINDS } from '../../../../../src/kinds/index.js'

const AuditQuerySchema = auditQuerySchema(KINDS)

const auditTrail: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
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

export default auditTrail
