import fs from 'node:fs'
import path from 'node:path'
import { createPublicKey } from 'node:crypto'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { EnvSchema, SECRET_ENV, type Env, type LongLivedMode, type SyncMode } from './env-schema.js'
import { parseCredentialKeys, type CredentialKeyring } from '../crypto/keyring.js'
import { loadOrCreateDevSecrets } from './dev-secrets.js'
import { parseAllowedHosts } from '../outbound/index.js'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export interface DatabaseConfig {
  dialect: 'mysql' | 'sqlite'
  /** Connection URI for MySQL; the file path (or ':memory:') for SQLite. */
  url: string
  storage?: string
  /** The database name (MySQL) or file name (SQLite): what DB_SYNC_FORCE must repeat. */
  name: string
  sync: SyncMode
  /** How long start-up waits for another instance's schema changes (MySQL advisory lock). */
  lockTimeoutSeconds?: number
  poolMax: number
  /** MySQL: connect and pool-acquire timeouts (the env schema's defaults when absent). */
  connectTimeoutMs?: number
  acquireTimeoutMs?: number
  /** Longest pause between probes while the database is down. */
  probeMaxIntervalMs?: number
}

export interface AuthConfig {
  algorithms: ('HS256' | 'RS256' | 'ES256')[]
  secret?: string
  publicKey?: string
  issuer?: string
  audience?: string
  /** Tolerance for the issuer's clock, both ways: iat ahead, exp behind. */
  clockSkewSeconds: number
  /** Longest exp - iat accepted. */
  maxTokenLifetimeSeconds: number
}

export interface Config {
  env: 'development' | 'production' | 'test'
  host: string
  port: number
  logLevel: string
  logFormat: 'json' | 'pretty'
  dataDir: string
  database: DatabaseConfig
  auth: AuthConfig
  credentials: CredentialKeyring
  verifyTimeoutMs: number
  outbound: {
    /** Exact `host:port` entries a tenant-given host may reach on a private address. */
    allowedHosts: ReadonlySet<string>
    /** Extra trusted CA certificates (PEM), from OUTBOUND_CA_FILE. */
    ca: string[]
  }
  providerApis: {
    github: string
    bitbucket: string
    slack: string
    appStore: string
    googleToken: string
    play: string
  }
  /** Short-lived tokens minted for consumers (POST …/{id}/access-token). */
  accessTokens: {
    /** refuse: the decrypted long-lived secret is not served for integrations that can mint a short-lived token. */
    longLivedCredentials: LongLivedMode
    /** A cached token is replaced this long before it expires. */
    refreshMarginSeconds: number
    appStoreLifetimeSeconds: number
  }
  http: {
    shutdownGraceMs: number
    requestTimeoutMs: number
    keepAliveTimeoutMs: number
    connectionTimeoutMs: number
    /** 0: unlimited. */
    maxConnections: number
    bodyLimitBytes: number
    trustProxy: boolean | number | string[]
    /** Where clients reach the service, without a trailing slash: the OpenAPI `servers` entry. */
    publicBaseUrl?: string
    metricsEnabled: boolean
    /** Requests that call a provider, per caller per window; counted in Redis when `redisUrl` is set, else per process. */
    verifyRateLimit: { max: number; windowMs: number; redisUrl?: string }
    maxEventLoopDelayMs: number
  }
  /** The audit trail's retention and where change events go. */
  events: {
    auditRetentionDays: number
    /** Absent: events wait in the outbox, delivered once webhooks are configured. */
    webhooks?: WebhookConfig
  }
  /** Scheduled re-verification, expiry warnings and pruning on this replica. */
  scheduler: {
    enabled: boolean
    intervalSeconds: number
    expiryWarningDays: number
    /** Per provider, per replica. */
    concurrency: number
  }
  /** Create the demo account, tenant and Owner row on first start. */
  devSeed: boolean
  /** True when the JWT secret or credential key came from ./data rather than the environment. */
  usesDevSecrets: boolean
}

export interface WebhookConfig {
  urls: string[]
  /** `whsec_…`, as the standardwebhooks library takes it. */
  secret: string
  maxAttempts: number
  retryBaseMs: number
}

