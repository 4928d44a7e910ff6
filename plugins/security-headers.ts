import fp from 'fastify-plugin'
import { SECURITY_HEADERS } from '../src/http/security-headers.js'

/** Security headers on every answer (see src/http/security-headers.ts). */
export default fp(
  async (app) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(SECURITY_HEADERS)
      done()
    })
  },
  { name: 'security-headers' },
)
