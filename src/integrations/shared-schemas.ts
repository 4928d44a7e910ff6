import type { TSchema } from '@sinclair/typebox'
import type { KindDefinition } from '../kinds/define/kind.js'
import { AccessTokenDefaultsSchema, AccessTokenSchema, kindSchemas } from './schemas.js'
import { ProviderCatalogSchema, summarySchema } from './catalog.js'
import { VerificationResultSchema } from '../verification/result-schema.js'
import { ErrorResponseSchema } from '../http/common-schemas.js'
import { AuditEventPageSchema, AuditEventSchema } from './audit-events.js'

/** Every schema with an `$id`: registered once, named as an OpenAPI component. */
export function sharedSchemas(kinds: readonly KindDefinition[]): TSchema[] {
  return [
    ErrorResponseSchema,
    VerificationResultSchema,
    ProviderCatalogSchema,
    summarySchema(kinds),
    AccessTokenSchema,
    AccessTokenDefaultsSchema,
    AuditEventSchema,
    AuditEventPageSchema,
    ...kinds.flatMap((k) => kindSchemas(k).shared),
  ]
}
