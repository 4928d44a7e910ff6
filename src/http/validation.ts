import type { ErrorObject, ValidateFunction } from 'ajv'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { TSchema } from '@sinclair/typebox'
import { firstIllFormedString, patternPhrase } from './patterns.js'

// Standard formats only (ajv-formats): the published document must not need a format of ours.
const FORMAT_TEXT: Record<string, string> = {
  uuid: 'a UUID',
  uri: 'an absolute URL',
  'date-time': 'an RFC 3339 date-time',
  email: 'an email address',
}

function createAjv(coerce: boolean, schemas: readonly TSchema[]) {
  const ajv = new Ajv({
    // Bodies are taken as sent: "true" is not a boolean, 12 is not a name.
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    // Unknown fields are refused with 400, never silently dropped.
    removeAdditional: false,
    allErrors: false,
    discriminator: true,
    strict: false,
    // Checking every shared schema against the meta-schema, twice, was most of building the validators
    // at start-up; test/http/validation.test.ts checks them once, where a broken schema belongs.
    validateSchema: false,
  })
  addFormats.default(ajv)
  for (const schema of schemas) ajv.addSchema(schema)
  return ajv
}

/**
 * Two validators: request bodies without type coercion, query strings and params with
 * it (they arrive as text). Shared schemas are known to both. Each is compiled the first
 * time its route is called, not at start-up (see lazily).
 */
export function createValidatorCompiler(schemas: readonly TSchema[]) {
  const strict = createAjv(false, schemas)
  const coercing = createAjv(true, schemas)
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    httpPart === 'body' ? lazily(() => wellFormed(strict.compile(schema))) : lazily(() => coercing.compile(schema))
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

/**
 * A validator compiled on its first call. Compiling every route's schemas at start-up was a quarter
 * of a second of the start, for routes a process may never serve.
 */
function lazily(compile: () => Validate): Validate {
  let validate: Validate | undefined
  const check = (data: unknown): boolean => {
    validate ??= compile()
    const valid = validate(data)
    check.errors = validate.errors
    return valid
  }
  check.errors = null as ErrorObject[] | null | undefined
  return check
}

/** A body validator that also refuses strings no database could store as sent (see firstIllFormedString). */
function wellFormed(validate: ValidateFunction) {
  const check = (data: unknown): boolean => {
    // No body, or an empty one sent as JSON (see parseJsonAllowingEmpty): Fastify hands the validator null for
    // it (a JSON `null` body reads the same). Refused where the route needs a body; a schema that takes null
    // makes the body optional (see the swagger plugin, which documents it so).
    if (data === undefined || data === null) {
      const optional = validate(null)
      check.errors = optional ? null : [missingBody]
      return optional
    }
    if (!validate(data)) {
      check.errors = validate.errors
      return false
    }
    const at = firstIllFormedString(data)
    check.errors = at === undefined ? null : [illFormed(at)]
    return at === undefined
  }
  check.errors = null as ErrorObject[] | null | undefined
  return check
}

const missingBody: ErrorObject = { keyword: 'required', instancePath: '', schemaPath: '#', params: {}, message: 'is required' }

const illFormed = (instancePath: string): ErrorObject => ({
  keyword: 'wellFormed',
  instancePath,
  schemaPath: '#',
  params: {},
  message: 'is not valid Unicode text (it holds an unpaired surrogate)',
})

/**
 * One message naming the field at fault, in the `body/field problem` form. `discriminators`
 * lists the values each discriminating property takes (e.g. scmType → GITHUB, GITLAB, …).
 */
export function createSchemaErrorFormatter(discriminators: ReadonlyMap<string, readonly string[]>) {
  return (errors: ErrorObject[], dataVar: string): Error => {
    const e = errors[0]
    if (!e) return new Error(`${dataVar} is invalid`)
    const at = `${dataVar}${e.instancePath}`
    const params = e.params as Record<string, unknown>
    let message: string
    switch (e.keyword) {
      case 'required':
        message = typeof params.missingProperty === 'string' ? `${at}/${params.missingProperty} is required` : `${at} is required`
        break
      case 'additionalProperties':
        // A query parameter's name is the caller's text as much as its value: not quoted back.
        message =
          dataVar === 'querystring'
            ? `${at} has a parameter this route does not take`
            : `${at}/${String(params.additionalProperty)} is not a known field`
        break
      case 'discriminator': {
        const tag = String(params.tag)
        const known = discriminators.get(tag) ?? []
        // A known provider the union has no branch for: one whose request takes no options (an access-token body).
        message = known.includes(params.tagValue as string)
          ? `${at}/${tag} ${String(params.tagValue)} takes no options here: send no body`
          : `${at}/${tag} must be one of ${known.join(', ')}`
        break
      }
      case 'pattern': {
        const phrase = patternPhrase(String(params.pattern))
        message = phrase ? `${at} ${phrase}` : `${at} ${e.message ?? 'is invalid'}`
        break
      }
      case 'format':
        message = `${at} must be ${FORMAT_TEXT[String(params.format)] ?? `in ${String(params.format)} format`}`
        break
      case 'enum':
        message = `${at} must be one of ${(params.allowedValues as unknown[]).join(', ')}`
        break
      case 'anyOf':
      case 'oneOf':
        message = `${at} is not one of the allowed shapes`
        break
      case 'const':
        message = `${at} must be ${JSON.stringify(params.allowedValue)}`
        break
      case 'minProperties':
        message = `${at} must set at least ${String(params.limit)} field${params.limit === 1 ? '' : 's'}`
        break
      default:
        message = `${at} ${e.message ?? 'is invalid'}`
    }
    return new Error(message)
  }
}
