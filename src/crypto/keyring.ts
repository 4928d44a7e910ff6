export interface CredentialKeyring {
  keys: ReadonlyMap<string, Buffer>
  activeKeyId: string
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

/** Parses `CREDENTIAL_KEYS` (`id:base64-32-bytes,...`) without ever echoing key material. */
export function parseCredentialKeys(value: string, activeKeyId: string | undefined): CredentialKeyring {
  const keys = new Map<string, Buffer>()
  for (const [index, entry] of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .entries()) {
    const sep = entry.indexOf(':')
    const id = sep > 0 ? entry.slice(0, sep) : ''
    if (!KEY_ID.test(id)) {
      throw new Error(`CREDENTIAL_KEYS entry ${index + 1} must be id:base64-key with an id of letters, digits, _ or -`)
    }
    const key = Buffer.from(entry.slice(sep + 1), 'base64')
    if (key.length !== 32) throw new Error(`CREDENTIAL_KEYS key "${id}" must decode from base64 to exactly 32 bytes`)
    if (keys.has(id)) throw new Error(`CREDENTIAL_KEYS lists key "${id}" twice`)
    keys.set(id, key)
  }
  if (keys.size === 0) throw new Error('CREDENTIAL_KEYS holds no key')
  const active = activeKeyId ?? (keys.size === 1 ? [...keys.keys()][0] : undefined)
  if (!active) throw new Error('CREDENTIAL_ACTIVE_KEY is required when CREDENTIAL_KEYS holds more than one key')
  if (!keys.has(active)) throw new Error(`CREDENTIAL_ACTIVE_KEY "${active}" is not one of the CREDENTIAL_KEYS ids`)
  return { keys, activeKeyId: active }
}
