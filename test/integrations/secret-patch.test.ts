import t from 'tap'
import { KINDS } from '../../src/kinds/index.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'

// README: "Verification status goes back to PENDING whenever something verification depends on changes (repository,
// branch, secret)". A PATCH that carries only a new secret is such a change.
eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:read integrations:credentials:read')}` }
  const verifiedAt = db.dialect === 'sqlite' ? '2031-01-02 03:04:05.000 +00:00' : '2031-01-02 03:04:05'

  // A provider that takes the connection's identity from its answer (Slack) verifies a new secret instead:
  // test/integrations/recorded-identity.test.ts.
  const verifiedOnChange = (sample: (typeof SAMPLES)[number]) =>
    KINDS.find((k) => k.segment === sample.kind)!.providers.find((p) => p.id === sample.provider)!.verifyOnCreate
  for (const sample of SAMPLES.filter((s) => !verifiedOnChange(s))) {
    const url = `${BASE}/${sample.kind}`
    const table = KINDS.find((k) => k.segment === sample.kind)!.tableName
    const fingerprint = `${sample.secret}Fingerprint`

    t.test(`${sample.kind} ${sample.provider}: a PATCH of the secret alone makes a VALID integration PENDING again`, async (t) => {
      const created = await app.inject({ method: 'POST', url, headers: owner, payload: sample.body(tenantId) })
      t.equal(created.statusCode, 201, created.body)
      const { id } = created.json()
      await db.query(
        `UPDATE ${table} SET verificationStatus = 'VALID', lastVerifiedAt = '${verifiedAt}', verificationError = NULL WHERE id = '${id}'`,
      )
      const valid = (await app.inject({ url: `${url}/${id}`, headers: owner })).json()
      t.match(valid, { verificationStatus: 'VALID', lastVerifiedAt: /^2031-01-0/ }, 'the integration reads as verified')

      const secret = sample.newSecret()
      const patched = await app.inject({ method: 'PATCH', url: `${url}/${id}`, headers: owner, payload: { [sample.secret]: secret } })
      t.equal(patched.statusCode, 200, patched.body)
      t.match(patched.json(), { verificationStatus: 'PENDING', lastVerifiedAt: null, verificationError: null })
      t.not(patched.json()[fingerprint], valid[fingerprint], 'the secret was replaced')

      const [stored] = (await db.query(`SELECT verificationStatus, lastVerifiedAt FROM ${table} WHERE id = '${id}'`)) as Record<
        string,
        unknown
      >[]
      t.same(stored, { verificationStatus: 'PENDING', lastVerifiedAt: null }, 'and so it is stored')
      t.same((await app.inject({ url: `${url}/${id}`, headers: owner })).json(), patched.json(), 'what was answered is what is read')
      const credentials = (await app.inject({ url: `${url}/${id}/credentials`, headers: service })).json().credentials
      t.same(credentials, { [sample.secret]: secret })
    })
  }
})