const WEBHOOK_SECRET_SHAPE = /^whsec_([A-Za-z0-9+/]+={0,2})$/

/** Both or neither; never echoes either value (a URL may carry a token). */
function parseWebhooks(env: Env): WebhookConfig | undefined {
  if (!env.WEBHOOK_URLS && !env.WEBHOOK_SECRET) return undefined
  if (!env.WEBHOOK_URLS || !env.WEBHOOK_SECRET) {
    throw new ConfigError(['WEBHOOK_URLS and WEBHOOK_SECRET go together: set both (to deliver change events) or neither'])
  }
  const problems: string[] = []
  const urls = env.WEBHOOK_URLS.split(',')
    .map((u) => u.trim())
    .filter(Boolean)
  urls.forEach((url, i) => {
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) problems.push(`WEBHOOK_URLS entry ${i + 1} must be an http(s) URL`)
  })
  if (urls.length === 0) problems.push('WEBHOOK_URLS must list at least one http(s) URL')
  const key = WEBHOOK_SECRET_SHAPE.exec(env.WEBHOOK_SECRET)?.[1]
  const bytes = key ? Buffer.from(key, 'base64').length : 0
  if (bytes < 24 || bytes > 64) {
    problems.push('WEBHOOK_SECRET must be whsec_ followed by the base64 of 24 to 64 random bytes (e.g. whsec_$(openssl rand -base64 32))')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return { urls, secret: env.WEBHOOK_SECRET, maxAttempts: env.WEBHOOK_MAX_ATTEMPTS, retryBaseMs: env.WEBHOOK_RETRY_BASE_MS }
}

function describeError(schema: TSchema, value: unknown): string {
  const allowed = (schema.anyOf as TSchema[] | undefined)
    ?.map((s) => s.const as unknown)
    .filter((c): c is string | number => typeof c === 'string' || typeof c === 'number')
  if (allowed?.length) return `must be one of ${allowed.join(', ')}`
  if (schema.pattern && schema.description) return `must be ${schema.description}`
  if (schema.type === 'integer') {
    const range = schema.minimum !== undefined ? ` between ${schema.minimum} and ${schema.maximum}` : ''
    return `must be an integer${range}`
  }
  if (schema.minLength && typeof value === 'string') return `must be at least ${schema.minLength} characters`
  return 'is invalid'
}

function parseEnv(raw: NodeJS.ProcessEnv): Env {
  // Empty strings count as unset, as in most .env tooling.
  const given = Object.keys(EnvSchema.properties).filter((k) => raw[k] !== undefined && raw[k] !== '')
  const value = Value.Convert(EnvSchema, Value.Default(EnvSchema, Object.fromEntries(given.map((k) => [k, raw[k]])))) as Record<
    string,
    unknown
  >
  // Convert truncates ("1e3" and "true" become 1, "8080.5" becomes 8080): integers must be plain digits.
  for (const k of given) {
    if (EnvSchema.properties[k as keyof Env].type === 'integer' && !/^\d+$/.test(raw[k]!)) value[k] = raw[k]
  }
  const problems = [...Value.Errors(EnvSchema, value)].map((e) => {
    const name = e.path.slice(1)
    const shown = SECRET_ENV.has(name) ? '' : ` (got ${JSON.stringify(raw[name])})`
    return `${name} ${describeError(e.schema, e.value)}${shown}`
  })
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return value as Env
}

/** jose would refuse smaller RSA keys and other curves only once a token arrives, as a 500. */
function isUsablePublicKey(pem: string): boolean {
  try {
    const { asymmetricKeyType: type, asymmetricKeyDetails: details } = createPublicKey(pem)
    return (type === 'rsa' && (details?.modulusLength ?? 0) >= 2048) || (type === 'ec' && details?.namedCurve === 'prime256v1')
  } catch {
    return false
  }
}

