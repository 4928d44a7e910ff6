import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildApp, type App } from '../../src/app.js'
import { mintToken } from '../../src/auth/tokens.js'
import { loadConfig } from '../../src/config/load-config.js'
import { DEV_SECRETS_FILE } from '../../src/config/dev-secrets.js'
import { DEMO } from '../../src/db/dev-seed.js'
import { childEnv, freePort, ROOT, runTs, tempDir, track, TSX, within } from '../helpers/processes.js'

const SCM = '/api/v1/integrations/scm'

interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

/** An app on the embedded defaults: nothing configured but where its data lives. */
async function devApp(t: Test, dataDir: string, env: Record<string, string> = {}) {
  // Load shedding reacts to event-loop delay, which a busy test runner causes by itself.
  const config = loadConfig({ DATA_DIR: dataDir, LOG_FORMAT: 'json', MAX_EVENT_LOOP_DELAY_MS: '0', ...env })
  const lines: string[] = []
  const logStream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const app = await buildApp({ config, logStream })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await app.close()
  }
  t.teardown(close)
  await app.ready()
  return { app, config, close, logs: () => lines.map((l) => JSON.parse(l) as LogLine) }
}

interface Curl {
  url: string
  authorization: string
  body: Record<string, unknown>
}

function parseCurl(msg: string): Curl {
  const url = /curl -sS -X POST (\S+)/.exec(msg)?.[1]
  const authorization = /-H 'authorization: (Bearer [^']+)'/.exec(msg)?.[1]
  const body = /-d '([^']+)'/.exec(msg)?.[1]
  if (!url || !authorization || !body) throw new Error(`no usable curl in ${JSON.stringify(msg)}`)
  return { url, authorization, body: JSON.parse(body) as Record<string, unknown> }
}

async function demoRows(app: App) {
  const { Account, Tenant, Collaborator } = app.db.models
  return {
    accounts: await Account.count({ where: { id: DEMO.accountId } }),
    tenants: await Tenant.count({ where: { id: DEMO.tenantId } }),
    owners: await Collaborator.count({ where: { accountId: DEMO.accountId, tenantId: DEMO.tenantId, appId: null, permission: 'Owner' } }),
  }
}

t.test('embedded defaults seed a demo tenant and log a curl that works', async (t) => {
  const dataDir = tempDir(t)
  const first = await devApp(t, dataDir)
  const { app } = first

  t.equal(first.config.database.dialect, 'sqlite')
  t.equal(first.config.database.storage, path.join(dataDir, 'delivr-integrations.sqlite'))
  t.ok(fs.existsSync(first.config.database.storage!), 'the SQLite file lives under DATA_DIR')
  const secretsFile = path.join(dataDir, DEV_SECRETS_FILE)
  t.equal(fs.statSync(secretsFile).mode & 0o777, 0o600, 'generated secrets are readable by the owner only')
  t.equal(first.config.devSeed, true)

  t.same(await demoRows(app), { accounts: 1, tenants: 1, owners: 1 }, 'demo account, tenant and Owner row exist')

  const curlLines = first.logs().filter((l) => l.msg.includes('curl '))
  t.equal(curlLines.length, 1, 'exactly one log line carries the curl')
  const line = curlLines[0]!
  t.equal(line.level, 30, 'logged at info')
  t.equal(line.demoTenantId, DEMO.tenantId)
  const curl = parseCurl(line.msg)
  const url = new URL(curl.url)
  t.equal(url.pathname, SCM)
  t.equal(url.port, String(first.config.port), 'the curl targets the configured port')
  t.equal(url.hostname, 'localhost', 'listening on every interface, localhost among them')
  t.equal(line.docs, `http://localhost:${first.config.port}/documentation`)
  t.match(line.msg, `open ${String(line.docs)}, Authorize with that token`, 'says how to use the explorer')
  t.match(curl.body, { tenantId: DEMO.tenantId, scmType: 'GITHUB' })

  const created = await app.inject({
    method: 'POST',
    url: url.pathname,
    headers: { authorization: curl.authorization, 'content-type': 'application/json' },
    payload: JSON.stringify(curl.body),
  })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { tenantId: DEMO.tenantId, scmType: 'GITHUB', createdByAccountId: DEMO.accountId, hasAccessToken: true })
  t.equal(await app.db.integrations.get('scm')!.count({ where: { tenantId: DEMO.tenantId } }), 1, 'the SCM row is stored')
  const createdId = created.json().id as string

  await first.close()

  t.test('a restart on the same DATA_DIR reuses the demo rows and the dev secrets', async (t) => {
    const secretsBefore = fs.readFileSync(secretsFile, 'utf8')
    const second = await devApp(t, dataDir)
    t.equal(fs.readFileSync(secretsFile, 'utf8'), secretsBefore, 'the secrets file is not regenerated')
    t.same(await demoRows(second.app), { accounts: 1, tenants: 1, owners: 1 }, 'no duplicate demo rows')
    t.equal(second.logs().filter((l) => l.msg.includes('curl ')).length, 1)

    // The token the first start printed still verifies.
    const list = await second.app.inject({ url: `${SCM}?tenantId=${DEMO.tenantId}`, headers: { authorization: curl.authorization } })
    t.equal(list.statusCode, 200, list.body)
    t.same(
      (list.json().items as { id: string }[]).map((i) => i.id),
      [createdId],
    )

    // The stored token still decrypts: the credential key was kept too.
    const service = await mintToken(second.config.auth, { sub: 'service:release', scope: 'integrations:credentials:read' })
    const creds = await second.app.inject({ url: `${SCM}/${createdId}/credentials`, headers: { authorization: `Bearer ${service}` } })
    t.equal(creds.statusCode, 200, creds.body)
    t.equal(creds.json().credentials.accessToken, curl.body.accessToken)
  })
})

