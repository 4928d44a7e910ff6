import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { startApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/databases.js'
import { KINDS } from '../../src/kinds/index.js'
import { connectionsOf, requiredSecrets, secretFields } from '../../src/kinds/define/kind.js'
import { DEMO } from '../../src/db/dev-seed.js'
import { EXAMPLE_TENANT_ID } from '../../src/integrations/examples.js'
import { mintToken } from '../../src/auth/tokens.js'
import { filledExample, SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'

type Json = Record<string, any>

const ERROR_REF = '#/components/schemas/ErrorResponse'
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
const SECRET_NAMES = new Set(KINDS.flatMap(secretFields))

interface Operation {
  method: string
  path: string
  op: Json
}

function operations(doc: Json): Operation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
  )
}

function resolve(doc: Json, schema: Json): Json {
  if (typeof schema.$ref !== 'string') return schema
  const name = schema.$ref.replace('#/components/schemas/', '')
  const found = doc.components.schemas[name]
  if (!found) throw new Error(`dangling $ref ${schema.$ref}`)
  return found
}

/** Every property name a schema declares (following $refs), with the path it sits at; example objects included. */
function declaredProperties(doc: Json, schema: unknown, at = '', seen = new Set<unknown>()): string[] {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return []
  seen.add(schema)
  const s = resolve(doc, schema)
  const found: string[] = []
  for (const [name, sub] of Object.entries((s.properties ?? {}) as Json)) {
    found.push(`${at}${name}`, ...declaredProperties(doc, sub, `${at}${name}.`, seen))
  }
  for (const key of ['items', 'additionalProperties', 'not', 'then', 'else', 'if']) {
    found.push(...declaredProperties(doc, s[key], at, seen))
  }
  for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems']) {
    for (const sub of (s[key] ?? []) as unknown[]) found.push(...declaredProperties(doc, sub, at, seen))
  }
  const examples = [s.example, ...(Array.isArray(s.examples) ? s.examples : [])]
  for (const example of examples) found.push(...exampleKeys(example, at))
  return found
}

function exampleKeys(value: unknown, at: string): string[] {
  if (!value || typeof value !== 'object') return []
  if (Array.isArray(value)) return value.flatMap((v) => exampleKeys(v, at))
  return Object.entries(value).flatMap(([k, v]) => [`${at}${k}`, ...exampleKeys(v, `${at}${k}.`)])
}

const leaf = (path: string) => path.split('.').pop()!

const isCreate = (o: Operation) => o.method === 'post' && /^create/.test(o.op.operationId)
const isCredentialsRead = (o: Operation) => o.method === 'get' && o.path.endsWith('/credentials')
const isVerify = (o: Operation) => o.method === 'post' && o.path.endsWith('/verify')
const isStoredVerify = (o: Operation) => isVerify(o) && o.path.endsWith('/{id}/verify')
const isAccessToken = (o: Operation) => o.method === 'post' && o.path.endsWith('/{id}/access-token')
const kindOf = (o: Operation) => KINDS.find((k) => o.path.startsWith(`/api/v1/integrations/${k.segment}/`))
/** A token route whose kind has a provider that mints by asking the provider (not only signing here): rate limited. */
const mintsAtProvider = (o: Operation) => isAccessToken(o) && (kindOf(o)?.providers.some((p) => p.mint?.callsProvider) ?? false)
const callsProvider = (o: Operation) => isVerify(o) || mintsAtProvider(o)
const RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

function successCode(o: Operation): string {
  if (o.method === 'delete') return '204'
  return isCreate(o) ? '201' : '200'
}

