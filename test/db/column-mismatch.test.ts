import t from 'tap'
import { createTestDatabase, testDialects } from '../helpers/databases.js'
import { startApp } from '../helpers/app.js'
import { SAMPLES } from '../helpers/samples.js'
import { rowCount, SCM_TABLE } from '../helpers/schema.js'

const SCM = '/api/v1/integrations/scm'
const github = SAMPLES.find((s) => s.provider === 'GITHUB')!

// A table narrower than the service's schema (made by an older version, or altered by hand) refuses values the service
// accepts. MariaDB says so (strict mode); SQLite stores any value in any column, so there is nothing to refuse there.
if (!testDialects().includes('mysql')) {
  t.plan(0, 'MariaDB only (SQLite refuses no value): set TEST_MYSQL_URL')
} else {
  t.test('a column too narrow for a valid value: 503 DATABASE_SCHEMA_MISMATCH, nothing stored, the value not logged', async (t) => {
    const db = await createTestDatabase(t, 'mysql')
    const h = await startApp(t, db, { DB_SYNC: 'safe' })
    const { tenantId, ownerId } = await h.tenant()
    const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
    await db.query(`ALTER TABLE ${SCM_TABLE} MODIFY displayName VARCHAR(8) NOT NULL`)
    await db.query(`ALTER TABLE ${SCM_TABLE} MODIFY scmType ENUM('GITLAB') NOT NULL`)

    const displayName = 'A display name longer than eight'
    const body: Record<string, unknown> = { ...github.body(tenantId, 1), displayName }
    const tooLong = await h.app.inject({ method: 'POST', url: SCM, headers: owner, payload: body })
    t.equal(tooLong.statusCode, 503, tooLong.body)
    t.same(tooLong.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: "A database column cannot hold a value this service accepts; nothing was stored. Operators: apply this version's schema",
      code: 'DATABASE_SCHEMA_MISMATCH',
    })
    t.ok(Number(tooLong.headers['retry-after']) > 0, 'says when to retry')

    const notInEnum = await h.app.inject({
      method: 'POST',
      url: SCM,
      headers: owner,
      payload: { ...github.body(tenantId, 2), displayName: 'short' },
    })
    t.equal(notInEnum.statusCode, 503, notInEnum.body)
    t.equal(notInEnum.json().code, 'DATABASE_SCHEMA_MISMATCH')

    t.equal(await rowCount(db, SCM_TABLE), 0, 'nothing stored')
    const logged = h.logs.join('\n')
    t.match(logged, /request failed/, 'the operator is told')
    t.notMatch(logged, displayName, 'the refused value is not in the logs')
    t.notOk(logged.includes(body[github.secret] as string), 'nor is the secret')
  })
}
