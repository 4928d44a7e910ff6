import fp from 'fastify-plugin'
import { sharedSchemas } from '../src/integrations/shared-schemas.js'
import { createSchemaErrorFormatter, createValidatorCompiler } from '../src/http/validation.js'
import { KINDS } from '../src/kinds/index.js'

/** Shared schemas, the request validators and the one validation-error format. */
export default fp(
  async (app) => {
    const schemas = sharedSchemas(KINDS)
    for (const schema of schemas) app.addSchema(schema)
    app.setValidatorCompiler(createValidatorCompiler(schemas))
    app.setSchemaErrorFormatter(createSchemaErrorFormatter(new Map(KINDS.map((k) => [k.providerField, k.providers.map((p) => p.id)]))))
  },
  { name: 'schemas' },
)
