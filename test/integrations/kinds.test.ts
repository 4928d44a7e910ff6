import t from 'tap'
import { countOutbound, startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { leaks, SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'
import { KINDS } from '../../src/kinds/index.js'
import { patternPhrase } from '../../src/http/patterns.js'

const BASE = '/api/v1/integrations'
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

// The same contract for every provider of every kind, driven by one sample per provider.
eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { app } = h
  // Every provider call of every verifier goes through this one client: counted here.
  const outboundCalls = countOutbound(app)
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const other = await h.tenant()
  const stranger = { authorization: `Bearer ${await h.userToken(other.ownerId)}` }
  const viewer = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Viewer' }))}` }
  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read integrations:credentials:read')}` }
  const secretsSeen: string[] = []

  for (const sample of SAMPLES) {
    const url = `${BASE}/${sample.kind}`
    const has = `has${capitalize(sample.secret)}`
    const fingerprint = `${sample.secret}Fingerprint`
    const kind = KINDS.find((k) => k.segment === sample.kind)!

    t.test(`${sample.kind} ${sample.provider}: create, read, list, change, rotate, delete`, async (t) => {
      const body = sample.body(tenantId)
      const secret = String(body[sample.secret])
      secretsSeen.push(secret)

      const created = await app.inject({ method: 'POST', url, headers: owner, payload: body })
      t.equal(created.statusCode, 201, created.body)
      const integration = created.json()
      t.match(integration, {
        tenantId,
        [sample.providerField]: sample.provider,
        displayName: body.displayName,
        [has]: true,
        isActive: true,
      })
      t.match(integration[fingerprint], /^[0-9a-f]{16}$/)
      t.notOk(sample.secret in integration, 'the secret field is not in the response')
      t.notOk(leaks(created.body, secret), 'the secret value is nowhere in the response')

      const raw = (await db.query(`SELECT ${sample.secret} AS v FROM ${kind.tableName} WHERE id = '${integration.id}'`)) as { v: string }[]
      t.match(raw[0]!.v, /^enc:v2:/, 'stored as ciphertext, the tenant bound')
      t.notOk(raw[0]!.v.includes(secret))

      const got = await app.inject({ url: `${url}/${integration.id}`, headers: owner })
      t.same(got.json(), integration)
      const listed = await app.inject({ url: `${url}?tenantId=${tenantId}&${sample.providerField}=${sample.provider}`, headers: viewer })
      t.equal(listed.statusCode, 200)
      t.ok(
        listed.json().items.some((i: { id: string }) => i.id === integration.id),
        'listed under its provider',
      )

      const duplicate = await app.inject({ method: 'POST', url, headers: owner, payload: body })
      t.equal(duplicate.statusCode, 409, 'the same connection twice is refused')
      t.equal(duplicate.json().message, kind.duplicateMessage)

      const renamed = await app.inject({
        method: 'PATCH',
        url: `${url}/${integration.id}`,
        headers: owner,
        payload: { displayName: 'Renamed' },
      })
      t.equal(renamed.statusCode, 200)
      t.equal(renamed.json().displayName, 'Renamed')

      const rotated = sample.newSecret()
      secretsSeen.push(rotated)
      const put = await app.inject({
        method: 'PUT',
        url: `${url}/${integration.id}/credentials`,
        headers: owner,
        payload: { [sample.secret]: rotated },
      })
      t.equal(put.statusCode, 200, put.body)
      t.not(put.json()[fingerprint], integration[fingerprint], 'the fingerprint follows the secret')
      const read = await app.inject({ url: `${url}/${integration.id}/credentials`, headers: service })
      t.equal(read.statusCode, 200)
      t.same(read.json().credentials, { [sample.secret]: rotated }, 'services read the decrypted secret')

      t.equal((await app.inject({ url: `${url}/${integration.id}`, headers: stranger })).statusCode, 404, 'another tenant sees nothing')
      t.equal((await app.inject({ method: 'DELETE', url: `${url}/${integration.id}`, headers: viewer })).statusCode, 403)
      t.equal((await app.inject({ method: 'DELETE', url: `${url}/${integration.id}`, headers: owner })).statusCode, 204)
      t.equal((await app.inject({ url: `${url}/${integration.id}`, headers: owner })).statusCode, 404)
    })

    t.test(`${sample.kind} ${sample.provider}: bad input is a 400 naming the field, storing nothing`, async (t) => {
      const body = sample.body(tenantId, 99)
      const before = ((await db.query(`SELECT COUNT(*) AS n FROM ${kind.tableName}`)) as { n: number }[])[0]!.n
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['unknown field', { ...body, extra: 1 }, /body\/extra is not a known field/],
        ['missing secret', { ...body, [sample.secret]: undefined }, new RegExp(`body/${sample.secret} is required`)],
        ['secret of the wrong type', { ...body, [sample.secret]: 42 }, new RegExp(`body/${sample.secret} must be string`)],
        ['no display name', { ...body, displayName: '' }, /body\/displayName/],
        ['a display name of two lines', { ...body, displayName: 'Mobile\napp' }, /body\/displayName must be one line of text/],
        ['an unpaired surrogate', { ...body, displayName: 'Mobile \ud800' }, /body\/displayName is not valid Unicode text/],
      ]
      // A secret sent in an HTTP header cannot hold what a header cannot carry (Node would throw).
      if (patternPhrase(String(kind.fields[sample.secret]!.schema.pattern))?.startsWith('must be a token')) {
        for (const tail of ['\nX', ' X', '\u00e9', '\u{1f600}']) {
          const bad = `${String(body[sample.secret])}${tail}`
          cases.push([
            `a token ending in ${JSON.stringify(tail)}`,
            { ...body, [sample.secret]: bad },
            new RegExp(`body/${sample.secret} must be a token`),
          ])
        }
      }
      for (const [name, payload, message] of cases) {
        const res = await app.inject({ method: 'POST', url, headers: owner, payload: JSON.parse(JSON.stringify(payload)) })
        t.equal(res.statusCode, 400, name)
        t.match(res.json().message, message, name)
        const secretSent = payload[sample.secret]
        t.notOk(typeof secretSent === 'string' && leaks(res.body, secretSent), `${name}: the secret is not echoed`)
        const calls = outboundCalls()
        const check = await app.inject({ method: 'POST', url: `${url}/verify`, headers: owner, payload })
        t.equal(check.statusCode, 400, `${name}: refused by verify too`)
        t.equal(outboundCalls(), calls, `${name}: no provider was called`)
      }
      const after = ((await db.query(`SELECT COUNT(*) AS n FROM ${kind.tableName}`)) as { n: number }[])[0]!.n
      t.equal(Number(after), Number(before))
    })
  }

  t.test('the catalog lists every kind and provider, with the secret fields marked', async (t) => {
    const res = await app.inject({ url: `${BASE}/providers`, headers: viewer })
    t.equal(res.statusCode, 200)
    const catalog = res.json()
    t.same(
      catalog.kinds.map((k: { kind: string }) => k.kind),
      ['scm', 'targets', 'ci-cd', 'communication', 'project-management', 'test-management'],
    )
    for (const sample of SAMPLES) {
      const kind = catalog.kinds.find((k: { kind: string }) => k.kind === sample.kind)
      const provider = kind.providers.find((p: { id: string }) => p.id === sample.provider)
      t.ok(provider, `${sample.provider} listed`)
      t.match(
        provider.fields.find((f: { name: string }) => f.name === sample.secret),
        { secret: true, required: true, schema: { type: 'string' } },
      )
      t.type(provider.verifies, 'string')
    }
    t.equal((await app.inject({ url: `${BASE}/providers` })).statusCode, 401)
  })

  t.test("the summary shows a tenant's integrations across kinds without secrets", async (t) => {
    const { tenantId: fresh, ownerId: freshOwner } = await h.tenant()
    const auth = { authorization: `Bearer ${await h.userToken(freshOwner)}` }
    const made: Record<string, string[]> = {}
    const callsBefore = outboundCalls()
    for (const sample of SAMPLES) {
      const body = sample.body(fresh, 7)
      secretsSeen.push(String(body[sample.secret]))
      const res = await app.inject({ method: 'POST', url: `${BASE}/${sample.kind}`, headers: auth, payload: body })
      t.equal(res.statusCode, 201, res.body)
      ;(made[sample.kind] ??= []).push(res.json().id)
    }
    t.ok(outboundCalls() > callsBefore, "Slack's create verified through the counted client")
    const summary = await app.inject({ url: `${BASE}?tenantId=${fresh}`, headers: auth })
    t.equal(summary.statusCode, 200)
    const { kinds } = summary.json()
    for (const [kind, ids] of Object.entries(made)) {
      t.same(
        kinds[kind].map((i: { id: string }) => i.id),
        ids,
        kind,
      )
    }
    t.match(kinds.scm[0], {
      provider: 'GITHUB',
      displayName: 'GitHub',
      verificationStatus: 'PENDING',
      lastVerifiedAt: null,
      isActive: true,
    })
    t.match(kinds.communication[0], { provider: 'SLACK', verificationStatus: 'VALID' })
    t.notOk(
      secretsSeen.some((s) => leaks(summary.body, s)),
      'no secret in the summary',
    )
    t.equal((await app.inject({ url: `${BASE}?tenantId=${fresh}`, headers: stranger })).statusCode, 404)
    t.equal((await app.inject({ url: `${BASE}?tenantId=no-such-tenant`, headers: service })).statusCode, 404)
  })

  t.test('no secret of any kind reaches a log line', async (t) => {
    t.ok(secretsSeen.length >= SAMPLES.length * 2)
    t.notOk(
      h.logs.some((line) => secretsSeen.some((s) => leaks(line, s))),
      'no log line carries a secret',
    )
  })
})
