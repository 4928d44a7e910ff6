import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { CredentialKeyring } from './keyring.js'

/** Where a secret lives. Bound as additional authenticated data, so a ciphertext copied elsewhere fails. */
export interface SecretLocation {
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

const PREFIX = 'enc:v1'
const IV_BYTES = 12
// Without an explicit length, GCM accepts a tag truncated to 4 bytes, which makes forgery cheap.
const TAG_BYTES = 16

function aad({ kind, id, field }: SecretLocation): Buffer {
  return Buffer.from(`delivr-integrations|${kind}|${id}|${field}`, 'utf8')
}

/**
 * AES-256-GCM with a fresh IV per write. Stored form:
 * `enc:v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts).
 */
export function createCredentialCipher(keyring: CredentialKeyring) {
  const fingerprintKey = Buffer.from(
    hkdfSync('sha256', keyring.keys.get(keyring.activeKeyId)!, Buffer.alloc(0), 'delivr-integrations fingerprint', 32),
  )

  function encrypt(plaintext: string, location: SecretLocation): string {
    const keyId = keyring.activeKeyId
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', keyring.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(aad(location))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))
    return [PREFIX, keyId, ...parts].join(':')
  }

  function decrypt(stored: string, location: SecretLocation): string {
    const parts = stored.split(':')
    if (parts.length !== 6 || `${parts[0]}:${parts[1]}` !== PREFIX) {
      throw new CredentialDecryptError(location, 'not in the encrypted format')
    }
    const [, , keyId, iv, tag, body] = parts as [string, string, string, string, string, string]
    const key = keyring.keys.get(keyId)
    if (!key) throw new CredentialDecryptError(location, `key "${keyId}" is not configured in CREDENTIAL_KEYS`)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES })
      decipher.setAAD(aad(location))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      throw new CredentialDecryptError(location, 'authentication failed (wrong key or tampered value)')
    }
  }

  /** The key id a stored value names, or undefined when it is not in the encrypted format. */
  function keyIdOf(stored: string): string | undefined {
    const parts = stored.split(':')
    return parts.length === 6 && `${parts[0]}:${parts[1]}` === PREFIX ? parts[2] : undefined
  }

  /** Short, keyed, non-reversible: tells two secrets apart without revealing either. */
  function fingerprint(plaintext: string): string {
    return createHmac('sha256', fingerprintKey).update(plaintext, 'utf8').digest('hex').slice(0, 16)
  }

  return { activeKeyId: keyring.activeKeyId, encrypt, decrypt, keyIdOf, fingerprint }
}

export type CredentialCipher = ReturnType<typeof createCredentialCipher>
