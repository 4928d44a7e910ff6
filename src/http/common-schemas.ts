import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** A string enum as JSON Schema `enum`, so errors can list the allowed values. */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

export const ErrorResponseSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String({ description: 'What went wrong, naming the field when one is at fault' }),
    code: Type.Optional(Type.String({ description: 'Stable machine-readable code' })),
  },
  { $id: 'ErrorResponse', title: 'ErrorResponse' },
)
export type ErrorResponse = Static<typeof ErrorResponseSchema>

/** A reference to a registered schema that keeps its static type (TypeBox 0.34 infers `unknown` otherwise). */
export function ref<T extends TSchema>(schema: T, description?: string) {
  return Type.Unsafe<Static<T>>({ ...Type.Ref(schema.$id!), ...(description ? { description } : {}) })
}

const ERROR_MEANING: Record<number, string> = {
  400: 'Invalid input, naming the field; nothing was stored',
  401: 'No bearer token, or one that is invalid or expired',
  403: 'Authenticated, but the role or scope does not allow this',
  404: 'Unknown, or not visible to the caller',
  409: 'DUPLICATE: the same connection already exists in the tenant; VERIFICATION_STALE: the integration changed while the provider was being asked, so nothing was recorded',
  422: 'Well-formed but refused (see code)',
  429: 'RATE_LIMITED: the caller made too many requests that call a provider; see Retry-After',
  500: 'Stored credentials cannot be decrypted with the configured keys',
  503: 'The database or the provider is unavailable; see Retry-After',
}

/** Every error status a route can answer, pointing at the one error schema. */
export function errorResponses(...codes: number[]) {
  return Object.fromEntries(codes.map((c) => [c, ref(ErrorResponseSchema, ERROR_MEANING[c])])) as Record<
    number,
    ReturnType<typeof ref<typeof ErrorResponseSchema>>
  >
}

export const TenantIdSchema = Type.String({
  minLength: 1,
  maxLength: 36,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'Delivr tenant id',
})

export const IdParamsSchema = Type.Object(
  { id: Type.String({ format: 'uuid', description: 'Integration id' }) },
  { additionalProperties: false },
)