t.test('the curl and the docs link name the configured HOST, or PUBLIC_BASE_URL when set', async (t) => {
  for (const [env, base] of [
    [{ HOST: '127.0.0.1', PORT: '8181' }, 'http://127.0.0.1:8181'],
    [{ HOST: 'integrations.dev.internal' }, 'http://integrations.dev.internal:8080'],
    [{ HOST: '::1', PORT: '8181' }, 'http://[::1]:8181'],
    [{ HOST: '::' }, 'http://localhost:8080'],
    [{ HOST: '127.0.0.1', PUBLIC_BASE_URL: 'https://integrations.example.test/delivr/' }, 'https://integrations.example.test/delivr'],
  ] as const) {
    const dev = await devApp(t, tempDir(t), env)
    const line = dev.logs().find((l) => l.msg.includes('curl '))!
    t.equal(line.docs, `${base}/documentation`, JSON.stringify(env))
    t.equal(parseCurl(line.msg).url, `${base}${SCM}`, JSON.stringify(env))
    await dev.close()
  }
})

t.test('DEV_SEED=false starts without demo rows or a curl', async (t) => {
  const dev = await devApp(t, tempDir(t), { DEV_SEED: 'false' })
  t.same(await demoRows(dev.app), { accounts: 0, tenants: 0, owners: 0 })
  t.equal(dev.logs().filter((l) => l.msg.includes('curl ')).length, 0)
})

t.test('development with an issuer public key still starts and seeds, without minting', async (t) => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const dev = await devApp(t, tempDir(t), { AUTH_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() })
  t.equal(dev.config.usesDevSecrets, true, 'the credential key is still generated')
  t.same(await demoRows(dev.app), { accounts: 1, tenants: 1, owners: 1 })
  const lines = dev.logs().filter((l) => l.msg.includes('curl '))
  t.equal(lines.length, 1)
  t.notMatch(lines[0]!.msg, /Bearer eyJ/, 'no token this service could not have signed')
  t.notMatch(lines[0]!.msg, /npm run token/, 'no advice to mint tokens that would be refused')
})

