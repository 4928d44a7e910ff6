import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'

function dataDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivr-config-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const jwtSecret = () => randomBytes(32).toString('hex')
const credentialKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`

function publicKeyPem(options: { modulusLength: number } | { namedCurve: string }): string {
  const { publicKey } = 'namedCurve' in options ? generateKeyPairSync('ec', options) : generateKeyPairSync('rsa', options)
  return publicKey.export({ type: 'spki', format: 'pem' }).toString()
}

/** The ConfigError message for an environment that must be refused. */
function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  throw new Error('the configuration was accepted')
}

t.test('with nothing but DATA_DIR set, starts on the embedded defaults', async (t) => {
  const dir = dataDir(t)
  const config = loadConfig({ DATA_DIR: dir })
  t.equal(config.env, 'development')
  t.equal(config.port, 8080)
  t.match(config.database, {
    dialect: 'sqlite',
    url: `sqlite:${path.join(dir, 'delivr-integrations.sqlite')}`,
    storage: path.join(dir, 'delivr-integrations.sqlite'),
    sync: 'alter',
  })
  t.same(config.auth.algorithms, ['HS256'])
  t.ok(config.usesDevSecrets)
  t.ok(config.devSeed)
  t.equal(config.verifyTimeoutMs, 10000)
  t.equal(config.providerApis.github, 'https://api.github.com')
})

t.test('keeps a generated development secret in a 0600 file and reuses it', async (t) => {
  const dir = dataDir(t)
  const first = loadConfig({ DATA_DIR: dir })
  const file = path.join(dir, 'dev-secrets.json')
  t.equal(fs.statSync(file).mode & 0o777, 0o600)
  t.ok(first.auth.secret && first.auth.secret.length >= 32)
  t.equal(first.credentials.keys.get(first.credentials.activeKeyId)?.length, 32)

  const second = loadConfig({ DATA_DIR: dir })
  t.equal(second.auth.secret, first.auth.secret)
  t.equal(second.credentials.activeKeyId, first.credentials.activeKeyId)
  t.same(second.credentials.keys.get(second.credentials.activeKeyId), first.credentials.keys.get(first.credentials.activeKeyId))
})

t.test('in production, refuses to start without secrets and generates nothing', async (t) => {
  const dir = dataDir(t)
  const message = refusal({ DATA_DIR: dir, NODE_ENV: 'production' })
  t.match(message, /AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY is required/)
  t.match(message, /CREDENTIAL_KEYS is required/)
  t.same(fs.readdirSync(dir), [])
})

t.test('in production, requires CREDENTIAL_KEYS even when the JWT secret is set', async (t) => {
  const dir = dataDir(t)
  const message = refusal({ DATA_DIR: dir, NODE_ENV: 'production', AUTH_JWT_SECRET: jwtSecret() })
  t.match(message, /CREDENTIAL_KEYS is required/)
  t.notMatch(message, /AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY/)
  t.same(fs.readdirSync(dir), [])
})

t.test('in production, creates missing tables only and seeds nothing by default', async (t) => {
  const dir = dataDir(t)
  const config = loadConfig({ DATA_DIR: dir, NODE_ENV: 'production', AUTH_JWT_SECRET: jwtSecret(), CREDENTIAL_KEYS: credentialKey('k1') })
  t.equal(config.database.sync, 'safe')
  t.equal(config.usesDevSecrets, false)
  t.equal(config.devSeed, false)
  t.same(fs.readdirSync(dir), [])
})

t.test('refuses DB_SYNC=force in production, and elsewhere without the database name as confirmation', async (t) => {
  const env = { DATA_DIR: dataDir(t), NODE_ENV: 'production', AUTH_JWT_SECRET: jwtSecret(), CREDENTIAL_KEYS: credentialKey('k1') }
  t.match(refusal({ ...env, DB_SYNC: 'force' }), /DB_SYNC=force .*refused with NODE_ENV=production/)
  t.match(refusal({ ...env, NODE_ENV: 'development', DB_SYNC: 'force' }), /confirm with DB_SYNC_FORCE=delivr-integrations\.sqlite/)
  t.match(refusal({ ...env, NODE_ENV: 'development', DB_SYNC: 'force', DB_SYNC_FORCE: 'another.sqlite' }), /DB_SYNC_FORCE/)
  const confirmed = { ...env, NODE_ENV: 'development', DB_SYNC: 'force', DB_SYNC_FORCE: 'delivr-integrations.sqlite' }
  t.equal(loadConfig(confirmed).database.sync, 'force')
})

t.test('refuses DEV_SEED=true in production: no demo Owner in Delivr tables, no token signed with the production secret', async (t) => {
  const dir = dataDir(t)
  const env = { DATA_DIR: dir, NODE_ENV: 'production', AUTH_JWT_SECRET: jwtSecret(), CREDENTIAL_KEYS: credentialKey('k1') }
  t.match(refusal({ ...env, DEV_SEED: 'true' }), /DEV_SEED=true .*refused with NODE_ENV=production/)
  t.equal(loadConfig({ ...env, DEV_SEED: 'false' }).devSeed, false)
  t.equal(loadConfig({ ...env, NODE_ENV: 'development', DEV_SEED: 'true' }).devSeed, true)
  t.same(fs.readdirSync(dir), [])
})

t.test('names the variable of each bad value', async (t) => {
  const dir = dataDir(t)
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /PORT must be an integer between 1 and 65535 \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT must be an integer between 1 and 65535/],
    [{ PORT: '1e3' }, /PORT must be an integer/],
    [{ PORT: '8080.5' }, /PORT must be an integer/],
    [{ PORT: 'true' }, /PORT must be an integer/],
    [{ DB_SYNC: 'sometimes' }, /DB_SYNC must be one of alter, safe, force, off/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ DATABASE_URL: 'postgres://x' }, /DATABASE_URL must be mysql:\/\/.* or sqlite:/],
    [{ DATABASE_URL: 'mysql://root@127.0.0.1:3306' }, /DATABASE_URL must look like mysql:\/\//],
    [{ DATABASE_URL: 'sqlite:' }, /DATABASE_URL sqlite: needs a file path/],
    [{ VERIFY_TIMEOUT_MS: '5' }, /VERIFY_TIMEOUT_MS must be an integer between 100 and 120000/],
    [{ GITHUB_API_URL: 'ftp://x' }, /GITHUB_API_URL must be an http\(s\) URL/],
  ]
  for (const [env, expected] of cases) {
    t.match(refusal({ DATA_DIR: dir, ...env }), expected, JSON.stringify(env))
  }
})

t.test('reports several bad values together', async (t) => {
  const message = refusal({ DATA_DIR: dataDir(t), PORT: 'abc', LOG_LEVEL: 'loud', GITHUB_API_URL: 'ftp://x' })
  t.match(message, /PORT/)
  t.match(message, /LOG_LEVEL/)
  t.match(message, /GITHUB_API_URL/)
})

t.test('never echoes a secret value in its message', async (t) => {
  const dir = dataDir(t)
  const shortSecret = 'tooshort-but-secret'
  const secretMessage = refusal({ DATA_DIR: dir, AUTH_JWT_SECRET: shortSecret })
  t.match(secretMessage, /AUTH_JWT_SECRET must be at least 32 characters/)
  t.notOk(secretMessage.includes(shortSecret))

  const halfKey = randomBytes(16).toString('base64')
  const sizeMessage = refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: `k1:${halfKey}` })
  t.match(sizeMessage, /CREDENTIAL_KEYS key "k1" must decode from base64 to exactly 32 bytes/)
  t.notOk(sizeMessage.includes(halfKey))

  const bareKey = randomBytes(32).toString('base64')
  const idMessage = refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: bareKey })
  t.match(idMessage, /CREDENTIAL_KEYS entry 1 must be id:base64-key/)
  t.notOk(idMessage.includes(bareKey))

  const password = 'db-password-Zq9'
  for (const url of [`postgres://app:${password}@db.internal/delivr`, `mysql://app:${password}@db.internal`]) {
    const urlMessage = refusal({ DATA_DIR: dir, DATABASE_URL: url })
    t.match(urlMessage, /DATABASE_URL/)
    t.notOk(urlMessage.includes(password), url)
  }
  const redisMessage = refusal({ DATA_DIR: dir, REDIS_URL: `http://:${password}@cache.internal:6379` })
  t.match(redisMessage, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/)
  t.notOk(redisMessage.includes(password), 'REDIS_URL')
})