t.test('OpenAPI document', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const { app } = await startApp(t, db)
  const res = await app.inject({ url: '/documentation/json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /application\/json/)
  const doc = res.json<Json>()
  const ops = operations(doc)
  const api = ops.filter((o) => o.path.startsWith('/api/v1/'))

  t.test('is a valid OpenAPI 3.1 document', async (t) => {
    const result = await new Validator().validate(doc)
    t.ok(result.valid, 'document validates against the OpenAPI schema', { errors: result.errors })
    t.match(doc.openapi, /^3\.1\.\d+$/)
  })

  t.test('documents the contract paths without trailing slashes', async (t) => {
    for (const path of ['/api/v1/integrations/scm', '/api/v1/integrations/scm/{id}', '/api/v1/integrations/scm/{id}/credentials']) {
      t.ok(doc.paths[path], `documents ${path}`)
    }
    t.same(
      Object.keys(doc.paths).filter((p) => p.length > 1 && p.endsWith('/')),
      [],
    )
    t.ok(doc.paths['/api/v1/integrations/scm'].post, 'create is documented')
    t.ok(doc.paths['/api/v1/integrations/scm/{id}'].delete, 'delete is documented')
  })

  t.test('declares bearer authentication', async (t) => {
    t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  })

  // OpenAPI: an operation's own `security` wins; without one, the document's applies.
  const effectiveSecurity = (op: Json): unknown => op.security ?? doc.security

  t.test('security is declared once, for the whole document', async (t) => {
    t.same(doc.security, [{ bearerAuth: [] }])
  })

  t.test('every /api/v1 operation requires the bearer token', async (t) => {
    t.ok(api.length >= 7, 'the SCM routes are documented')
    for (const o of api) t.same(effectiveSecurity(o.op), [{ bearerAuth: [] }], `${o.method} ${o.path}`)
  })

  t.test('the health endpoints need no token', async (t) => {
    for (const path of ['/health/live', '/health/ready']) {
      t.ok(doc.paths[path]?.get, `documents ${path}`)
      t.same(doc.paths[path].get.security, [], `${path} opts out of the document's security`)
    }
  })

  t.test('every operation has a unique operationId, a summary and declared tags', async (t) => {
    const declaredTags = new Set((doc.tags as Json[]).map((tag) => tag.name))
    const ids = ops.map((o) => o.op.operationId)
    t.same(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      [],
      'no operationId repeats',
    )
    for (const o of ops) {
      const name = `${o.method} ${o.path}`
      t.match(o.op.operationId, /^[a-z][A-Za-z]+$/, `${name} operationId`)
      t.ok(typeof o.op.summary === 'string' && o.op.summary.length > 0, `${name} summary`)
      t.notMatch(o.op.summary, /\ba [aeiou]/i, `${name} summary: "an" before a vowel`)
      t.ok(Array.isArray(o.op.tags) && o.op.tags.length > 0, `${name} tags`)
      for (const tag of o.op.tags ?? []) t.ok(declaredTags.has(tag), `${name} tag ${tag} is declared`)
    }
  })

  t.test('every /api/v1 operation documents each status it can answer', async (t) => {
    for (const o of api) {
      const name = `${o.method} ${o.path}`
      const codes = Object.keys(o.op.responses)
      const takesInput = (o.op.parameters?.length ?? 0) > 0 || o.op.requestBody !== undefined
      const expected = [successCode(o), '401']
      if (takesInput) expected.push('400', '404', '503')
      if (o.method !== 'get') expected.push('403')
      if (isCreate(o)) expected.push('409')
      if (o.method === 'patch') expected.push('409', '422')
      if (isCredentialsRead(o) || isStoredVerify(o) || isAccessToken(o)) expected.push('403', '500')
      if (isAccessToken(o) && kindOf(o)?.providers.some((p) => p.mint)) expected.push('409', '422')
      // What the layers around the handler answer: load shedding, the body parser, the router, the rate limit.
      expected.push('503')
      if (o.method !== 'get') expected.push('413', '415')
      if (o.path.includes('{id}')) expected.push('414')
      if (callsProvider(o)) expected.push('429')
      for (const code of expected) t.ok(codes.includes(code), `${name} documents ${code}`)
      t.same(
        codes.filter((c) => c.startsWith('2')),
        [successCode(o)],
        `${name} has exactly one success code`,
      )
      for (const code of codes.filter((c) => Number(c) >= 400)) {
        t.equal(o.op.responses[code].content?.['application/json']?.schema?.$ref, ERROR_REF, `${name} ${code} is an ErrorResponse`)
      }
    }
  })

  t.test('every operation has a description', async (t) => {
    for (const o of ops) t.ok(typeof o.op.description === 'string' && o.op.description.length > 0, `${o.method} ${o.path}`)
  })

  t.test('every response documents the headers clients rely on', async (t) => {
    for (const o of ops) {
      for (const [code, response] of Object.entries(o.op.responses as Json)) {
        const name = `${o.method} ${o.path} ${code}`
        const headers = Object.keys(response.headers ?? {})
        t.ok(headers.includes('x-request-id'), `${name}: x-request-id`)
        if (code === '429' || code === '503') t.ok(headers.includes('retry-after'), `${name}: retry-after`)
        if (callsProvider(o) && (code === '429' || code === '200')) {
          for (const header of RATE_LIMIT_HEADERS) t.ok(headers.includes(header), `${name}: ${header}`)
        }
        if (isCreate(o) && code === '201') t.ok(headers.includes('location'), `${name}: location`)
        if ((isCredentialsRead(o) || isAccessToken(o)) && code === '200') {
          t.same(response.headers['cache-control'].schema.enum, ['no-store'], `${name}: no-store`)
        }
      }
    }
  })

  t.test('each error response has an example of its own status', async (t) => {
    for (const o of ops) {
      for (const [code, response] of Object.entries(o.op.responses as Json)) {
        const media = response.content?.['application/json']
        if (Number(code) < 400 || media?.schema?.$ref !== ERROR_REF) continue
        t.match(media.example, { statusCode: Number(code), error: String, message: String }, `${o.method} ${o.path} ${code}`)
      }
    }
  })

  t.test('a response field is nullable exactly where its column allows NULL', async (t) => {
    const nullable = (schema: Json) => (schema.anyOf as Json[] | undefined)?.some((s) => s.type === 'null') ?? false
    for (const kind of KINDS) {
      const properties = doc.components.schemas[`${kind.name}Integration`].properties as Json
      for (const [field, spec] of Object.entries(kind.fields).filter(([, f]) => !f.secret && !f.internal)) {
        t.equal(nullable(properties[field]), spec.column.allowNull, `${kind.name}Integration.${field}`)
      }
    }
    t.equal(doc.components.schemas.ScmIntegration.properties.repositoryUrl.type, 'string', 'repositoryUrl (NOT NULL) is a plain string')
  })

  t.test('without PUBLIC_BASE_URL there is no servers entry', async (t) => {
    t.equal(doc.servers, undefined)
  })

  t.test('names the shared schemas as components', async (t) => {
    const names = Object.keys(doc.components.schemas)
    for (const name of [
      'ErrorResponse',
      'ScmIntegration',
      'ScmCreateRequest',
      'ScmGithubCreateRequest',
      'ScmGitlabCreateRequest',
      'ScmBitbucketCreateRequest',
      'ScmUpdateRequest',
      'ScmIntegrationPage',
    ]) {
      t.ok(names.includes(name), `components.schemas.${name}`)
    }
    t.notOk(
      names.some((n) => /^def-\d+$/.test(n)),
      'no anonymous def-N components',
    )
    t.match(doc.components.schemas.ErrorResponse, {
      type: 'object',
      required: ['statusCode', 'error', 'message'],
      properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } },
    })
    const scm = doc.paths['/api/v1/integrations/scm']
    t.equal(scm.get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/ScmIntegrationPage')
    t.equal(scm.post.responses['201'].content['application/json'].schema.$ref, '#/components/schemas/ScmIntegration')
    t.equal(
      doc.paths['/api/v1/integrations/scm/{id}'].patch.requestBody.content['application/json'].schema.$ref,
      '#/components/schemas/ScmUpdateRequest',
    )
    t.equal(doc.components.schemas.ScmIntegrationPage.properties.items.items.$ref, '#/components/schemas/ScmIntegration')
  })

  t.test('the create body is a oneOf over providers, discriminated by scmType', async (t) => {
    const body = doc.paths['/api/v1/integrations/scm'].post.requestBody
    t.equal(body.required, true)
    t.equal(body.content['application/json'].schema.$ref, '#/components/schemas/ScmCreateRequest')
    const create = doc.components.schemas.ScmCreateRequest
    t.same(create.discriminator, {
      propertyName: 'scmType',
      mapping: {
        GITHUB: '#/components/schemas/ScmGithubCreateRequest',
        GITLAB: '#/components/schemas/ScmGitlabCreateRequest',
        BITBUCKET: '#/components/schemas/ScmBitbucketCreateRequest',
      },
    })
    t.same(
      (create.oneOf as Json[]).map((s) => s.$ref),
      ['GitHub', 'GitLab', 'Bitbucket'].map((p) => `#/components/schemas/Scm${p[0]}${p.slice(1).toLowerCase()}CreateRequest`),
    )
    const tags = (create.oneOf as Json[]).map((branch) => {
      const s = resolve(doc, branch)
      t.equal(s.additionalProperties, false, `${branch.$ref} is closed`)
      t.ok(s.required.includes('scmType') && s.required.includes('tenantId'), `${branch.$ref} requires scmType and tenantId`)
      return s.properties.scmType.const ?? s.properties.scmType.enum?.[0]
    })
    t.same(tags, ['GITHUB', 'GITLAB', 'BITBUCKET'])
  })

  t.test('each provider branch of a create body has a title naming the provider', async (t) => {
    for (const kind of KINDS) {
      const branches = (doc.components.schemas[`${kind.name}CreateRequest`].oneOf as Json[]).map((b) => resolve(doc, b))
      t.same(
        branches.map((b) => b.properties[kind.providerField].enum),
        kind.providers.map((p) => [p.id]),
      )
      kind.providers.forEach((p, i) => t.match(branches[i]!.title, p.label, `${kind.name} ${p.id}`))
    }
  })

  t.test('every create and draft-verify body offers an example per provider, with placeholders for the secrets', async (t) => {
    for (const kind of KINDS) {
      for (const path of [`/api/v1/integrations/${kind.segment}`, `/api/v1/integrations/${kind.segment}/verify`]) {
        const examples = doc.paths[path].post.requestBody.content['application/json'].examples as Json
        t.same(
          Object.keys(examples),
          kind.providers.map((p) => p.id),
          `${path}: one per provider`,
        )
        for (const provider of kind.providers) {
          const { summary, description, value } = examples[provider.id] as Json
          const name = `${path} ${provider.id}`
          t.equal(summary, provider.label, `${name} is listed by the provider's name`)
          t.match(value, { tenantId: EXAMPLE_TENANT_ID, [kind.providerField]: provider.id, displayName: String }, name)
          for (const field of provider.required) t.ok(field in value, `${name} gives ${field}`)
          // The example connects the default way (the first); the other ways are described in the body schema.
          const secrets = requiredSecrets(kind, provider, connectionsOf(provider)[0]!)
          for (const secret of secrets) {
            t.match(value[secret], /<[^<>]+>/, `${name}: ${secret} reads as a placeholder`)
            t.match(description, `\`${secret}\``, `${name}: the description says to replace ${secret}`)
          }
          t.match(description, 'tenantId', `${name}: the description says to put the tenant in`)
        }
      }
    }
  })

  t.test('every tenantId query parameter shows the example tenant', async (t) => {
    const tenantParameters = ops.flatMap((o) => ((o.op.parameters ?? []) as Json[]).filter((p) => p.name === 'tenantId'))
    t.ok(tenantParameters.length > KINDS.length, 'each list and the summary take one')
    for (const parameter of tenantParameters) t.equal(parameter.example, EXAMPLE_TENANT_ID)
  })

  t.test('no response schema declares a stored secret', async (t) => {
    t.ok(SECRET_NAMES.has('accessToken'), 'the SCM token counts as a secret')
    const integration = doc.components.schemas.ScmIntegration
    t.ok(integration.properties.hasAccessToken, 'ScmIntegration says whether the token is set')
    t.ok(integration.properties.accessTokenFingerprint, 'ScmIntegration carries a fingerprint')
    t.notOk('accessToken' in integration.properties, 'ScmIntegration has no accessToken')

    for (const name of Object.keys(doc.components.schemas).filter((n) => /Integration(Page)?$/.test(n))) {
      const leaked = declaredProperties(doc, doc.components.schemas[name]).filter((p) => SECRET_NAMES.has(leaf(p)))
      t.same(leaked, [], `component ${name}`)
    }

    let credentialReads = 0
    for (const o of ops) {
      for (const [code, response] of Object.entries(o.op.responses as Json)) {
        const schema = response.content?.['application/json']?.schema
        const leaked = declaredProperties(doc, schema).filter((p) => SECRET_NAMES.has(leaf(p)))
        if (isAccessToken(o) && code === '200') {
          // The token a consumer acts with: for a provider without a minter, the stored secret itself.
          t.same(leaked, ['accessToken'], `${o.path} returns the token, and nothing else secret`)
        } else if (isCredentialsRead(o) && code === '200') {
          // The one place a service principal with the credentials scope reads secrets back.
          credentialReads++
          t.ok(leaked.length > 0, `${o.path} returns the credentials`)
          t.same(
            leaked.filter((p) => !p.startsWith('credentials.')),
            [],
            `${o.path} returns secrets only under credentials`,
          )
        } else {
          t.same(leaked, [], `${o.method} ${o.path} ${code}`)
        }
      }
    }
    t.ok(credentialReads >= 1, 'the credentials read is documented')
  })

  t.test('the access-token body is optional for every kind, with options per provider where a minter takes them', async (t) => {
    const tokenOps = ops.filter(isAccessToken)
    t.equal(tokenOps.length, KINDS.length, 'one per kind')
    for (const o of tokenOps) {
      const body = o.op.requestBody
      t.equal(body.required, false, `${o.path}: no body is fine`)
      const branches = (body.content['application/json'].schema.anyOf as Json[]).map((b) => b.$ref ?? b.type)
      t.ok(branches.includes('#/components/schemas/AccessTokenDefaults') && branches.includes('null'), `${o.path}: {} or null`)
    }
    const targets = doc.components.schemas.TargetAccessTokenRequest
    t.same(targets.discriminator, {
      propertyName: 'targetType',
      mapping: { APP_STORE: '#/components/schemas/TargetAppStoreAccessTokenRequest' },
    })
    t.same(doc.components.schemas.TargetAppStoreAccessTokenRequest.required, ['targetType'])
    t.same(
      doc.components.schemas.ScmAccessTokenRequest.discriminator.mapping,
      { GITHUB: '#/components/schemas/ScmGithubAccessTokenRequest' },
      'of source control, GitHub alone takes options (its App connection narrows tokens)',
    )
    t.ok(doc.components.schemas.ScmGithubAccessTokenRequest.properties.permissions, 'GitHub App permissions')
    const pm = KINDS.find((k) => k.segment === 'project-management')!
    t.equal(doc.components.schemas[`${pm.name}AccessTokenRequest`], undefined, 'no provider of project management takes options')
    t.same(doc.components.schemas.AccessToken.required, ['accessToken', 'tokenType', 'expiresAt', 'shortLived', 'grants'])
  })

  t.test('serves the Swagger UI at /documentation', async (t) => {
    let page = await app.inject({ url: '/documentation' })
    if (page.statusCode === 302) {
      const location = String(page.headers.location)
      page = await app.inject({ url: location.startsWith('/') ? location : `/documentation/${location.replace(/^\.\//, '')}` })
    }
    t.equal(page.statusCode, 200)
    t.match(page.headers['content-type'], /^text\/html/)
    t.match(page.body, /swagger-ui/i)
  })
})

