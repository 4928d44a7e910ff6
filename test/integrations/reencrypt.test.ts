import os from 'node:os'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { createCredentialCipher } from '../../src/crypto/credential-cipher.js'
import { parseCredentialKeys } from '../../src/crypto/keyring.js'
import { reencryptAll, type ReencryptResult } from '../../src/integrations/reencrypt.js'
import { KINDS, kindByName } from '../../src/kinds/index.js'
import { secretFields } from '../../src/kinds/define/kind.js'
import { startApp, type TestApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { ROOT, TSX } from '../helpers/processes.js'
import { testToken } from '../helpers/provider-double.js'
import { leaks, SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'
import { sealV1 } from '../helpers/legacy-cipher.js'

const BASE = '/api/v1/integrations'

const k1 = `k1:${randomBytes(32).toString('base64')}`
const k2 = `k2:${randomBytes(32).toString('base64')}`
const k0 = `k0:${randomBytes(32).toString('base64')}`
// Generating the samples' keys blocks the loop long enough for the overload guard to answer 503.
const UNGUARDED = { MAX_EVENT_LOOP_DELAY_MS: '0' }
const ONLY_K1 = { CREDENTIAL_KEYS: k1 }
const BOTH = { CREDENTIAL_KEYS: `${k1},${k2}`, CREDENTIAL_ACTIVE_KEY: 'k2' }
const ONLY_K2 = { CREDENTIAL_KEYS: k2 }
const k2Cipher = createCredentialCipher(parseCredentialKeys(BOTH.CREDENTIAL_KEYS, 'k2'))

interface Stored {
  tenantId: string
  kind: string
  id: string
  field: string
  secret: string
}

interface Raw {
  value: string
  fingerprint: string
  updatedAt: string
}

async function raw(db: TestDatabase, s: Pick<Stored, 'kind' | 'id' | 'field'>): Promise<Raw> {
  const table = kindByName(s.kind)!.tableName
  const rows = (await db.query(
    `SELECT ${s.field} AS value, ${s.field}Fingerprint AS fingerprint, updatedAt FROM ${table} WHERE id = '${s.id}'`,
  )) as { value: string; fingerprint: string; updatedAt: unknown }[]
  const row = rows[0]!
  return { value: row.value, fingerprint: row.fingerprint, updatedAt: String(row.updatedAt) }
}

async function credentials(h: TestApp, s: Stored): Promise<Record<string, string>> {
  const token = await h.serviceToken('releases', 'integrations:credentials:read')
  const res = await h.app.inject({ url: `${BASE}/${s.kind}/${s.id}/credentials`, headers: { authorization: `Bearer ${token}` } })
  if (res.statusCode !== 200) throw new Error(`credentials of ${s.kind} ${s.id}: ${res.statusCode} ${res.body}`)
  return res.json().credentials
}

async function create(h: TestApp, sample: (typeof SAMPLES)[number], tenantId: string, ownerId: string, n = 0): Promise<Stored> {
  const body = sample.body(tenantId, n)
  const res = await h.app.inject({
    method: 'POST',
    url: `${BASE}/${sample.kind}`,
    headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
    payload: body,
  })
  if (res.statusCode !== 201) throw new Error(`create ${sample.kind} ${sample.provider}: ${res.statusCode} ${res.body}`)
  return { tenantId, kind: sample.kind, id: res.json().id, field: sample.secret, secret: String(body[sample.secret]) }
}

const sample = (kind: string, provider: string) => SAMPLES.find((s) => s.kind === kind && s.provider === provider)!

/** Every stored secret of every kind, straight from the tables. */
async function allSecrets(db: TestDatabase): Promise<string[]> {
  const values: string[] = []
  for (const kind of KINDS) {
    const fields = secretFields(kind)
    const rows = (await db.query(`SELECT ${fields.join(', ')} FROM ${kind.tableName}`)) as Record<string, string | null>[]
    for (const row of rows) values.push(...fields.map((f) => row[f]).filter((v): v is string => v !== null))
  }
  return values
}

/** Per kind: [scanned, re-encrypted, of them upgraded from v1, failed]. */
function counts(result: ReencryptResult) {
  return Object.fromEntries(Object.entries(result.kinds).map(([kind, c]) => [kind, [c.scanned, c.reencrypted, c.upgraded, c.failed]]))
}

/** Rewrites a row's secret as the service stored it before the tenant was bound (`enc:v1`). */
async function makeLegacy(db: TestDatabase, s: Stored, keyId: string, key: string) {
  const table = kindByName(s.kind)!.tableName
  await db.query(`UPDATE ${table} SET ${s.field} = '${sealV1(keyId, key, s.secret, s)}' WHERE id = '${s.id}'`)
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** The command as an operator runs it, with only what a shell would have plus the service's variables. */
function rotateKeys(t: Test, db: TestDatabase, env: Record<string, string>, args: string[] = []): Promise<Run> {
  const child = spawn(process.execPath, [...TSX, 'src/cli/rotate-keys.ts', ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? os.tmpdir(),
      // tsx-compiled children's coverage would not line up with tap's.
      _TAPJS_PROCESSINFO_COVERAGE_: '0',
      NODE_ENV: 'test',
      DATA_DIR: os.tmpdir(),
      DATABASE_URL: db.url,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += String(d)))
  child.stderr.on('data', (d) => (stderr += String(d)))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The summary row of a kind: [scanned, re-encrypted, of them from v1, failed]. */
function summaryRow(stdout: string, kind: string): number[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${kind} `))
  if (!line) throw new Error(`no summary row for ${kind} in ${stdout}`)
  return line.trim().split(/\s+/).slice(1).map(Number)
}

t.test('rotate-keys refuses a bad batch size before touching anything', async (t) => {
  const run = await rotateKeys(t, { url: 'sqlite:/nonexistent/never-opened.sqlite' } as TestDatabase, ONLY_K1, ['--batch-size', '0'])
  t.equal(run.code, 2)
  t.match(run.stderr, /--batch-size must be an integer between 1 and 10000/)
  t.match(run.stderr, /npm run rotate-keys -- --dry-run/)
})

eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)

  // Every provider of every kind, written while k1 is the only key.
  const old = await startApp(t, db, { ...UNGUARDED, ...ONLY_K1, SLACK_API_URL: slack.origin })
  const { tenantId, ownerId } = await old.tenant()
  const stored: Stored[] = []
  for (const sample of SAMPLES) stored.push(await create(old, sample, tenantId, ownerId))
  // The first row of every kind as an older release stored it: enc:v1, the tenant not bound.
  const legacy = KINDS.map((k) => stored.find((s) => s.kind === k.segment)!)
  for (const s of legacy) await makeLegacy(db, s, 'k1', k1.slice(3))
  const isLegacy = (s: Stored) => legacy.includes(s)
  const before = new Map<string, Raw>()
  for (const s of stored) before.set(s.id, await raw(db, s))

  // The new key is added and made active; k1 stays listed.
  const rolled = await startApp(t, db, { ...UNGUARDED, ...BOTH })
  const fresh = await create(rolled, sample('scm', 'GITHUB'), tenantId, ownerId, 1)
  const freshBefore = await raw(db, fresh)

  t.test('k1 encrypts every row while it is the only key, binding the tenant (enc:v2)', async (t) => {
    for (const s of stored) t.match(before.get(s.id)!.value, isLegacy(s) ? /^enc:v1:k1:/ : /^enc:v2:k1:/, `${s.kind} ${s.field}`)
  })

  t.test('an enc:v1 value, written before the tenant was bound, still reads', async (t) => {
    for (const s of legacy) t.same(await credentials(old, s), { [s.field]: s.secret }, `${s.kind} ${s.field}`)
  })

  t.test('with k2 active, rows under k1 still decrypt and new writes use k2', async (t) => {
    for (const s of stored) t.same(await credentials(rolled, s), { [s.field]: s.secret }, `${s.kind} ${s.field}`)
    t.match((await raw(db, fresh)).value, /^enc:v2:k2:/)
    t.same(await credentials(rolled, fresh), { [fresh.field]: fresh.secret })
  })

  const scanned = (kind: string) => stored.filter((s) => s.kind === kind).length + (kind === fresh.kind ? 1 : 0)
  const underK1 = (kind: string) => stored.filter((s) => s.kind === kind).length
  const fromV1 = (kind: string) => legacy.filter((s) => s.kind === kind).length
  const expected = (kind: string) => [scanned(kind), underK1(kind), fromV1(kind), 0]

  t.test('a dry run counts what would change and writes nothing', async (t) => {
    const result = await reencryptAll(rolled.app.db, KINDS, rolled.app.cipher, { batchSize: 2, dryRun: true })
    t.same(counts(result), Object.fromEntries(KINDS.map((k) => [k.segment, expected(k.segment)])))
    t.same(result.failures, [])
    for (const s of stored) t.same(await raw(db, s), before.get(s.id), `${s.kind} ${s.id} unchanged`)
  })

  t.test('re-encrypts every row under k1 as enc:v2, in batches, leaving secrets and updatedAt as they were', async (t) => {
    const logged: string[] = []
    const log = { info: (obj: object, msg: string) => logged.push(msg + JSON.stringify(obj)), warn: () => t.fail('nothing fails') }
    const result = await reencryptAll(rolled.app.db, KINDS, rolled.app.cipher, { batchSize: 2, log })
    t.same(counts(result), Object.fromEntries(KINDS.map((k) => [k.segment, expected(k.segment)])))
    t.ok(logged.length > KINDS.length, 'reports progress per batch')
    for (const s of [...stored, fresh]) {
      t.notOk(
        logged.some((l) => leaks(l, s.secret)),
        'no secret in a log line',
      )
    }
    const values = await allSecrets(db)
    t.equal(values.length, stored.length + 1)
    t.ok(
      values.every((v) => v.startsWith('enc:v2:k2:')),
      'every secret column is under k2, the tenant bound',
    )
    t.same(await raw(db, fresh), freshBefore, 'a row already under k2 is left alone')
    for (const s of stored) {
      const now = await raw(db, s)
      t.match(now.value, /^enc:v2:k2:/, `${s.kind} ${s.field} under k2`)
      t.equal(now.fingerprint, k2Cipher.fingerprint(s.secret), 'fingerprint recomputed under the active key')
      t.not(now.fingerprint, before.get(s.id)!.fingerprint)
      t.equal(now.updatedAt, before.get(s.id)!.updatedAt, 'updatedAt unchanged')
      t.same(await credentials(rolled, s), { [s.field]: s.secret }, 'reads back identical')
      const view = await rolled.app.inject({
        url: `${BASE}/${s.kind}/${s.id}`,
        headers: { authorization: `Bearer ${await rolled.userToken(ownerId)}` },
      })
      t.equal(view.json()[`${s.field}Fingerprint`], now.fingerprint, 'the API shows the new fingerprint')
    }
  })

  t.test('a second run re-encrypts nothing', async (t) => {
    const result = await reencryptAll(rolled.app.db, KINDS, rolled.app.cipher, { batchSize: 100 })
    t.same(counts(result), Object.fromEntries(KINDS.map((k) => [k.segment, [scanned(k.segment), 0, 0, 0]])))
  })

  t.test('a secret the service stores between read and write is not overwritten with the old one', async (t) => {
    const jira = sample('project-management', 'JIRA')
    const raced = await create(old, jira, tenantId, ownerId, 1)
    const replacement = jira.newSecret()
    const model = rolled.app.db.integrations.get(raced.kind)!
    let writes = 0
    // The service's PUT lands just before the first conditional write of the row.
    const racing = new Proxy(model, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown
        if (typeof value !== 'function') return value
        if (prop !== 'update') return value.bind(target)
        return async (...args: unknown[]) => {
          if (writes++ === 0) {
            const put = await rolled.app.inject({
              method: 'PUT',
              url: `${BASE}/${raced.kind}/${raced.id}/credentials`,
              headers: { authorization: `Bearer ${await rolled.userToken(ownerId)}` },
              payload: { [raced.field]: replacement },
            })
            t.equal(put.statusCode, 200)
          }
          return value.apply(target, args)
        }
      },
    })
    const result = await reencryptAll({ integrations: new Map([[raced.kind, racing]]) }, [kindByName(raced.kind)!], rolled.app.cipher, {
      batchSize: 10,
    })
    t.same(result.kinds[raced.kind], { scanned: 2, reencrypted: 0, upgraded: 0, failed: 0 }, 'read again, and found under k2 already')
    t.equal(writes, 1)
    t.same(await credentials(rolled, raced), { [raced.field]: replacement }, 'the newer secret survives')
    t.match((await raw(db, raced)).value, /^enc:v2:k2:/)
  })

  // Set in the next test: a row an instance still on k1 writes, one under the active key but still
  // enc:v1, and one under a key nobody has any more.
  let late: Stored
  let oldFormat: Stored
  let orphan: Stored

  t.test('the command reports a secret it cannot decrypt by id and field, rotates the rest and exits 1', async (t) => {
    late = await create(old, sample('ci-cd', 'JENKINS'), tenantId, ownerId, 1)
    oldFormat = await create(rolled, sample('scm', 'GITLAB'), tenantId, ownerId, 1)
    await makeLegacy(db, oldFormat, 'k2', k2.slice(3))
    orphan = await create(rolled, sample('test-management', 'CHECKMATE'), tenantId, ownerId, 1)
    const lost = testToken('lost_')
    const k0Cipher = createCredentialCipher(parseCredentialKeys(k0, undefined))
    const table = kindByName(orphan.kind)!.tableName
    await db.query(`UPDATE ${table} SET ${orphan.field} = '${k0Cipher.encrypt(lost, orphan)}' WHERE id = '${orphan.id}'`)
    const secrets = [...stored, fresh, late, oldFormat, orphan].map((s) => s.secret).concat(lost)

    const dry = await rotateKeys(t, db, BOTH, ['--dry-run'])
    t.equal(dry.code, 1, 'the dry run exits 1 too')
    t.match(dry.stdout, /Dry run, nothing written/)
    t.same(summaryRow(dry.stdout, 'ci-cd'), [scanned('ci-cd') + 1, 1, 0, 0])
    t.same(summaryRow(dry.stdout, 'scm'), [scanned('scm') + 1, 1, 1, 0])
    t.match(dry.stdout, /1 row\(s\) would be upgraded from enc:v1 to enc:v2/)
    t.match((await raw(db, late)).value, /^enc:v2:k1:/, 'the dry run wrote nothing')
    t.match((await raw(db, oldFormat)).value, /^enc:v1:k2:/, 'the dry run wrote nothing')

    const run = await rotateKeys(t, db, BOTH, ['--batch-size', '2'])
    t.equal(run.code, 1, 'exits 1')
    t.same(summaryRow(run.stdout, 'ci-cd'), [scanned('ci-cd') + 1, 1, 0, 0])
    t.same(summaryRow(run.stdout, 'test-management'), [scanned('test-management') + 1, 0, 0, 1])
    t.same(summaryRow(run.stdout, 'scm'), [scanned('scm') + 1, 1, 1, 0], 'a v1 value under the active key is upgraded')
    t.match(run.stdout, /1 row\(s\) were upgraded from enc:v1 to enc:v2/)
    t.match(run.stdout, new RegExp(`test-management ${orphan.id} authToken: key "k0" is not configured`))
    t.match(run.stderr, new RegExp(`id=${orphan.id} field=authToken`))
    t.match((await raw(db, late)).value, /^enc:v2:k2:/)
    t.same(await credentials(rolled, late), { [late.field]: late.secret })
    t.match((await raw(db, oldFormat)).value, /^enc:v2:k2:/)
    t.same(await credentials(rolled, oldFormat), { [oldFormat.field]: oldFormat.secret })
    for (const secret of secrets) t.notOk(leaks(`${run.stdout}${run.stderr}${dry.stdout}${dry.stderr}`, secret), 'no secret in the output')
  })

  t.test('with k1 removed, every rotated secret still decrypts', async (t) => {
    const owner = { authorization: `Bearer ${await rolled.userToken(ownerId)}` }
    t.equal((await rolled.app.inject({ method: 'DELETE', url: `${BASE}/${orphan.kind}/${orphan.id}`, headers: owner })).statusCode, 204)
    const rerun = await rotateKeys(t, db, BOTH)
    t.equal(rerun.code, 0, 'exits 0 once nothing fails')
    t.match(rerun.stdout, /^Re-encrypted secrets stored under a key other than the active key "k2"/)

    t.ok(
      (await allSecrets(db)).every((v) => v.startsWith('enc:v2:k2:')),
      'every secret column is under k2',
    )

    const after = await startApp(t, db, { ...UNGUARDED, ...ONLY_K2 })
    for (const s of [...stored, fresh, late, oldFormat]) {
      t.match((await raw(db, s)).value, /^enc:v2:k2:/)
      t.same(await credentials(after, s), { [s.field]: s.secret }, `${s.kind} ${s.field}`)
    }
  })

  t.test('a row moved to another tenant in the database does not decrypt: an error, never the secret', async (t) => {
    const other = await rolled.tenant()
    const service = { authorization: `Bearer ${await rolled.serviceToken('releases', 'integrations:credentials:read')}` }
    for (const s of legacy) {
      const table = kindByName(s.kind)!.tableName
      t.match((await raw(db, s)).value, /^enc:v2:/, 'upgraded by the runs above')
      await db.query(`UPDATE ${table} SET tenantId = '${other.tenantId}' WHERE id = '${s.id}'`)
      const res = await rolled.app.inject({ url: `${BASE}/${s.kind}/${s.id}/credentials`, headers: service })
      t.equal(res.statusCode, 500, `${s.kind}: refused`)
      t.match(res.json(), { code: 'CREDENTIAL_UNREADABLE' })
      t.notOk(leaks(res.body, s.secret), 'the secret is not in the answer')
      const verify = await rolled.app.inject({
        method: 'POST',
        url: `${BASE}/${s.kind}/${s.id}/verify`,
        headers: { authorization: `Bearer ${await rolled.userToken(other.ownerId)}` },
      })
      t.equal(verify.statusCode, 500, `${s.kind}: nothing is sent to the provider`)
      t.notOk(leaks(verify.body, s.secret))
      await db.query(`UPDATE ${table} SET tenantId = '${s.tenantId}' WHERE id = '${s.id}'`)
      t.same(await credentials(rolled, s), { [s.field]: s.secret }, `${s.kind}: back in its tenant, it reads again`)
    }
    for (const line of rolled.logs)
      t.notOk(
        legacy.some((s) => leaks(line, s.secret)),
        'no secret in a log line',
      )
  })
})