t.test('counts provider calls in Redis only when REDIS_URL is set', async (t) => {
  const dir = dataDir(t)
  t.equal(loadConfig({ DATA_DIR: dir }).http.verifyRateLimit.redisUrl, undefined)
  const url = 'rediss://:secret@cache.internal:6380/2'
  t.equal(loadConfig({ DATA_DIR: dir, REDIS_URL: url }).http.verifyRateLimit.redisUrl, url)
})

t.test('parses CREDENTIAL_KEYS and picks the active key', async (t) => {
  const dir = dataDir(t)
  const k1 = credentialKey('k1')
  const k2 = credentialKey('k2')
  const config = loadConfig({ DATA_DIR: dir, CREDENTIAL_KEYS: ` ${k1} , ${k2} `, CREDENTIAL_ACTIVE_KEY: 'k2' })
  t.equal(config.credentials.activeKeyId, 'k2')
  t.same([...config.credentials.keys.keys()], ['k1', 'k2'])
  t.same(config.credentials.keys.get('k1'), Buffer.from(k1.slice(3), 'base64'))

  t.match(
    refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: `${k1},${k2}` }),
    /CREDENTIAL_ACTIVE_KEY is required when CREDENTIAL_KEYS holds more than one key/,
  )
  t.match(
    refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: k1, CREDENTIAL_ACTIVE_KEY: 'k9' }),
    /CREDENTIAL_ACTIVE_KEY "k9" is not one of the CREDENTIAL_KEYS ids/,
  )
  t.match(refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: `${k1},${credentialKey('k1')}` }), /CREDENTIAL_KEYS lists key "k1" twice/)
  t.match(
    refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: credentialKey('bad id!') }),
    /CREDENTIAL_KEYS entry 1 must be id:base64-key with an id of letters, digits, _ or -/,
  )
  t.match(
    refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: `${k1},${credentialKey('')}`, CREDENTIAL_ACTIVE_KEY: 'k1' }),
    /CREDENTIAL_KEYS entry 2 must be id:base64-key/,
  )
  t.match(refusal({ DATA_DIR: dir, CREDENTIAL_KEYS: ' , ' }), /CREDENTIAL_KEYS holds no key/)
})

