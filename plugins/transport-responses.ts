import type { TSchema } from '@sinclair/typebox'
import fp from 'fastify-plugin'
import { withTransportResponses } from '../src/http/transport-responses.js'

/**
 * Every documented route also documents what the layers around it answer (see
 * withTransportResponses): registered before any route, after swagger.
 */
export default fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      const schema = route.schema as { response?: Record<string, TSchema>; hide?: boolean } | undefined
      if (!schema?.response || schema.hide) return
      const rateLimited = route.config?.callsProvider === true
      route.schema = {
        ...schema,
        response: withTransportResponses({ method: route.method, url: route.url, rateLimited, response: schema.response }),
      }
    })
  },
  { name: 'transport-responses', dependencies: ['swagger'] },
)
