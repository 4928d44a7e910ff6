import path from 'node:path'
import type { Secrets } from './secrets.js'
import { startServer } from './server-process.js'

export interface ServerSettings {
  root: string
  resultsDir: string
  databaseUrl: string
  secrets: Secrets
  cpuProf: boolean
  /** Node flags for the service only (the baseline runs as it is). */
  nodeFlags?: string[]
}

/** Only what the run sets: nothing from the caller's shell (a stray DATABASE_URL or key) leaks in. */
function environment(s: ServerSettings): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: s.databaseUrl,
    DB_SYNC: 'safe',
    DB_POOL_MAX: '10',
    AUTH_JWT_SECRET: s.secrets.jwtSecret,
    CREDENTIAL_KEYS: s.secrets.credentialKeys,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    METRICS_ENABLED: 'true',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_VERIFY_MAX: '100000',
  }
}

/** Written when the process exits, one folder per server. */
function profile(s: ServerSettings, name: string): string[] {
  return s.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(s.resultsDir, 'profiles', name)] : []
}

/** The built service, as production runs it: node dist/src/server.js. */
export function startService(s: ServerSettings) {
  return startServer({
    name: 'service',
    args: [...(s.nodeFlags ?? []), ...profile(s, 'service'), path.join(s.root, 'dist/src/server.js')],
    env: environment(s),
    readyPath: '/health/ready',
    logFile: path.join(s.resultsDir, 'service.log'),
  })
}

export function startBaseline(s: ServerSettings) {
  return startServer({
    name: 'baseline',
    args: [...profile(s, 'baseline'), '--import', 'tsx', path.join(s.root, 'scripts/bench/baseline.ts')],
    env: environment(s),
    readyPath: '/health',
    logFile: path.join(s.resultsDir, 'baseline.log'),
  })
}
