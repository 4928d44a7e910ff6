import path from 'node:path'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { EnvSchema, SECRET_ENV, type Env, type SyncMode } from './env-schema.js'
import { parseCredentialKeys, type CredentialKeyring } from '../crypto/keyring.js'
import { loadOrCreateDevSecrets } from './dev-secrets.js'

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
  sync: SyncMode
  poolMax: number
}

export interface AuthConfig {
  algorithms: ('HS256' | 'RS256' | 'ES256')[]
  secret?: string
  publicKey?: string
  issuer?: string
  audience?: string
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
  outboundAllowedHosts: string | undefined
  providerApis: {
    github: string
    bitbucket: string
    slack: string
    appStore: string
    googleToken: string
    play: string
  }
  /** Create the demo account, tenant and Owner row on first start. */
  devSeed: boolean
  /** True when the JWT secret or credential key came from ./data rather than the environment. */
  usesDevSecrets: boolean
}

function describeError(schema: TSchema, value: unknown): string {
  const allowed = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const).filter((c) => c !== undefined)
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
  const keys = Object.keys(EnvSchema.properties)
  // Empty strings count as unset, as in most .env tooling.
  const picked = Object.fromEntries(keys.filter((k) => raw[k] !== undefined && raw[k] !== '').map((k) => [k, raw[k]]))
  const value = Value.Convert(EnvSchema, Value.Default(EnvSchema, picked))
  const problems = [...Value.Errors(EnvSchema, value)].map((e) => {
    const name = e.path.slice(1)
    const shown = SECRET_ENV.has(name) ? '' : ` (got ${JSON.stringify(raw[name])})`
    return `${name} ${describeError(e.schema, e.value)}${shown}`
  })
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return value as Env
}

function parseDatabase(env: Env, dataDir: string, production: boolean): DatabaseConfig {
  const url = env.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'delivr-integrations.sqlite')}`
  const sync = env.DB_SYNC ?? (production ? 'safe' : 'alter')
  if (sync === 'force' && production) {
    throw new ConfigError(['DB_SYNC=force drops every owned table and is refused with NODE_ENV=production'])
  }
  if (url.startsWith('sqlite:')) {
    const storage = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (!storage) throw new ConfigError(['DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/app.sqlite'])
    return { dialect: 'sqlite', url, storage, sync, poolMax: 1 }
  }
  try {
    const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'))
    if (!parsed.hostname || parsed.pathname.length < 2) throw new Error('incomplete')
    return { dialect: 'mysql', url: parsed.toString(), sync, poolMax: env.DB_POOL_MAX }
  } catch {
    throw new ConfigError(['DATABASE_URL must look like mysql://user:pass@host:3306/database'])
  }
}

export function loadConfig(raw: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnv(raw)
  const production = env.NODE_ENV === 'production'
  const dataDir = path.resolve(env.DATA_DIR)
  const problems: string[] = []

  if (env.AUTH_JWT_SECRET && env.AUTH_JWT_PUBLIC_KEY) {
    problems.push('AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY are both set: choose HS256 (secret) or RS256/ES256 (public key)')
  }
  const needsDevSecrets = !env.CREDENTIAL_KEYS || (!env.AUTH_JWT_SECRET && !env.AUTH_JWT_PUBLIC_KEY)
  if (production && needsDevSecrets) {
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWT_PUBLIC_KEY) {
      problems.push('AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY is required with NODE_ENV=production')
    }
    if (!env.CREDENTIAL_KEYS) problems.push('CREDENTIAL_KEYS is required with NODE_ENV=production')
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
      publicKey: env.AUTH_JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      issuer: env.AUTH_JWT_ISSUER,
      audience: env.AUTH_JWT_AUDIENCE,
    },
    credentials,
    verifyTimeoutMs: env.VERIFY_TIMEOUT_MS,
    outboundAllowedHosts: env.OUTBOUND_ALLOWED_HOSTS,
    providerApis: {
      github: env.GITHUB_API_URL.replace(/\/+$/, ''),
      bitbucket: env.BITBUCKET_API_URL.replace(/\/+$/, ''),
      slack: env.SLACK_API_URL.replace(/\/+$/, ''),
      appStore: env.APPSTORE_API_URL.replace(/\/+$/, ''),
      googleToken: env.GOOGLE_TOKEN_URL,
      play: env.PLAY_API_URL.replace(/\/+$/, ''),
    },
    devSeed: env.DEV_SEED ? env.DEV_SEED === 'true' : !production && dev !== undefined,
    usesDevSecrets: dev !== undefined,
  }
}
