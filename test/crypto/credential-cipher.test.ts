import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createCredentialCipher, CredentialDecryptError, type SecretLocation } from '../../src/crypto/credential-cipher.js'
import { parseCredentialKeys } from '../../src/crypto/keyring.js'
import { sealV1 } from '../helpers/legacy-cipher.js'

const SECRET = 'ghp_crypto_test_secret_0123456789abcdef'
const AT: SecretLocation = { tenantId: 'tenant-1', kind: 'scm', id: 'row-1', field: 'accessToken' }

const keyA = randomBytes(32).toString('base64')
const keyB = randomBytes(32).toString('base64')
const cipherA = createCredentialCipher(parseCredentialKeys(`a:${keyA}`, undefined))

/** Splits the stored form `enc:v2:<keyId>:<iv>:<tag>:<ciphertext>`. */
function parts(stored: string) {
  const [prefix, version, keyId, iv, tag, body] = stored.split(':') as [string, string, string, string, string, string]
  return { prefix, version, keyId, iv, tag, body }
}

function flipFirstByte(base64url: string): string {
  const bytes = Buffer.from(base64url, 'base64url')
  bytes[0] = bytes[0]! ^ 0x01
  return bytes.toString('base64url')
}

function decryptError(decrypt: () => string): CredentialDecryptError {
  try {
    decrypt()
  } catch (err) {
    if (err instanceof CredentialDecryptError) return err
    throw err
  }
  throw new Error('the stored value was decrypted')
}

t.test('decrypts what it encrypted', async (t) => {
  t.equal(cipherA.decrypt(cipherA.encrypt(SECRET, AT), AT), SECRET)
  t.equal(cipherA.decrypt(cipherA.encrypt('', AT), AT), '')
})

