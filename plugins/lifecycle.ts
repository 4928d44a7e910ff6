import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** True from the moment shutdown begins: readiness answers 503, connections are not kept alive. */
    readonly closing: boolean
  }
}

/**
 * Graceful shutdown: in-flight requests finish, and each answers with `Connection: close`
 * so keep-alive connections (the gateway's) end with it instead of holding the close open.
 */
export default fp(
  async (app) => {
    let closing = false
    app.decorate('closing', {
      getter: () => closing,
    })
    app.addHook('preClose', async () => {
      closing = true
    })
    app.addHook('onSend', async (_request, reply) => {
      if (closing) reply.header('connection', 'close')
    })
  },
  { name: 'lifecycle' },
)
