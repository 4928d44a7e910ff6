import fp from 'fastify-plugin'
import { createOutboundClient, type OutboundClient } from '../src/outbound/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one guarded client every provider call goes through. */
    outbound: OutboundClient
  }
}

export default fp(
  async (app) => {
    const client = createOutboundClient({
      timeoutMs: app.config.verifyTimeoutMs,
      allowedHosts: app.config.outbound.allowedHosts,
      ca: app.config.outbound.ca,
    })
    app.decorate('outbound', client)
    app.addHook('onClose', () => client.close())
  },
  { name: 'outbound', dependencies: ['config'] },
)