t.test("the explorer's examples are accepted as they are once the tenant and the secret are real", async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const doc = (await h.app.inject({ url: '/documentation/json' })).json<Json>()
  for (const kind of KINDS) {
    const url = `/api/v1/integrations/${kind.segment}`
    const examples = doc.paths[url].post.requestBody.content['application/json'].examples as Json
    for (const [provider, { value }] of Object.entries(examples)) {
      const res = await h.app.inject({ method: 'POST', url, headers: owner, payload: filledExample(value, kind.segment, tenantId) })
      t.equal(res.statusCode, 201, `${kind.segment} ${provider}: ${res.body}`)
    }
  }
})

t.test('in development the examples name the demo tenant, so only the secret needs filling in', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const h = await startApp(t, db, { DEV_SEED: 'true' })
  const doc = (await h.app.inject({ url: '/documentation/json' })).json<Json>()
  const url = '/api/v1/integrations/scm'
  t.equal(doc.paths[url].get.parameters.find((p: Json) => p.name === 'tenantId').example, DEMO.tenantId)
  const { value, description } = doc.paths[url].post.requestBody.content['application/json'].examples.GITHUB as Json
  t.equal(value.tenantId, DEMO.tenantId)
  t.match(description, 'the demo tenant')
  const demo = { authorization: `Bearer ${await mintToken(h.app.config.auth, { sub: DEMO.accountId })}` }
  const created = await h.app.inject({ method: 'POST', url, headers: demo, payload: filledExample(value, 'scm') })
  t.equal(created.statusCode, 201, created.body)
  const list = await h.app.inject({ url: `${url}?tenantId=${String(value.tenantId)}`, headers: demo })
  t.same(
    (list.json().items as Json[]).map((i) => i.id),
    [created.json().id],
  )
})

