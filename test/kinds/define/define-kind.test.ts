import { Type } from '@sinclair/typebox'
import t from 'tap'
import { defineKind, withArticle, type KindDefinition } from '../../../src/kinds/define/kind.js'
import { recordedField, textField, tokenField } from '../../../src/kinds/define/fields.js'

// The misspellings below are compile errors: `npm test` type-checks this file first, and an
// `@ts-expect-error` that no longer finds its error fails the type check.
const fields = {
  hostUrl: textField(Type.String()),
  repo: { ...textField(Type.String()), derivedFrom: 'hostUrl' as const },
  apiToken: tokenField('API token'),
  accountName: recordedField('Account name from verification'),
}

const base = {
  segment: 'example',
  name: 'Example',
  title: 'example',
  tableName: 'tenant_example_integrations',
  providerField: 'exampleType',
  duplicateMessage: 'Already connected',
  normalize: (values: Record<string, unknown>) => values,
} as const

function example(overrides: Partial<Parameters<typeof defineKind>[0]> = {}): KindDefinition {
  return defineKind({
    ...base,
    fields,
    providers: [{ id: 'ACME', label: 'Acme', required: ['hostUrl', 'apiToken'], optional: ['repo'], example: {} }],
    indexes: [
      { name: 'idx_example_tenant', fields: ['tenantId', 'isActive'] },
      { name: 'unique_example', fields: ['tenantId', 'exampleType', 'hostUrl'], unique: true },
    ],
    ...overrides,
  })
}

t.test('a kind whose names all exist compiles and keeps its fields', async (t) => {
  const kind = example()
  t.same(Object.keys(kind.fields), ['hostUrl', 'repo', 'apiToken', 'accountName'])
  t.equal(kind.providerField, 'exampleType')
})

t.test('misspelt field names do not compile', async (t) => {
  defineKind({
    ...base,
    fields,
    // @ts-expect-error `hostURL` is not a field of this kind
    providers: [{ id: 'ACME', label: 'Acme', required: ['hostURL', 'apiToken'], optional: [], example: {} }],
    indexes: [],
  })
  defineKind({
    ...base,
    fields,
    // @ts-expect-error `repository` is not a field of this kind
    providers: [{ id: 'ACME', label: 'Acme', required: ['hostUrl'], optional: ['repository'], example: {} }],
    indexes: [],
  })
  defineKind({
    ...base,
    fields: {
      ...fields,
      // @ts-expect-error a field can only be derived from another field of the kind
      derived: { ...textField(Type.String()), derivedFrom: 'hostUrI' as const },
    },
    providers: [],
    indexes: [],
  })
  defineKind({
    ...base,
    fields,
    providers: [],
    // @ts-expect-error index columns are fields, the provider column or a common column
    indexes: [{ name: 'idx', fields: ['tenantId', 'exampleKind'] }],
  })
  defineKind({
    ...base,
    fields,
    providers: [
      {
        id: 'ACME',
        label: 'Acme',
        required: ['apiToken'],
        optional: [],
        example: {},
        // @ts-expect-error recordFacts may only name fields of the kind
        recordFacts: () => ({ acountName: 'typo' }),
      },
    ],
    indexes: [],
  })
  defineKind({
    ...base,
    fields,
    providers: [
      {
        id: 'ACME',
        label: 'Acme',
        required: ['apiToken'],
        optional: [],
        // @ts-expect-error an example may only give fields of the kind
        example: { apiTokn: '<your-Acme-API-token>' },
      },
    ],
    indexes: [],
  })
  t.pass('each misspelling above is a compile error (checked by tsc --noEmit)')
})

t.test('a phrase takes "a" or "an" as its first word sounds', async (t) => {
  t.equal(withArticle('app distribution target integration'), 'an app distribution target integration')
  t.equal(withArticle('App Store Connect target'), 'an App Store Connect target')
  t.equal(withArticle('source control integration'), 'a source control integration')
  t.equal(withArticle('CI/CD integration'), 'a CI/CD integration', 'an acronym is read letter by letter')
  t.equal(withArticle('SCM integration'), 'an SCM integration')
  t.equal(withArticle('GitHub integration'), 'a GitHub integration')
})
