import type { FastifyInstance } from 'fastify'

/** Everything under /api needs a bearer token: a property of this folder, not of each route. */
export default async function apiHooks(app: FastifyInstance) {
  app.addHook('onRequest', app.authenticate)
}