t.test('refuses both AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY', async (t) => {
  const secret = jwtSecret()
  const message = refusal({ DATA_DIR: dataDir(t), AUTH_JWT_SECRET: secret, AUTH_JWT_PUBLIC_KEY: publicKeyPem({ modulusLength: 2048 }) })
  t.match(message, /AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY are both set/)
  t.notOk(message.includes(secret))
})

t.test('accepts an RSA or P-256 public key, also written on one line with \\n escapes', async (t) => {
  const dir = dataDir(t)
  for (const pem of [publicKeyPem({ modulusLength: 2048 }), publicKeyPem({ namedCurve: 'P-256' })]) {
    const config = loadConfig({ DATA_DIR: dir, AUTH_JWT_PUBLIC_KEY: pem.replace(/\n/g, '\\n'), CREDENTIAL_KEYS: credentialKey('k1') })
    t.equal(config.auth.publicKey, pem)
    t.equal(config.auth.secret, undefined)
    t.notOk(config.auth.algorithms.includes('HS256'))
  }
})

t.test('refuses a public key that cannot verify RS256 or ES256 tokens', async (t) => {
  const dir = dataDir(t)
  const keys = {
    garbage: 'not a key',
    rsa1024: publicKeyPem({ modulusLength: 1024 }),
    p384: publicKeyPem({ namedCurve: 'P-384' }),
  }
  for (const [name, pem] of Object.entries(keys)) {
    t.match(refusal({ DATA_DIR: dir, AUTH_JWT_PUBLIC_KEY: pem }), /AUTH_JWT_PUBLIC_KEY must be a PEM public key/, name)
  }
})

t.test('treats empty variables as unset', async (t) => {
  const dir = dataDir(t)
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: '',
    DB_SYNC: '',
    LOG_LEVEL: '',
    AUTH_JWT_SECRET: '',
    CREDENTIAL_KEYS: '',
    DATABASE_URL: '',
  })
  t.equal(config.port, 8080)
  t.equal(config.database.sync, 'alter')
  t.equal(config.database.dialect, 'sqlite')
  t.equal(config.logLevel, 'info')
  t.ok(config.usesDevSecrets)
  t.match(
    refusal({ DATA_DIR: dir, NODE_ENV: 'production', AUTH_JWT_SECRET: '', CREDENTIAL_KEYS: '' }),
    /AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY is required/,
  )
})