t.test('PUBLIC_BASE_URL is the servers entry', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const { app } = await startApp(t, db, { PUBLIC_BASE_URL: 'https://api.delivr.example/integrations/' })
  const doc = (await app.inject({ url: '/documentation/json' })).json<Json>()
  t.same(doc.servers, [{ url: 'https://api.delivr.example/integrations', description: 'This deployment' }])
  t.same(doc.paths['/health/live'].get.security, [], 'health still needs no token')
})

t.test('the service sends the statuses and headers the document promises', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const h = await startApp(t, db, { BODY_LIMIT_BYTES: '2048', RATE_LIMIT_VERIFY_MAX: '1', GITHUB_API_URL: 'http://127.0.0.1:1' })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const url = '/api/v1/integrations/scm'
  const sample = SAMPLES.find((s) => s.kind === 'scm' && s.provider === 'GITHUB')!

  const created = await app.inject({ method: 'POST', url, headers: owner, payload: sample.body(tenantId) })
  t.equal(created.statusCode, 201)
  t.equal(created.headers.location, `${url}/${created.json().id}`)
  t.ok(created.headers['x-request-id'])
  const id = created.json().id as string

  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:credentials:read')}` }
  const read = await app.inject({ url: `${url}/${id}/credentials`, headers: service })
  t.equal(read.statusCode, 200)
  t.match(read.headers['cache-control'], /no-store/)
  const token = await app.inject({ method: 'POST', url: `${url}/${id}/access-token`, headers: service })
  t.equal(token.statusCode, 200)
  t.match(token.headers['cache-control'], /no-store/)

  const answers: [string, Promise<{ statusCode: number; headers: Record<string, unknown> }>][] = [
    ['413', app.inject({ method: 'POST', url, headers: owner, payload: { ...sample.body(tenantId), displayName: 'x'.repeat(4096) } })],
    ['415', app.inject({ method: 'DELETE', url: `${url}/${id}`, headers: { ...owner, 'content-type': 'text/plain' }, payload: 'x' })],
    ['414', app.inject({ url: `${url}/${'a'.repeat(600)}`, headers: owner })],
  ]
  for (const [status, answer] of answers) {
    const res = await answer
    t.equal(String(res.statusCode), status)
    t.ok(res.headers['x-request-id'], `${status} carries x-request-id`)
  }

  const first = await app.inject({ method: 'POST', url: `${url}/${id}/verify`, headers: owner })
  t.equal(first.statusCode, 503, 'GitHub cannot be reached')
  t.ok(first.headers['retry-after'], '503 retry-after')
  for (const header of RATE_LIMIT_HEADERS) t.ok(first.headers[header] !== undefined, `${header} on a verify answer`)
  const limited = await app.inject({ method: 'POST', url: `${url}/${id}/verify`, headers: owner })
  t.equal(limited.statusCode, 429)
  for (const header of ['retry-after', 'x-request-id', ...RATE_LIMIT_HEADERS]) t.ok(limited.headers[header] !== undefined, `429 ${header}`)
})
