import { randomBytes } from 'node:crypto'
import { mintToken } from '../../src/auth/tokens.js'
import { createCredentialCipher } from '../../src/crypto/credential-cipher.js'
import { parseCredentialKeys } from '../../src/crypto/keyring.js'

/** Fresh secrets per run (or those a reused scale database was sealed with), shared by the service, the baseline and the seed. */
export function generateSecrets(
  given: { jwtSecret: string; credentialKeys: string } = {
    jwtSecret: randomBytes(32).toString('base64url'),
    credentialKeys: `bench:${randomBytes(32).toString('base64')}`,
  },
) {
  const { jwtSecret, credentialKeys } = given
  const cipher = createCredentialCipher(parseCredentialKeys(credentialKeys, undefined))
  const auth = { algorithms: ['HS256' as const], secret: jwtSecret }
  return {
    jwtSecret,
    credentialKeys,
    cipher,
    userToken: (accountId: string) => mintToken(auth, { sub: accountId, expiresIn: '12h' }),
    serviceToken: (scope: string) => mintToken(auth, { sub: 'service:bench', scope, expiresIn: '12h' }),
  }
}

export type Secrets = ReturnType<typeof generateSecrets>
