import { STATUS_CODES } from 'node:http'
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

interface ErrorStatus {
  /** What the status means here: the response description. */
  meaning: string
  /** A typical answer, carrying this status. */
  example: { message: string; code: string }
}

const ERRORS: Record<number, ErrorStatus> = {
  400: {
    meaning: 'Invalid input, naming the field; nothing was stored',
    example: { message: 'body/displayName must be one line of text without control characters, not blank', code: 'INVALID_FIELD' },
  },
  401: { meaning: 'No bearer token, or one that is invalid or expired', example: { message: 'Token has expired', code: 'UNAUTHORIZED' } },
  403: {
    meaning: 'Authenticated, but the role or scope does not allow this',
    example: { message: 'This needs the Owner role in the tenant; you are Viewer', code: 'FORBIDDEN' },
  },
  404: { meaning: 'Unknown, or not visible to the caller', example: { message: 'Integration not found', code: 'NOT_FOUND' } },
  409: {
    meaning:
      'DUPLICATE: the same connection already exists in the tenant; VERIFICATION_STALE: the integration changed while the provider was being asked, so nothing was recorded',
    example: { message: 'This tenant already has an integration for this repository', code: 'DUPLICATE' },
  },
  413: {
    meaning: 'The body is larger than BODY_LIMIT_BYTES',
    example: { message: 'Request body is too large', code: 'FST_ERR_CTP_BODY_TOO_LARGE' },
  },
  414: {
    meaning: 'A path segment is longer than any id this service issues',
    example: { message: 'A path segment is longer than any id this service issues', code: 'PATH_TOO_LONG' },
  },
  415: {
    meaning: 'A body that is not application/json',
    example: { message: 'Send the body as JSON with content-type application/json', code: 'UNSUPPORTED_MEDIA_TYPE' },
  },
  422: {
    meaning: 'Well-formed but refused (see code)',
    example: { message: 'Verification answered INVALID: the token was refused. Nothing was stored', code: 'VERIFICATION_FAILED' },
  },
  429: {
    meaning: 'RATE_LIMITED: the caller made too many requests that call a provider; see Retry-After and the x-ratelimit headers',
    example: { message: 'Too many verification calls; retry in 42 seconds', code: 'RATE_LIMITED' },
  },
  500: {
    meaning: 'Stored credentials cannot be decrypted with the configured keys',
    example: { message: 'Stored credentials cannot be decrypted with the configured keys', code: 'CREDENTIAL_UNREADABLE' },
  },
  503: {
    meaning: 'The database or the provider is unavailable, or the service is overloaded; see Retry-After',
    example: { message: 'The database is unavailable; try again shortly', code: 'DATABASE_UNAVAILABLE' },
  },
}

/** Every error status a route can answer, pointing at the one error schema. */
export function errorResponses(...codes: number[]) {
  return Object.fromEntries(codes.map((c) => [c, ref(ErrorResponseSchema, ERRORS[c]?.meaning ?? STATUS_CODES[c])])) as Record<
    number,
    ReturnType<typeof ref<typeof ErrorResponseSchema>>
  >
}

/** A typical error answer of a status, carrying that status: the documented example. */
export function errorExample(code: number): ErrorResponse {
  const example = ERRORS[code]?.example ?? { message: STATUS_CODES[code] ?? 'Error', code: 'ERROR' }
  return { statusCode: code, error: STATUS_CODES[code] ?? 'Error', ...example }
}

/** Response headers, by name, as JSON Schema with a description (see withHeaders). */
export const HEADERS = {
  'x-request-id': Type.String({
    description:
      "The request's id: the gateway's x-request-id when it sent a usable one, else a new UUID. Quote it when reporting a problem",
  }),
  location: Type.String({ description: 'The URL of the integration just created' }),
  'cache-control': Type.String({ enum: ['no-store'], description: 'Never cache: the body holds secrets' }),
  'retry-after': Type.Integer({ minimum: 0, description: 'Seconds to wait before trying again' }),
  'x-ratelimit-limit': Type.Integer({ minimum: 0, description: 'Calls allowed per caller in the current window' }),
  'x-ratelimit-remaining': Type.Integer({ minimum: 0, description: 'Calls left in the current window' }),
  'x-ratelimit-reset': Type.Integer({ minimum: 0, description: 'Seconds until the window resets' }),
}
export type HeaderName = keyof typeof HEADERS

/** A response schema that also documents response headers (@fastify/swagger reads `headers`). */
export function withHeaders<T extends TSchema>(schema: T, ...names: HeaderName[]): T {
  const headers = { ...(schema.headers as Record<string, TSchema> | undefined) }
  for (const name of names) headers[name] = HEADERS[name]
  return { ...schema, headers }
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
