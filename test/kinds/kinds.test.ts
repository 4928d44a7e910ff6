import fs from 'node:fs'
import t from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { connectionsOf, handedOutSecret, providerFields, secretFields } from '../../src/kinds/define/kind.js'
import { SAMPLES } from '../helpers/samples.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createTestDatabase } from '../helpers/databases.js'
import { testEnv } from '../helpers/app.js'

const ROUTES = new URL('../../routes/api/v1/integrations/', import.meta.url)

// Every kind in the list is served, documented and tested: adding one means adding all of this.
t.test('every kind has its route folder, its OpenAPI paths, a sample per provider and rules that accept it', async (t) => {
  const db = await createTestDatabase(t, 'sqlite')
  const app = await buildApp({ config: loadConfig(testEnv(t, db)), logger: false })
  t.teardown(() => app.close())
  await app.ready()
  const doc = app.swagger() as { paths: Record<string, Record<string, { operationId?: string }>> }

  t.same(
    fs
      .readdirSync(ROUTES, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort(),
    KINDS.map((k) => k.segment).sort(),
    'one route folder per kind, and no folder without a kind',
  )

  for (const kind of KINDS) {
    t.test(kind.segment, async (t) => {
      const base = `/api/v1/integrations/${kind.segment}`
      const operations: [string, string][] = [
        [base, 'get'],
        [base, 'post'],
        [`${base}/verify`, 'post'],
        [`${base}/{id}`, 'get'],
        [`${base}/{id}`, 'patch'],
        [`${base}/{id}`, 'delete'],
        [`${base}/{id}/credentials`, 'put'],
        [`${base}/{id}/credentials`, 'get'],
        [`${base}/{id}/verify`, 'post'],
        [`${base}/{id}/access-token`, 'post'],
      ]
      for (const [path, method] of operations) t.ok(doc.paths[path]?.[method]?.operationId, `${method.toUpperCase()} ${path} is documented`)

      t.ok(secretFields(kind).length > 0, 'has at least one secret field')
      for (const provider of kind.providers) {
        for (const connection of connectionsOf(provider)) {
          t.ok(
            connection.mint || connection.rotate || handedOutSecret(kind, provider, connection),
            `${provider.id} (${connection.label}) mints tokens or has one secret to hand out`,
          )
        }
      }
      for (const index of kind.indexes) t.equal(index.fields[0], 'tenantId', `${index.name} is led by tenantId`)

      for (const provider of kind.providers) {
        const sample = SAMPLES.find((s) => s.kind === kind.segment && s.provider === provider.id)
        t.ok(sample, `${provider.id} has a test sample`)
        if (!sample) continue
        t.equal(sample.providerField, kind.providerField)
        const body = sample.body('00000000-0000-4000-8000-000000000000')
        for (const field of provider.required) t.ok(field in body, `the ${provider.id} sample sets required ${field}`)
        for (const field of Object.keys(body)) {
          if (field in kind.fields) t.ok(providerFields(provider).includes(field), `${field} applies to ${provider.id}`)
        }
        const plain = Object.fromEntries(Object.entries(body).filter(([f]) => f in kind.fields && !kind.fields[f]!.secret))
        t.doesNotThrow(() => kind.normalize(plain, provider.id), `the ${provider.id} sample passes the kind's field and URL rules`)
      }
    })
  }
})
