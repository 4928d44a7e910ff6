import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Caller, ListQuery } from './service.js'
import { identifiedByProvider, shortLivedConnections, withArticle, type FieldValues, type KindDefinition } from '../kinds/define/kind.js'
import { AccessTokenSchema, kindSchemas } from './schemas.js'
import { VerificationResultSchema } from '../verification/result-schema.js'
import { errorResponses, IdParamsSchema, ref, withHeaders } from '../http/common-schemas.js'

const VerifyQuery = Type.Object(
  {
    verify: Type.Optional(
      Type.Boolean({ default: false, description: 'Verify with the provider first; 422 and nothing stored unless VALID' }),
    ),
  },
  { additionalProperties: false },
)

const caller = (request: FastifyRequest): Caller => ({ principal: request.principal, requestId: request.id })

/** The HTTP contract of one integration kind: the same routes, schemas and rules for every kind. */
export function kindRoutes(kind: KindDefinition): FastifyPluginAsyncTypebox {
  const s = kindSchemas(kind)
  const noun = `${kind.title} integration`
  const aNoun = withArticle(noun)

  return async (app) => {
    const service = app.integrationServices.get(kind.segment)!
    // Provider calls reach third parties: each one counts against the caller's one budget, whichever route makes it.
    const admit = (request: FastifyRequest, reply: FastifyReply) => () => app.admitProviderCall(request, reply)
    const verifiesChanges = identifiedByProvider(kind)
    const route = { tags: [kind.segment] }
    const config = { kind: kind.segment, database: true }
    // The routes that may ask a provider: they draw on the caller's budget and carry the x-ratelimit headers.
    const asksProvider = { ...config, callsProvider: true }
    const minters = shortLivedConnections(kind)
    const mintsAtProvider = minters.some((m) => m.callsProvider)

    app.get(
      '/',
      {
        config,
        schema: {
          ...route,
          operationId: `list${kind.name}Integrations`,
          summary: `List a tenant's ${noun}s`,
          description: 'Ordered by creation; filter by provider, active flag or verification status; page with `cursor`.',
          querystring: s.ListQuery,
          response: { 200: ref(s.Page, 'One page of integrations, oldest first'), ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      (request) => service.list(caller(request), request.query as ListQuery),
    )

    app.post(
      '/',
      {
        config: asksProvider,
        schema: {
          ...route,
          operationId: `create${kind.name}Integration`,
          summary: `Create ${aNoun}`,
          description:
            "Owner of the tenant only. Secrets are encrypted at rest and never returned. A create that asks the provider (`verify=true`, or a provider that always verifies on create) counts against the caller's rate limit (429); a duplicate is refused (409) before the provider is asked.",
          querystring: VerifyQuery,
          body: ref(s.CreateRequest),
          response: {
            201: withHeaders(ref(s.Integration, 'Created; Location names it'), 'location'),
            ...errorResponses(400, 401, 403, 404, 409, 422, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const created = await service.create(caller(request), request.body, { ...request.query, admit: admit(request, reply) })
        return reply
          .code(201)
          .header('location', `${request.url.replace(/\/?(\?.*)?$/, '')}/${String(created.id)}`)
          .send(created)
      },
    )

    app.get(
      '/:id',
      {
        config,
        schema: {
          ...route,
          operationId: `get${kind.name}Integration`,
          summary: `Get ${aNoun}`,
          description: 'Any role in the tenant, or a service token with `integrations:read`. Secrets show as `has…` and a fingerprint.',
          params: IdParamsSchema,
          response: { 200: ref(s.Integration, 'The integration'), ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      (request) => service.get(caller(request), request.params.id),
    )

    app.patch(
      '/:id',
      {
        config: verifiesChanges ? asksProvider : config,
        schema: {
          ...route,
          operationId: `update${kind.name}Integration`,
          summary: `Change ${aNoun}`,
          description: `Owner only. Changing what verification depends on resets the status to PENDING${
            verifiesChanges
              ? ' (for a provider that always verifies on create, verifies instead: 422 and no change unless VALID, 429 beyond the rate limit)'
              : ''
          }. Moving to another host needs the secret re-entered in the same request (422 otherwise).`,
          params: IdParamsSchema,
          body: ref(s.UpdateRequest),
          response: {
            200: ref(s.Integration, 'The integration'),
            ...errorResponses(400, 401, 403, 404, 409, 422, ...(verifiesChanges ? [429] : []), 503),
          },
        },
      },
      (request, reply) => service.update(caller(request), request.params.id, request.body, { admit: admit(request, reply) }),
    )

    app.put(
      '/:id/credentials',
      {
        config: asksProvider,
        schema: {
          ...route,
          operationId: `replace${kind.name}Credentials`,
          summary: `Replace the secrets of ${aNoun}`,
          description:
            'Owner only. Resets the verification status to PENDING, or with `verify=true` (always, for a provider that always verifies on create) records VALID (422 and no change otherwise; 409 VERIFICATION_STALE and no change when the integration changed while the provider was asked).',
          params: IdParamsSchema,
          querystring: VerifyQuery,
          body: ref(s.CredentialsUpdate),
          response: { 200: ref(s.Integration, 'The integration'), ...errorResponses(400, 401, 403, 404, 409, 422, 429, 503) },
        },
      },
      (request, reply) =>
        service.replaceCredentials(caller(request), request.params.id, request.body, { ...request.query, admit: admit(request, reply) }),
    )

    app.post(
      '/verify',
      {
        config: asksProvider,
        schema: {
          ...route,
          operationId: `verify${kind.name}Draft`,
          summary: `Check ${kind.title} credentials without storing anything`,
          description:
            'Owner of the tenant in the body. 200 with the verdict (VALID, INVALID or EXPIRED); 503 when the provider cannot answer.',
          body: ref(s.CreateRequest),
          response: {
            200: ref(VerificationResultSchema, 'The verdict; nothing was stored'),
            ...errorResponses(400, 401, 403, 404, 422, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const result = await service.verifyDraft(caller(request), request.body, { admit: admit(request, reply) })
        request.log.info(
          { kind: kind.segment, provider: request.body[kind.providerField], verdict: result.verdict, stored: false },
          'verification',
        )
        return result
      },
    )

    app.post(
      '/:id/verify',
      {
        config: asksProvider,
        schema: {
          ...route,
          operationId: `verify${kind.name}Integration`,
          summary: `Re-verify the stored credentials of ${aNoun}`,
          description:
            'Editor or Owner. Records verificationStatus, lastVerifiedAt, verificationError and credentialExpiresAt. A provider that cannot answer (503) changes nothing; nor does a verdict on an integration changed meanwhile (409 VERIFICATION_STALE) or deleted meanwhile (404).',
          params: IdParamsSchema,
          response: {
            200: ref(s.VerificationOutcome, 'The verdict and the integration as recorded'),
            ...errorResponses(400, 401, 403, 404, 409, 422, 429, 500, 503),
          },
        },
      },
      async (request, reply) => {
        const outcome = await service.verifyStored(caller(request), request.params.id, { admit: admit(request, reply) })
        request.log.info(
          { kind: kind.segment, provider: outcome.integration[kind.providerField], verdict: outcome.result.verdict, stored: true },
          'verification',
        )
        return outcome
      },
    )

    app.get(
      '/:id/credentials',
      {
        config,
        schema: {
          ...route,
          operationId: `get${kind.name}Credentials`,
          summary: `Read the decrypted secrets of ${aNoun}`,
          description: 'Service tokens with the `integrations:credentials:read` scope only.',
          params: IdParamsSchema,
          response: {
            200: withHeaders(ref(s.Credentials, 'The decrypted secrets'), 'cache-control'),
            ...errorResponses(400, 401, 403, 404, 500, 503),
          },
        },
      },
      async (request, reply) => {
        reply.cacheControl('no-store')
        return service.readCredentials(caller(request), request.params.id)
      },
    )

    app.post(
      '/:id/access-token',
      {
        config: mintsAtProvider ? asksProvider : config,
        schema: {
          ...route,
          operationId: `issue${kind.name}AccessToken`,
          summary: `Get a token to act with ${aNoun}`,
          description: `Service tokens with the \`integrations:credentials:read\` scope only. ${
            minters.length > 0
              ? `${minters.map((p) => p.label).join(' and ')}: a short-lived token minted from the stored key (shortLived), cached until shortly before it expires; the key never leaves the service. A key the provider refuses answers 422 and makes the integration INVALID; a provider that cannot answer, 503 with Retry-After. ${
                  mintsAtProvider
                    ? "Only a token that has to be asked of the provider (not a cached one) counts against the caller's rate limit (429). "
                    : ''
                }Other providers: the stored secret (shortLived false).`
              : 'The stored secret as it is (shortLived false), with its expiry as verification learned it.'
          } No body, \`{}\` or null take the provider's defaults.`,
          params: IdParamsSchema,
          body: s.AccessTokenBody,
          response: {
            200: withHeaders(ref(AccessTokenSchema, 'The token, and how to send it'), 'cache-control'),
            ...errorResponses(400, 401, 403, 404, ...(minters.length > 0 ? [409, 422] : []), 500, 503),
          },
        },
      },
      async (request, reply) => {
        reply.cacheControl('no-store')
        const body = (request.body ?? null) as FieldValues | null
        return service.issueAccessToken(caller(request), request.params.id, body, { admit: admit(request, reply) })
      },
    )

    app.delete(
      '/:id',
      {
        config,
        schema: {
          ...route,
          operationId: `delete${kind.name}Integration`,
          summary: `Delete ${aNoun}`,
          description: 'Owner only. The stored secrets go with it.',
          params: IdParamsSchema,
          response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request, reply) => {
        await service.remove(caller(request), request.params.id)
        return reply.code(204).send(null)
      },
    )
  }
}
