import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { test } from 'tap'
import { createValidatorCompiler } from '../../src/http/validation.js'
import { sharedSchemas } from '../../src/integrations/shared-schemas.js'
import { KINDS } from '../../src/kinds/index.js'

// The service's validators skip the meta-schema check to start faster: it is made here instead.
void test('every shared schema is a valid JSON Schema', async (t) => {
  const ajv = new Ajv({ strict: false, discriminator: true })
  addFormats.default(ajv)
  for (const schema of sharedSchemas(KINDS)) {
    t.ok(ajv.validateSchema(schema), `${String(schema.$id)} ${ajv.errorsText(ajv.errors)}`)
  }
})

void test('a validator compiled on first use refuses and accepts as the schema says, with its errors', async (t) => {
  const compile = createValidatorCompiler(sharedSchemas(KINDS))
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false }
  const body = compile({ schema, httpPart: 'body' })
  t.equal(body({ n: 1 }), true)
  t.equal(body.errors, null)
  t.equal(body({ n: '1' }), false, 'a body is not coerced')
  t.equal(body.errors?.[0]?.instancePath, '/n')
  t.equal(body({ n: 2 }), true, 'the errors of a refusal do not stick to the next call')
  t.equal(body.errors, null)
  const query = compile({ schema, httpPart: 'querystring' })
  const input = { n: '3' }
  t.equal(query(input), true, 'a query string is coerced')
  t.same(input, { n: 3 })
})
