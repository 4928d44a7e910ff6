import type { FastifyInstance } from 'fastify'

/**
 * JSON bodies, where an empty one is no body at all: many HTTP clients send
 * `content-type: application/json` on every request, a DELETE or a body-less POST included.
 * A route that takes a body still refuses the missing one: its validator says "body is required".
 */
export function parseJsonAllowingEmpty(app: FastifyInstance): void {
  // The default parser, with its prototype-poisoning checks, for everything that is not empty.
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) return done(null, undefined)
    void parse(request, body as string, done)
  })
}
