import fp from 'fastify-plugin'
import { createCredentialCipher, type CredentialCipher } from '../src/crypto/credential-cipher.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Encrypts and decrypts stored secrets (AES-256-GCM, keys from CREDENTIAL_KEYS). */
    cipher: CredentialCipher
  }
}

export default fp(
  async (app) => {
    app.decorate('cipher', createCredentialCipher(app.config.credentials))
  },
  { name: 'credentials', dependencies: ['config'] },
)