function parseDatabase(env: Env, dataDir: string, production: boolean): DatabaseConfig {
  const url = env.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'delivr-integrations.sqlite')}`
  const sync = env.DB_SYNC ?? (production ? 'safe' : 'alter')
  if (sync === 'force' && production) {
    throw new ConfigError(['DB_SYNC=force drops every owned table and is refused with NODE_ENV=production'])
  }
  if (env.DB_ACQUIRE_TIMEOUT_MS < env.DB_CONNECT_TIMEOUT_MS) {
    throw new ConfigError(['DB_ACQUIRE_TIMEOUT_MS must be at least DB_CONNECT_TIMEOUT_MS: acquiring a connection may include opening it'])
  }
  const timeouts = {
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    acquireTimeoutMs: env.DB_ACQUIRE_TIMEOUT_MS,
    probeMaxIntervalMs: env.DB_PROBE_MAX_INTERVAL_MS,
    lockTimeoutSeconds: env.DB_LOCK_TIMEOUT_S,
  }
  let config: DatabaseConfig
  if (url.startsWith('sqlite:')) {
    const storage = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (!storage) throw new ConfigError(['DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/app.sqlite'])
    config = { dialect: 'sqlite', url, storage, name: path.basename(storage), sync, poolMax: 1, ...timeouts }
  } else {
    try {
      const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'))
      if (!parsed.hostname || parsed.pathname.length < 2) throw new Error('incomplete')
      config = {
        dialect: 'mysql',
        url: parsed.toString(),
        name: decodeURIComponent(parsed.pathname.slice(1)),
        sync,
        poolMax: env.DB_POOL_MAX,
        ...timeouts,
      }
    } catch {
      throw new ConfigError(['DATABASE_URL must look like mysql://user:pass@host:3306/database'])
    }
  }
  if (sync === 'force' && env.DB_SYNC_FORCE !== config.name) {
    throw new ConfigError([`DB_SYNC=force drops every owned table: confirm with DB_SYNC_FORCE=${config.name} (the database name)`])
  }
  return config
}

/** `true`, a hop count, or the gateway's addresses: whose X-Forwarded-For to believe. */
function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) return Number(value)
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
}

function parseOutbound(env: Env): Config['outbound'] {
  const problems: string[] = []
  let allowedHosts: Set<string> = new Set()
  try {
    allowedHosts = parseAllowedHosts(env.OUTBOUND_ALLOWED_HOSTS)
  } catch (err) {
    problems.push((err as Error).message)
  }
  let ca: string[] = []
  if (env.OUTBOUND_CA_FILE) {
    try {
      const pem = fs.readFileSync(env.OUTBOUND_CA_FILE, 'utf8')
      ca = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
      if (ca.length === 0) problems.push(`OUTBOUND_CA_FILE ${env.OUTBOUND_CA_FILE} holds no PEM certificate`)
    } catch {
      problems.push(`OUTBOUND_CA_FILE ${env.OUTBOUND_CA_FILE} cannot be read`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return { allowedHosts, ca }
}

/** Only the database settings: for tools (the schema CLI) that never touch tokens or secrets. */
export function loadDatabaseConfig(raw: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const env = parseEnv(raw)
  return parseDatabase(env, path.resolve(env.DATA_DIR), env.NODE_ENV === 'production')
}

export function loadConfig(raw: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnv(raw)
  const production = env.NODE_ENV === 'production'
  const dataDir = path.resolve(env.DATA_DIR)
  const problems: string[] = []

  if (env.AUTH_JWT_SECRET && env.AUTH_JWT_PUBLIC_KEY) {
    problems.push('AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY are both set: choose HS256 (secret) or RS256/ES256 (public key)')
  }
  const publicKey = env.AUTH_JWT_PUBLIC_KEY?.replace(/\\n/g, '\n')
  if (publicKey && !isUsablePublicKey(publicKey)) {
    problems.push('AUTH_JWT_PUBLIC_KEY must be a PEM public key: RSA of at least 2048 bits (RS256) or EC P-256 (ES256)')
  }
  if (production && env.DEV_SEED === 'true') {
    problems.push(
      "DEV_SEED=true writes a demo Owner into Delivr's tables and logs a token signed with the real secret: refused with NODE_ENV=production",
    )
  }
  const needsDevSecrets = !env.CREDENTIAL_KEYS || (!env.AUTH_JWT_SECRET && !env.AUTH_JWT_PUBLIC_KEY)
  if (production && needsDevSecrets) {
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWT_PUBLIC_KEY) {
      problems.push('AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY is required with NODE_ENV=production')
    }
    if (!env.CREDENTIAL_KEYS) problems.push('CREDENTIAL_KEYS is required with NODE_ENV=production')
  }
  if (env.TOKEN_REFRESH_MARGIN_SECONDS >= env.APPSTORE_TOKEN_LIFETIME_SECONDS) {
    problems.push(
      `TOKEN_REFRESH_MARGIN_SECONDS (${env.TOKEN_REFRESH_MARGIN_SECONDS}) must be less than APPSTORE_TOKEN_LIFETIME_SECONDS (${env.APPSTORE_TOKEN_LIFETIME_SECONDS}): a token is cached until the margin before it expires`,
    )
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const dev = needsDevSecrets ? loadOrCreateDevSecrets(dataDir) : undefined
  const jwtSecret = env.AUTH_JWT_SECRET ?? (env.AUTH_JWT_PUBLIC_KEY ? undefined : dev?.jwtSecret)
  let credentials: CredentialKeyring
  try {
    credentials = env.CREDENTIAL_KEYS
      ? parseCredentialKeys(env.CREDENTIAL_KEYS, env.CREDENTIAL_ACTIVE_KEY)
      : parseCredentialKeys(dev!.credentialKeys, undefined)
  } catch (err) {
    throw new ConfigError([(err as Error).message])
  }

  return {
    env: env.NODE_ENV ?? 'development',
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT ?? (!production && process.stdout.isTTY ? 'pretty' : 'json'),
    dataDir,
    database: parseDatabase(env, dataDir, production),
    auth: {
      algorithms: jwtSecret ? ['HS256'] : ['RS256', 'ES256'],
      secret: jwtSecret,
      publicKey,
      issuer: env.AUTH_JWT_ISSUER,
      audience: env.AUTH_JWT_AUDIENCE,
      clockSkewSeconds: env.AUTH_CLOCK_SKEW_SECONDS,
      maxTokenLifetimeSeconds: env.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    },
    credentials,
    verifyTimeoutMs: env.VERIFY_TIMEOUT_MS,
    outbound: parseOutbound(env),
    providerApis: {
      github: env.GITHUB_API_URL.replace(/\/+$/, ''),
      bitbucket: env.BITBUCKET_API_URL.replace(/\/+$/, ''),
      slack: env.SLACK_API_URL.replace(/\/+$/, ''),
      appStore: env.APPSTORE_API_URL.replace(/\/+$/, ''),
      googleToken: env.GOOGLE_TOKEN_URL,
      play: env.PLAY_API_URL.replace(/\/+$/, ''),
    },
    accessTokens: {
      longLivedCredentials: env.LONG_LIVED_CREDENTIALS === 'refuse' ? 'refuse' : 'allow',
      refreshMarginSeconds: env.TOKEN_REFRESH_MARGIN_SECONDS,
      appStoreLifetimeSeconds: env.APPSTORE_TOKEN_LIFETIME_SECONDS,
    },
    http: {
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
      connectionTimeoutMs: env.CONNECTION_TIMEOUT_MS,
      maxConnections: env.MAX_CONNECTIONS,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      ...(env.PUBLIC_BASE_URL ? { publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/+$/, '') } : {}),
      metricsEnabled: env.METRICS_ENABLED === 'true',
      verifyRateLimit: { max: env.RATE_LIMIT_VERIFY_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS, redisUrl: env.REDIS_URL },
      maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
    },
    events: { auditRetentionDays: env.AUDIT_RETENTION_DAYS, webhooks: parseWebhooks(env) },
    scheduler: {
      enabled: env.SCHEDULER === 'on',
      intervalSeconds: env.REVERIFY_INTERVAL_SECONDS,
      expiryWarningDays: env.EXPIRY_WARNING_DAYS,
      concurrency: env.REVERIFY_CONCURRENCY,
    },
    devSeed: env.DEV_SEED ? env.DEV_SEED === 'true' : !production && dev !== undefined,
    usesDevSecrets: dev !== undefined,
  }
}