t.test('round-trips unicode and multi-line secrets', async (t) => {
  for (const secret of ['pässwörd-密码-🔑', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n', 'a:b:c']) {
    t.equal(cipherA.decrypt(cipherA.encrypt(secret, AT), AT), secret)
  }
})

t.test('uses a fresh IV for every write', async (t) => {
  const first = cipherA.encrypt(SECRET, AT)
  const second = cipherA.encrypt(SECRET, AT)
  t.not(first, second)
  t.not(parts(first).iv, parts(second).iv)
  t.equal(Buffer.from(parts(first).iv, 'base64url').length, 12)
})

t.test('stores the key id and never the plaintext', async (t) => {
  const stored = cipherA.encrypt(SECRET, AT)
  t.match(stored, /^enc:v2:a:[\w-]+:[\w-]+:[\w-]+$/)
  t.notOk(stored.includes(SECRET))
  t.notOk(stored.includes(Buffer.from(SECRET).toString('base64url')))
  t.notOk(stored.includes(keyA))
})

t.test('refuses a ciphertext moved to another tenant, row, kind or field', async (t) => {
  const stored = cipherA.encrypt(SECRET, AT)
  const elsewhere: SecretLocation[] = [
    { ...AT, tenantId: 'tenant-2' },
    { ...AT, id: 'row-2' },
    { ...AT, kind: 'ci-cd' },
    { ...AT, field: 'apiToken' },
  ]
  for (const location of elsewhere) {
    const err = decryptError(() => cipherA.decrypt(stored, location))
    t.match(err.message, /cannot be decrypted: authentication failed/, JSON.stringify(location))
    t.same(err.location, location)
  }
})

t.test('refuses a tampered IV, tag or ciphertext', async (t) => {
  const p = parts(cipherA.encrypt(SECRET, AT))
  const tag = Buffer.from(p.tag, 'base64url')
  const tampered = {
    iv: { ...p, iv: flipFirstByte(p.iv) },
    tag: { ...p, tag: flipFirstByte(p.tag) },
    body: { ...p, body: flipFirstByte(p.body) },
    'truncated body': { ...p, body: p.body.slice(0, -2) },
    'tag cut to 12 bytes': { ...p, tag: tag.subarray(0, 12).toString('base64url') },
    'tag cut to 4 bytes': { ...p, tag: tag.subarray(0, 4).toString('base64url') },
    'empty tag': { ...p, tag: '' },
  }
  for (const [name, q] of Object.entries(tampered)) {
    const stored = [q.prefix, q.version, q.keyId, q.iv, q.tag, q.body].join(':')
    t.match(decryptError(() => cipherA.decrypt(stored, AT)).message, /authentication failed/, name)
  }
})

t.test('refuses a value under an unknown key id, naming the key but not the secret', async (t) => {
  const stored = createCredentialCipher(parseCredentialKeys(`gone:${keyB}`, undefined)).encrypt(SECRET, AT)
  const err = decryptError(() => cipherA.decrypt(stored, AT))
  t.match(err.message, /key "gone" is not configured in CREDENTIAL_KEYS/)
  t.equal(err.name, 'CredentialDecryptError', 'named so in logs and stack traces')
  t.notOk(err.message.includes(SECRET))
  t.notOk(err.message.includes(keyB))
})

t.test('refuses a value under the right key id but the wrong key material', async (t) => {
  const stored = createCredentialCipher(parseCredentialKeys(`a:${keyB}`, undefined)).encrypt(SECRET, AT)
  t.match(decryptError(() => cipherA.decrypt(stored, AT)).message, /authentication failed/)
})

t.test('keeps reading old values after a key rotation and writes with the new key', async (t) => {
  const written = cipherA.encrypt(SECRET, AT)
  const rotated = createCredentialCipher(parseCredentialKeys(`a:${keyA},b:${keyB}`, 'b'))
  t.equal(rotated.decrypt(written, AT), SECRET)
  const rewritten = rotated.encrypt(SECRET, AT)
  t.equal(parts(rewritten).keyId, 'b')
  t.equal(rotated.decrypt(rewritten, AT), SECRET)

  const retired = createCredentialCipher(parseCredentialKeys(`b:${keyB}`, undefined))
  t.equal(retired.decrypt(rewritten, AT), SECRET)
  t.match(decryptError(() => retired.decrypt(written, AT)).message, /key "a" is not configured/)
})

t.test('never passes through a value that is not in the encrypted format', async (t) => {
  const notEncrypted = [
    SECRET,
    '',
    'enc:v1:a:only-four',
    `enc:v3:a:${parts(cipherA.encrypt(SECRET, AT)).iv}:x:y`,
    cipherA.encrypt(SECRET, AT).replace(/^enc:v2:/, 'enc:constructor:'),
    `${cipherA.encrypt(SECRET, AT)}:extra`,
  ]
  for (const stored of notEncrypted) {
    const err = decryptError(() => cipherA.decrypt(stored, AT))
    t.match(err.message, /Stored accessToken of scm integration row-1 cannot be decrypted: not in the encrypted format/, stored)
    t.notOk(err.message.includes(SECRET))
  }
})

t.test('still reads an enc:v1 value (no tenant bound), which is not current', async (t) => {
  const old = sealV1('a', keyA, SECRET, AT)
  t.equal(cipherA.decrypt(old, AT), SECRET)
  t.equal(cipherA.decrypt(old, { ...AT, tenantId: 'tenant-2' }), SECRET, 'v1 never bound the tenant')
  t.match(decryptError(() => cipherA.decrypt(old, { ...AT, id: 'row-2' })).message, /authentication failed/, 'but still the row')
  t.equal(cipherA.versionOf(old), 'v1')
  t.equal(cipherA.keyIdOf(old), 'a')
  t.notOk(cipherA.isCurrent(old), 'under the active key, but v1')
  t.ok(cipherA.isCurrent(cipherA.encrypt(SECRET, AT)))
  t.notOk(
    createCredentialCipher(parseCredentialKeys(`a:${keyA},b:${keyB}`, 'b')).isCurrent(cipherA.encrypt(SECRET, AT)),
    'v2 under another key',
  )
  t.equal(cipherA.versionOf('plain'), undefined)
})

t.test('reads values and matches fingerprints that an earlier run stored', async (t) => {
  // Written by this version with a fixed key: a change to the stored format, the bound location or
  // the fingerprint key would strand every row already in a database.
  const fixed = createCredentialCipher(parseCredentialKeys(`k7:${Buffer.alloc(32, 7).toString('base64')}`, undefined))
  const stored = 'enc:v1:k7:f82jn2TxrPXnAMkj:pr5ZCSpIT56_5s2Boxeb1Q:vvOj4lTD0vStca2lARgSnA'
  t.equal(fixed.decrypt(stored, AT), 'ghp_known_answer')
  t.equal(fixed.fingerprint('ghp_known_answer'), 'ac59abb30335e5b1')
})

t.test('fingerprints tell secrets apart without revealing them', async (t) => {
  const fp = cipherA.fingerprint(SECRET)
  t.match(fp, /^[0-9a-f]{16}$/)
  t.equal(cipherA.fingerprint(SECRET), fp)
  t.equal(createCredentialCipher(parseCredentialKeys(`a:${keyA}`, undefined)).fingerprint(SECRET), fp, 'same after a restart')
  t.not(cipherA.fingerprint(`${SECRET}x`), fp)
  t.not(cipherA.fingerprint('short'), cipherA.fingerprint('Short'))
  const hexToken = randomBytes(20).toString('hex')
  t.notOk(hexToken.includes(cipherA.fingerprint(hexToken)), 'not a slice of a hex token')
  t.not(createCredentialCipher(parseCredentialKeys(`a:${keyB}`, undefined)).fingerprint(SECRET), fp, 'keyed, not a bare hash')
})

t.test('parses a keyring without echoing key material', async (t) => {
  const keyring = parseCredentialKeys(`a:${keyA}, b:${keyB}`, 'b')
  t.equal(keyring.activeKeyId, 'b')
  t.same(keyring.keys.get('a'), Buffer.from(keyA, 'base64'))
  t.equal(parseCredentialKeys(`only:${keyA}`, undefined).activeKeyId, 'only')

  const short = randomBytes(31).toString('base64')
  const err = t.throws(() => parseCredentialKeys(`a:${short}`, undefined)) as Error
  t.match(err.message, /key "a" must decode from base64 to exactly 32 bytes/)
  t.notOk(err.message.includes(short))
  t.throws(() => parseCredentialKeys(`a:${keyA},b:${keyB}`, undefined), /CREDENTIAL_ACTIVE_KEY is required/)
  t.throws(() => parseCredentialKeys(`a:${keyA}`, 'b'), /CREDENTIAL_ACTIVE_KEY "b" is not one of the CREDENTIAL_KEYS ids/)
})
