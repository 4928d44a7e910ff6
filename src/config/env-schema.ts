import { Type, type Static } from '@sinclair/typebox'

const Port = Type.Integer({ minimum: 1, maximum: 65535 })
const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', description: 'an http(s) URL' })
const oneOf = <T extends string>(values: readonly T[], options: { default?: T; description?: string } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  )

export const SYNC_MODES = ['alter', 'safe', 'force', 'off'] as const
export type SyncMode = (typeof SYNC_MODES)[number]
export const LONG_LIVED_MODES = ['allow', 'refuse'] as const
export type LongLivedMode = (typeof LONG_LIVED_MODES)[number]

/**
 * Every environment variable the service reads. `.env.example` and the README's
 * configuration table follow this schema; the `description` is what they show.
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Optional(oneOf(['development', 'production', 'test'])),
  HOST: Type.String({ default: '0.0.0.0', description: 'Interface to listen on' }),
  PORT: Type.Integer({ ...Port, default: 8080, description: 'Port to listen on' }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  LOG_FORMAT: Type.Optional(
    oneOf(['json', 'pretty'], { description: 'pretty: human-readable lines (default in development on a terminal)' }),
  ),
  SHUTDOWN_GRACE_MS: Type.Integer({
    minimum: 0,
    maximum: 600000,
    default: 10000,
    description: 'How long SIGTERM waits for in-flight requests',
  }),
  REQUEST_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    maximum: 600000,
    default: 30000,
    description: 'Longest a request may take to arrive and be answered',
  }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    maximum: 600000,
    default: 72000,
    description: 'Idle keep-alive; above the gateway idle timeout',
  }),
  CONNECTION_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 600000,
    default: 0,
    description: 'Socket inactivity timeout (0: none beyond the request timeout)',
  }),
  MAX_CONNECTIONS: Type.Integer({
    minimum: 0,
    maximum: 1000000,
    default: 0,
    description: 'Most connections open at once; more are closed on arrival (0: unlimited)',
  }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10485760, default: 262144, description: 'Largest request body; larger is 413' }),
  TRUST_PROXY: Type.Optional(
    Type.String({ minLength: 1, description: 'true, a hop count, or comma-separated proxy addresses/CIDRs (the gateway)' }),
  ),
  PUBLIC_BASE_URL: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s?#]+$',
      description: 'an http(s) URL without query or fragment, where clients reach this service (the OpenAPI servers entry)',
    }),
  ),
  METRICS_ENABLED: oneOf(['true', 'false'], { default: 'true', description: 'Serve Prometheus metrics at /metrics' }),
  RATE_LIMIT_VERIFY_MAX: Type.Integer({
    minimum: 1,
    maximum: 100000,
    default: 30,
    description: 'Requests that call a provider, per caller per window',
  }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, maximum: 3600000, default: 60000 }),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?://[^\\s]+$',
      description: 'a redis:// or rediss:// URL',
    }),
  ),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    minimum: 0,
    maximum: 60000,
    default: 1000,
    description: 'Above this the service sheds load with 503 (0: off)',
  }),
  DATA_DIR: Type.String({ default: './data', minLength: 1, description: 'Where development secrets and the SQLite file live' }),
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^(mysql|mariadb|sqlite):', description: 'mysql://user:pass@host:3306/db or sqlite:path/to/file' }),
  ),
  DB_SYNC: Type.Optional(oneOf(SYNC_MODES)),
  DB_SYNC_FORCE: Type.Optional(
    Type.String({ minLength: 1, description: 'The database name, confirming DB_SYNC=force may drop owned tables' }),
  ),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'Largest MySQL connection pool' }),
  DB_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 2000,
    description: 'Longest a new MySQL connection may take to open',
  }),
  DB_ACQUIRE_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 120000,
    default: 5000,
    description: 'Longest a query waits for a pooled MySQL connection, opening included',
  }),
  DB_LOCK_TIMEOUT_S: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description: 'How long start-up waits for another instance applying schema changes',
  }),
  DB_PROBE_MAX_INTERVAL_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 2000,
    description: 'Longest pause between recovery probes while the database is down',
  }),
  DEV_SEED: Type.Optional(oneOf(['true', 'false'])),
  AUTH_JWT_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HS256 secret, at least 32 characters' })),
  AUTH_JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1, description: 'PEM (SPKI) public key for RS256 / ES256' })),
  AUTH_JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_CLOCK_SKEW_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 600,
    default: 60,
    description: 'How far a token issuer clock may be off: iat that far ahead, exp that far behind, are still accepted',
  }),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 31536000,
    default: 86400,
    description: 'Longest a token may live (exp - iat); longer-lived tokens are refused with 401',
  }),
  CREDENTIAL_KEYS: Type.Optional(Type.String({ minLength: 1, description: 'id:base64-32-bytes, comma separated' })),
  CREDENTIAL_ACTIVE_KEY: Type.Optional(Type.String({ minLength: 1, description: 'Key id that encrypts new writes' })),
  VERIFY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120000, default: 10000 }),
  OUTBOUND_ALLOWED_HOSTS: Type.Optional(Type.String({ description: 'host:port entries, comma separated' })),
  OUTBOUND_CA_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of extra CA certificates to trust' })),
  GITHUB_API_URL: Type.String({ ...HttpUrl, default: 'https://api.github.com' }),
  BITBUCKET_API_URL: Type.String({ ...HttpUrl, default: 'https://api.bitbucket.org/2.0' }),
  SLACK_API_URL: Type.String({ ...HttpUrl, default: 'https://slack.com/api' }),
  APPSTORE_API_URL: Type.String({ ...HttpUrl, default: 'https://api.appstoreconnect.apple.com' }),
  GOOGLE_TOKEN_URL: Type.String({ ...HttpUrl, default: 'https://oauth2.googleapis.com/token' }),
  PLAY_API_URL: Type.String({ ...HttpUrl, default: 'https://androidpublisher.googleapis.com' }),
  LONG_LIVED_CREDENTIALS: oneOf(LONG_LIVED_MODES, {
    default: 'allow',
    description: 'refuse: GET …/credentials answers 403 for integrations that can mint short-lived tokens (use …/access-token)',
  }),
  TOKEN_REFRESH_MARGIN_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 1800,
    default: 300,
    description: 'A cached short-lived token is replaced this long before it expires, so a consumer always gets at least this long',
  }),
  APPSTORE_TOKEN_LIFETIME_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 1200,
    default: 1200,
    description: 'Lifetime of minted App Store Connect tokens; Apple accepts at most 1200 (20 minutes)',
  }),
  AUDIT_RETENTION_DAYS: Type.Integer({
    minimum: 1,
    maximum: 36500,
    default: 365,
    description: 'Audit events older than this are pruned by the scheduler, in small batches',
  }),
  SCHEDULER: oneOf(['on', 'off'], {
    default: 'on',
    description: 'off: this replica neither re-verifies, warns of expiry nor prunes (webhook delivery still runs)',
  }),
  REVERIFY_INTERVAL_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 31536000,
    default: 86400,
    description: 'How often each active integration is re-verified (with ±10% jitter)',
  }),
  EXPIRY_WARNING_DAYS: Type.Integer({
    minimum: 0,
    maximum: 365,
    default: 14,
    description: 'A credential expiring within this many days raises integration.credential_expiring, once per expiry',
  }),
  REVERIFY_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 4,
    description: 'Scheduled verifications in flight at once per provider, per replica',
  }),
  WEBHOOK_URLS: Type.Optional(Type.String({ minLength: 1, description: 'http(s) URLs that receive change events, comma separated' })),
  WEBHOOK_SECRET: Type.Optional(
    Type.String({ minLength: 1, description: 'whsec_ and base64 of 24 to 64 random bytes: signs change events (Standard Webhooks)' }),
  ),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 12,
    description: 'Deliveries tried per event before it is dead-lettered',
  }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({
    minimum: 10,
    maximum: 3600000,
    default: 5000,
    description: 'The first retry backoff; each retry doubles it, with full jitter',
  }),
})

export type Env = Static<typeof EnvSchema>

/** Variables whose values must never be echoed in an error message. */
export const SECRET_ENV = new Set(['AUTH_JWT_SECRET', 'CREDENTIAL_KEYS', 'DATABASE_URL', 'REDIS_URL', 'WEBHOOK_SECRET', 'WEBHOOK_URLS'])