t.test('parses a mysql or mariadb DATABASE_URL as the mysql dialect', async (t) => {
  const dir = dataDir(t)
  const mysql = loadConfig({ DATA_DIR: dir, DATABASE_URL: 'mysql://app:pw@db.internal:3306/delivr', DB_POOL_MAX: '25' })
  t.match(mysql.database, { dialect: 'mysql', url: 'mysql://app:pw@db.internal:3306/delivr', poolMax: 25, sync: 'alter' })
  t.equal(mysql.database.storage, undefined)
  const maria = loadConfig({ DATA_DIR: dir, DATABASE_URL: 'mariadb://app@db.internal/delivr' })
  t.match(maria.database, { dialect: 'mysql', url: 'mysql://app@db.internal/delivr' })
})

t.test('bounds database connects and acquires in seconds, and refuses an acquire shorter than a connect', async (t) => {
  const dir = dataDir(t)
  const url = 'mysql://app:pw@db.internal:3306/delivr'
  t.match(loadConfig({ DATA_DIR: dir, DATABASE_URL: url }).database, {
    connectTimeoutMs: 2000,
    acquireTimeoutMs: 5000,
    probeMaxIntervalMs: 2000,
  })
  const tuned = loadConfig({
    DATA_DIR: dir,
    DATABASE_URL: url,
    DB_CONNECT_TIMEOUT_MS: '1000',
    DB_ACQUIRE_TIMEOUT_MS: '3000',
    DB_PROBE_MAX_INTERVAL_MS: '5000',
  })
  t.match(tuned.database, { connectTimeoutMs: 1000, acquireTimeoutMs: 3000, probeMaxIntervalMs: 5000 })
  t.match(
    refusal({ DATA_DIR: dir, DATABASE_URL: url, DB_CONNECT_TIMEOUT_MS: '4000', DB_ACQUIRE_TIMEOUT_MS: '3000' }),
    /DB_ACQUIRE_TIMEOUT_MS must be at least DB_CONNECT_TIMEOUT_MS/,
  )
  t.match(refusal({ DATA_DIR: dir, DB_CONNECT_TIMEOUT_MS: '50' }), /DB_CONNECT_TIMEOUT_MS must be an integer between 100 and 60000/)
})

t.test('uses the configured values and trims trailing slashes from API bases', async (t) => {
  const config = loadConfig({
    DATA_DIR: dataDir(t),
    PORT: '3001',
    LOG_LEVEL: 'warn',
    VERIFY_TIMEOUT_MS: '2500',
    GITHUB_API_URL: 'http://127.0.0.1:9999/api/v3/',
    DEV_SEED: 'false',
  })
  t.equal(config.port, 3001)
  t.equal(config.logLevel, 'warn')
  t.equal(config.verifyTimeoutMs, 2500)
  t.equal(config.providerApis.github, 'http://127.0.0.1:9999/api/v3')
  t.equal(config.devSeed, false)
})

t.test('short-lived tokens: long-lived credentials allowed by default, a refresh margin below the App Store token lifetime', async (t) => {
  const dir = dataDir(t)
  t.same(loadConfig({ DATA_DIR: dir }).accessTokens, {
    longLivedCredentials: 'allow',
    refreshMarginSeconds: 300,
    appStoreLifetimeSeconds: 1200,
  })
  t.same(
    loadConfig({
      DATA_DIR: dir,
      LONG_LIVED_CREDENTIALS: 'refuse',
      TOKEN_REFRESH_MARGIN_SECONDS: '60',
      APPSTORE_TOKEN_LIFETIME_SECONDS: '600',
    }).accessTokens,
    { longLivedCredentials: 'refuse', refreshMarginSeconds: 60, appStoreLifetimeSeconds: 600 },
  )
  t.match(refusal({ DATA_DIR: dir, LONG_LIVED_CREDENTIALS: 'never' }), /LONG_LIVED_CREDENTIALS must be one of allow, refuse/)
  t.match(
    refusal({ DATA_DIR: dir, APPSTORE_TOKEN_LIFETIME_SECONDS: '3600' }),
    /APPSTORE_TOKEN_LIFETIME_SECONDS must be an integer between 60 and 1200/,
  )
  t.match(
    refusal({ DATA_DIR: dir, APPSTORE_TOKEN_LIFETIME_SECONDS: '300' }),
    /TOKEN_REFRESH_MARGIN_SECONDS \(300\) must be less than APPSTORE_TOKEN_LIFETIME_SECONDS \(300\)/,
  )
})
