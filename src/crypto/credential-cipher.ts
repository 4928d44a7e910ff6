import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { CredentialKeyring } from './keyring.js'

/** Where a secret lives. Bound as additional authenticated data, so a ciphertext copied elsewhere fails. */
export interface SecretLocation {
  /** The row's tenant; bound from `enc:v2` on, so a row moved to another tenant does not decrypt. */
  tenantId: string
  kind: string
  id: string
  field: string
}

export class CredentialDecryptError extends Error {
  constructor(
    readonly location: SecretLocation,
    /** Why, without the stored value: safe to log. */
    readonly reason: string,
  ) {
    super(`Stored ${location.field} of ${location.kind} integration ${location.id} cannot be decrypted: ${reason}`)
    this.name = 'CredentialDecryptError'
  }
}

const IV_BYTES = 12
// Without an explicit length, GCM accepts a tag truncated to 4 bytes, which makes forgery cheap.
const TAG_BYTES = 16

/** What each stored-value version binds as additional authenticated data. */
const AAD = {
  // Written before the tenant was bound: still read, rewritten as v2 by `npm run rotate-keys`.
  v1: ({ kind, id, field }: SecretLocation) => `delivr-integrations|${kind}|${id}|${field}`,
  // A JSON array: no value can be shifted into its neighbour's place.
  v2: ({ tenantId, kind, id, field }: SecretLocation) => JSON.stringify(['delivr-integrations', 2, tenantId, kind, id, field]),
} as const
type Version = keyof typeof AAD
const CURRENT: Version = 'v2'

interface Parsed {
  version: Version
  keyId: string
  iv: string
  tag: string
  body: string
}

function parse(stored: string): Parsed | undefined {
  const parts = stored.split(':')
  if (parts.length !== 6 || parts[0] !== 'enc' || !Object.hasOwn(AAD, parts[1]!)) return undefined
  const [, version, keyId, iv, tag, body] = parts as [string, Version, string, string, string, string]
  return { version, keyId, iv, tag, body }
}

/**
 * AES-256-GCM with a fresh IV per write. Stored form:
 * `enc:v2:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts), the row's tenant, kind, id and
 * field bound as additional data; `enc:v1:` values (without the tenant) are still read.
 */
export function createCredentialCipher(keyring: CredentialKeyring) {
  const fingerprintKey = Buffer.from(
    hkdfSync('sha256', keyring.keys.get(keyring.activeKeyId)!, Buffer.alloc(0), 'delivr-integrations fingerprint', 32),
  )

  function encrypt(plaintext: string, location: SecretLocation): string {
    const keyId = keyring.activeKeyId
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', keyring.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(AAD[CURRENT](location), 'utf8'))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))
    return ['enc', CURRENT, keyId, ...parts].join(':')
  }

  function decrypt(stored: string, location: SecretLocation): string {
    const parsed = parse(stored)
    if (!parsed) throw new CredentialDecryptError(location, 'not in the encrypted format')
    const { version, keyId, iv, tag, body } = parsed
    const key = keyring.keys.get(keyId)
    if (!key) throw new CredentialDecryptError(location, `key "${keyId}" is not configured in CREDENTIAL_KEYS`)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES })
      decipher.setAAD(Buffer.from(AAD[version](location), 'utf8'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      throw new CredentialDecryptError(location, 'authentication failed (wrong key or tampered value)')
    }
  }

  /** The key id a stored value names, or undefined when it is not in the encrypted format. */
  function keyIdOf(stored: string): string | undefined {
    return parse(stored)?.keyId
  }

  /** Whether a stored value is written as `encrypt` writes today: the current version, under the active key. */
  function isCurrent(stored: string): boolean {
    const parsed = parse(stored)
    return parsed?.version === CURRENT && parsed.keyId === keyring.activeKeyId
  }

  /** The stored-value version (`v1`, `v2`), or undefined when it is not in the encrypted format. */
  function versionOf(stored: string): Version | undefined {
    return parse(stored)?.version
  }

  /** Short, keyed, non-reversible: tells two secrets apart without revealing either. */
  function fingerprint(plaintext: string): string {
    return createHmac('sha256', fingerprintKey).update(plaintext, 'utf8').digest('hex').slice(0, 16)
  }

  return { activeKeyId: keyring.activeKeyId, encrypt, decrypt, keyIdOf, isCurrent, versionOf, fingerprint }
}

export type CredentialCipher = ReturnType<typeof createCredentialCipher>
