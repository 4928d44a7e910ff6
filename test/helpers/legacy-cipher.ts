import { createCipheriv, randomBytes } from 'node:crypto'
import type { SecretLocation } from '../../src/crypto/credential-cipher.js'

/**
 * A secret as the service stored it before the tenant was bound: `enc:v1`, with only kind, id
 * and field as additional authenticated data. `key` is the base64 key material.
 */
export function sealV1(keyId: string, key: string, plaintext: string, { kind, id, field }: Omit<SecretLocation, 'tenantId'>): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv, { authTagLength: 16 })
  cipher.setAAD(Buffer.from(`delivr-integrations|${kind}|${id}|${field}`, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return ['enc', 'v1', keyId, ...[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))].join(':')
}
