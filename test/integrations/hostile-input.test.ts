import t from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'

/** Values a careless or hostile client sends: wrong types, odd text, injection attempts, huge strings. */
const HOSTILE: unknown[] = [
  '',
  ' ',
  'a\nb',
  '\u0000',
  '\ud800',
  '\u202eevil',
  '😀',
  'x'.repeat(70_000),
  -1,
  1.5,
  1e308,
  true,
  null,
  [],
  {},
  { $gt: '' },
  "' OR 1=1 --",
  '../../etc/passwd',
  'https://127.0.0.1:1/',
  'https://user:pass@github.com/a/b',
  'javascript:alert(1)',
  '%ff',
]

// "No client input may produce a 500": every field of every route of every kind, each hostile
// value, on both databases. Answers are 2xx or 4xx, in the error shape, and nothing is logged as
// an error.
eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }

  for (const sample of SAMPLES) {
    const url = `${BASE}/${sample.kind}`
    const kind = KINDS.find((k) => k.segment === sample.kind)!

    t.test(`${sample.kind} ${sample.provider}: hostile values get a 2xx or a 4xx, never a 5xx`, async (t) => {
      const valid = sample.body(tenantId, 500)
      const created = await app.inject({ method: 'POST', url, headers: owner, payload: valid })
      t.equal(created.statusCode, 201, created.body)
      const id = created.json().id as string
      const fields = [...new Set([...Object.keys(valid), ...Object.keys(kind.fields), 'isActive'])]

      const answers = new Map<number, number>()
      const wrong: string[] = []
      const send = async (route: string, method: 'POST' | 'PATCH' | 'PUT', path: string, payload: unknown) => {
        const json = { ...owner, 'content-type': 'application/json' }
        const res = await app.inject({ method, url: path, headers: json, payload: JSON.stringify(payload) })
        answers.set(res.statusCode, (answers.get(res.statusCode) ?? 0) + 1)
        const shaped = res.statusCode < 400 || (typeof res.json().message === 'string' && res.json().statusCode === res.statusCode)
        if (res.statusCode >= 500 || !shaped) wrong.push(`${route}: ${res.statusCode} ${res.body.slice(0, 200)}`)
      }
      for (const field of fields) {
        for (const value of HOSTILE) {
          await send(`create ${field}`, 'POST', url, { ...valid, [field]: value })
          await send(`change ${field}`, 'PATCH', `${url}/${id}`, { [field]: value })
        }
      }
      // A usable secret with something a header cannot carry: Slack verifies on create, so this
      // reaches the verifier unless validation stops it.
      const tails = ['\nX', ' X', '\u0000', '😀'].map((tail) => `${String(valid[sample.secret])}${tail}`)
      for (const value of [...HOSTILE, ...tails]) {
        await send(`create ${sample.secret}`, 'POST', url, { ...sample.body(tenantId, 501), [sample.secret]: value })
        await send(`credentials ${sample.secret}`, 'PUT', `${url}/${id}/credentials`, { [sample.secret]: value })
      }
      // The access-token body: as a whole, its provider field, and each option the provider's minter takes.
      const options = Object.keys(kind.providers.find((p) => p.id === sample.provider)?.mint?.options ?? {})
      for (const value of HOSTILE) {
        const token = `${url}/${id}/access-token`
        await send('access-token body', 'POST', token, value)
        await send(`access-token ${kind.providerField}`, 'POST', token, { [kind.providerField]: value })
        for (const option of options) {
          await send(`access-token ${option}`, 'POST', token, { [kind.providerField]: sample.provider, [option]: value })
        }
      }
      t.same(wrong, [], 'no 5xx, every error in the error shape')
      t.ok(answers.get(400), `refusals: ${JSON.stringify(Object.fromEntries(answers))}`)
    })
  }

  t.test('hostile query strings and ids get a 2xx or a 4xx, never a 5xx', async (t) => {
    const wrong: string[] = []
    // A URL cannot carry an unpaired surrogate at all: encodeURIComponent refuses it.
    const texts = HOSTILE.filter(
      (v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v) && v !== '\ud800',
    ).map((v) => encodeURIComponent(String(v)))
    for (const value of [...texts, '%ff', '%00', 'a&tenantId=b']) {
      const paths = [
        `${BASE}/scm?tenantId=${value}`,
        ...['limit', 'cursor', 'isActive', 'verificationStatus', 'scmType', 'other'].map(
          (p) => `${BASE}/scm?tenantId=${tenantId}&${p}=${value}`,
        ),
        `${BASE}?tenantId=${value}`,
        `${BASE}/scm/${value}`,
        `${BASE}/scm/${value}/credentials`,
      ]
      for (const path of paths) {
        const res = await app.inject({ url: path, headers: owner })
        if (res.statusCode >= 500 || (res.statusCode >= 400 && typeof res.json().message !== 'string')) {
          wrong.push(`${path.slice(0, 120)}: ${res.statusCode} ${res.body.slice(0, 200)}`)
        }
      }
    }
    t.same(wrong, [])
  })

  t.test('nothing was logged as an error', async (t) => {
    const errors = h.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)
    t.same(errors, [])
  })
})
