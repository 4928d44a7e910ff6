import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { createTokenVerifier, type Principal } from '../src/auth/tokens.js'
import { ServiceError, unauthorized } from '../src/http/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: verifies the bearer token and sets `request.principal`. */
    authenticate: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    principal: Principal
  }
}

export default fp(
  async (app) => {
    const verify = createTokenVerifier(app.config.auth)
    app.decorateRequest<Principal | null>('principal', null)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization
      if (!header) {
        throw new ServiceError(401, 'UNAUTHORIZED', 'Missing Authorization header: send "Authorization: Bearer <token>"', {
          'www-authenticate': 'Bearer realm="delivr-integrations"',
        })
      }
      const [scheme, token, extra] = header.split(' ')
      if (scheme?.toLowerCase() !== 'bearer' || !token || extra !== undefined) {
        throw unauthorized('Authorization header must be "Bearer <token>"')
      }
      request.principal = await verify(token)
    })
  },
  { name: 'auth', dependencies: ['config'] },
)
