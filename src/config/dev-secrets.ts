import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

export interface DevSecrets {
  jwtSecret: string
  /** In CREDENTIAL_KEYS form: `id:base64-32-bytes`. */
  credentialKeys: string
}

export const DEV_SECRETS_FILE = 'dev-secrets.json'

/**
 * Development only: a JWT secret and a credential key generated on first start and kept
 * under the data directory (0600) so tokens and stored credentials survive restarts.
 */
export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, DEV_SECRETS_FILE)
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const fresh: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    credentialKeys: `dev1:${randomBytes(32).toString('base64')}`,
  }
  try {
    // 'wx' fails when the file exists, so two processes starting at once keep one secret.
    fs.writeFileSync(file, JSON.stringify(fresh, null, 2) + '\n', { flag: 'wx', mode: 0o600 })
    return fresh
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  fs.chmodSync(file, 0o600)
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DevSecrets>
  if (typeof stored.jwtSecret !== 'string' || typeof stored.credentialKeys !== 'string') {
    throw new Error(`${file} is not a development secrets file; move it away to generate a new one`)
  }
  return { jwtSecret: stored.jwtSecret, credentialKeys: stored.credentialKeys }
}
