import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Document, Spectral, type ISpectralDiagnostic } from '@stoplight/spectral-core'
import spectralParsers from '@stoplight/spectral-parsers'
import { oas } from '@stoplight/spectral-rulesets'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { startApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/databases.js'
import { SAMPLES } from '../helpers/samples.js'
import { KINDS } from '../../src/kinds/index.js'
import { patternPhrase } from '../../src/http/patterns.js'
import { tokenOptionsOf } from '../../src/kinds/define/kind.js'

type Json = Record<string, any>

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
const DOC_ID = 'https://delivr.test/openapi.json'
// Warnings that are errors for this service: each operation and parameter explained, examples valid.
const REQUIRED_RULES = ['operation-description', 'oas3-parameter-description', 'oas3-valid-media-example', 'oas3-valid-schema-example']

/** A consumer's strict validator: JSON Schema 2020-12, strict mode, standard formats only, OpenAPI's annotation keywords. */
function strictAjv(doc: Json) {
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats.default(ajv)
  for (const keyword of ['discriminator', 'example', 'xml', 'externalDocs']) ajv.addKeyword(keyword)
  // Component references, as a standalone validator resolves them: one schema holding every component.
  const text = JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', `"${DOC_ID}#/$defs/`)
  ajv.addSchema({ $id: DOC_ID, $defs: JSON.parse(text) as Json })
  return ajv
}

const local = (schema: Json): Json => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${DOC_ID}#/$defs/`)) as Json

t.test('the served OpenAPI document passes third-party tools', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const { app } = await startApp(t, db, { PUBLIC_BASE_URL: 'https://api.delivr.test' })
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await fetch(`${baseUrl}/documentation/json`, { signal: AbortSignal.timeout(10_000) })
  t.equal(res.status, 200)
  const text = await res.text()
  const doc = JSON.parse(text) as Json
  const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ name: `${method} ${path}`, op: item[method] as Json })),
  )

  t.test('is valid OpenAPI 3.1', async (t) => {
    const validator = new Validator()
    const result = await validator.validate(doc)
    t.ok(result.valid, 'valid', { errors: result.errors })
    t.equal(validator.version, '3.1')
  })

  t.test('Spectral (spectral:oas) finds no error', async (t) => {
    const spectral = new Spectral()
    spectral.setRuleset({ extends: [[oas as never, 'recommended']] })
    const results = await spectral.run(new Document(text, spectralParsers.Json, '/documentation/json'))
    t.ok(Object.keys(spectral.ruleset?.rules ?? {}).length > 20, 'the oas rules are loaded')
    const show = (r: ISpectralDiagnostic) => `${r.code} at ${r.path.join('.')}: ${r.message}`
    t.same(results.filter((r) => Number(r.severity) === 0).map(show), [], 'no errors')
    t.same(
      results.filter((r) => REQUIRED_RULES.includes(String(r.code))).map(show),
      [],
      'descriptions everywhere, examples that fit their schemas',
    )
  })

  t.test('a strict standalone ajv compiles every request body and parameter schema', async (t) => {
    const ajv = strictAjv(doc)
    let bodies = 0
    for (const { name, op } of operations) {
      const body = op.requestBody?.content?.['application/json']?.schema as Json | undefined
      if (body) {
        bodies++
        t.doesNotThrow(() => ajv.compile(local(body)), `${name} body`)
      }
      for (const parameter of (op.parameters ?? []) as Json[]) {
        t.doesNotThrow(() => ajv.compile(local(parameter.schema as Json)), `${name} ${parameter.in} ${parameter.name}`)
      }
    }
    t.ok(bodies >= 6 * 4, 'create, verify, change and replace-credentials bodies of every kind')
  })

  t.test("every body example fits its body's schema, and its provider's branch alone", async (t) => {
    const ajv = strictAjv(doc)
    let examples = 0
    for (const { name, op } of operations) {
      const media = op.requestBody?.content?.['application/json'] as Json | undefined
      if (!media?.examples) continue
      const body = ajv.compile(local(media.schema as Json))
      // An optional body (the access-token route's) is `anyOf: [{ $ref }, { type: 'null' }]`.
      const ref = media.schema.$ref ?? (media.schema.anyOf as Json[]).find((branch) => branch.$ref)!.$ref
      const union = doc.components.schemas[String(ref).replace('#/components/schemas/', '')] as Json
      for (const [provider, { value }] of Object.entries(media.examples as Json)) {
        examples++
        t.ok(body(value), `${name} ${provider}`, { errors: body.errors })
        const branches = (union.oneOf as Json[]).filter((branch) => ajv.compile(local(branch))(value))
        t.same(
          branches.map((b) => b.$ref),
          [union.discriminator.mapping[provider]],
          `${name} ${provider}: the discriminator's branch`,
        )
      }
    }
    const withTokenOptions = KINDS.flatMap((k) => k.providers).filter((p) => tokenOptionsOf(p) !== undefined).length
    t.ok(withTokenOptions > 0, 'some provider takes access-token options')
    t.equal(
      examples,
      2 * SAMPLES.length + withTokenOptions,
      'a create and a draft-verify example per provider, an access-token one where it takes options',
    )
  })

  t.test('the published schemas judge create bodies as the service does', async (t) => {
    const ajv = strictAjv(doc)
    for (const sample of SAMPLES) {
      const op = doc.paths[`/api/v1/integrations/${sample.kind}`].post as Json
      const validate = ajv.compile(local(op.requestBody.content['application/json'].schema as Json))
      const body = sample.body('00000000-0000-4000-8000-000000000000')
      const name = `${sample.kind} ${sample.provider}`
      t.ok(validate(body), `${name}: the sample is valid`, { errors: validate.errors })
      t.notOk(validate({ ...body, displayName: 'two\nlines' }), `${name}: a name of two lines is not`)
      const secretSchema = KINDS.find((k) => k.segment === sample.kind)!.fields[sample.secret]!.schema
      if (patternPhrase(String(secretSchema.pattern))?.startsWith('must be a token')) {
        t.notOk(validate({ ...body, [sample.secret]: `${String(body[sample.secret])} x` }), `${name}: a token with a space is not`)
      }
      t.notOk(validate({ ...body, extra: 1 }), `${name}: an unknown field is not`)
    }
  })
})