t.test('the token CLI mints tokens the service accepts', async (t) => {
  const dataDir = tempDir(t)
  const run = await runTs(t, ['src/cli/token.ts', '--sub', 'some-account'], { DATA_DIR: dataDir })
  t.equal(run.code, 0, run.stderr)
  const token = run.stdout.trim()
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'prints one JWT')
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; exp: number }
  t.equal(claims.sub, 'some-account')
  t.ok(claims.exp > Date.now() / 1000, 'not expired')

  const { app } = await devApp(t, dataDir)
  const asNonMember = await app.inject({ url: `${SCM}?tenantId=${DEMO.tenantId}`, headers: { authorization: `Bearer ${token}` } })
  t.equal(asNonMember.statusCode, 404, 'authenticated, but the tenant is not theirs')
  const forged = `${token.slice(0, -4)}AAAA`
  const refused = await app.inject({ url: `${SCM}?tenantId=${DEMO.tenantId}`, headers: { authorization: `Bearer ${forged}` } })
  t.equal(refused.statusCode, 401, 'a token signed with another secret is refused')

  t.test('--help prints usage and exits 0', async (t) => {
    const help = await runTs(t, ['src/cli/token.ts', '--help'], { DATA_DIR: dataDir })
    t.equal(help.code, 0)
    t.match(help.stdout + help.stderr, /npm run token -- --sub <accountId>/)
  })

  t.test('refuses a --ttl longer than the service accepts, printing no token', async (t) => {
    for (const [ttl, env] of [
      ['30d', {}],
      ['2h', { AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' }],
    ] as const) {
      const run = await runTs(t, ['src/cli/token.ts', '--sub', 'some-account', '--ttl', ttl], { DATA_DIR: dataDir, ...env })
      t.not(run.code, 0, ttl)
      t.equal(run.stdout.trim(), '', `${ttl}: prints no token`)
      t.match(run.stderr, /AUTH_MAX_TOKEN_LIFETIME_SECONDS/, `${ttl}: names the limit`)
    }
  })

  t.test('without --sub prints usage and fails', async (t) => {
    const missing = await runTs(t, ['src/cli/token.ts'], { DATA_DIR: dataDir })
    t.not(missing.code, 0)
    t.equal(missing.stdout.trim(), '', 'prints no token')
    t.match(missing.stderr, /npm run token -- --sub <accountId>/)
  })
})

t.test('the server process', async (t) => {
  t.test('starts on the embedded defaults, answers readiness and stops cleanly on SIGTERM', async (t) => {
    const dataDir = tempDir(t)
    const port = await freePort()
    const child = spawn(process.execPath, [...TSX, 'src/server.ts'], {
      cwd: ROOT,
      env: childEnv({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json' }),
    })
    const exited = track(t, child)
    let done = false
    void exited.finally(() => (done = true))

    let ready: Response | undefined
    const deadline = Date.now() + 60_000
    while (!done && Date.now() < deadline) {
      ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined)
      if (ready?.status === 200) break
      await new Promise((r) => setTimeout(r, 250))
    }
    t.equal(ready?.status, 200, 'readiness answers 200 over HTTP')
    t.same(await ready?.json(), { status: 'ok', database: 'up', missing: [] })

    child.kill('SIGTERM')
    const run = await within(exited, 20_000, 'shutdown')
    t.equal(run.code, 0, run.stderr)
    const logs = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine)
    t.ok(
      logs.some((l) => l.msg === `Server listening at http://127.0.0.1:${port}`),
      'listened on the configured host and port',
    )
    t.ok(
      logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'),
      'shut down gracefully',
    )
    t.equal(logs.filter((l) => l.msg.includes(`curl -sS -X POST http://127.0.0.1:${port}/`)).length, 1, 'printed how to call it')
  })

  t.test('refuses to start in production without secrets', async (t) => {
    // Started from an empty directory, so the default ./data would show up if anything were generated.
    const cwd = tempDir(t)
    const run = await runTs(t, [path.join(ROOT, 'src', 'server.ts')], { NODE_ENV: 'production' }, 30_000, cwd)
    t.equal(run.signal, null, 'exited on its own, within the time limit')
    t.not(run.code, 0)
    t.match(run.stderr, /AUTH_JWT_SECRET/)
    t.match(run.stderr, /CREDENTIAL_KEYS/)
    t.notMatch(run.stderr, /\n\s+at /, 'a message, not a stack trace')
    t.same(fs.readdirSync(cwd), [], 'no secret or database file generated')
  })
})
