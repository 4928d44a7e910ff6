import fp from 'fastify-plugin'
import { DOCUMENTATION_HEADERS, SECURITY_HEADERS } from '../src/http/security-headers.js'
import { DOCUMENTATION_PREFIX } from './swagger.js'

/** Security headers on every answer: the API's, or the documentation page's (see src/http/security-headers.ts). */
export default fp(
  async (app) => {
    app.addHook('onRequest', (request, reply, done) => {
      const documentation = request.routeOptions.url?.startsWith(DOCUMENTATION_PREFIX) === true
      reply.headers(documentation ? DOCUMENTATION_HEADERS[request.protocol] : SECURITY_HEADERS)
      done()
    })
  },
  { name: 'security-headers' },
)
