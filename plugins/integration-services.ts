import fp from 'fastify-plugin'
import { eventJournal } from '../src/events/journal.js'
import { integrationService, type IntegrationDeps, type IntegrationService } from '../src/integrations/service.js'
import { KINDS } from '../src/kinds/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** One service per integration kind, by URL segment: the routes and the scheduler act through them. */
    integrationServices: ReadonlyMap<string, IntegrationService>
  }
}

export default fp(
  async (app) => {
    const providers = { http: app.outbound, apis: app.config.providerApis }
    const journal = eventJournal(app.db.events)
    const deps = (kind: (typeof KINDS)[number]): IntegrationDeps => ({
      db: app.db,
      cipher: app.cipher,
      verify: providers,
      observe: (provider, verdict) => app.metrics.verifications.inc({ kind: kind.segment, provider, verdict }),
      tokens: {
        context: { ...providers, appStoreTokenLifetimeSeconds: app.config.accessTokens.appStoreLifetimeSeconds },
        settings: app.config.accessTokens,
        observe: (provider, outcome) => app.metrics.accessTokens.inc({ kind: kind.segment, provider, outcome }),
      },
      journal,
    })
    app.decorate('integrationServices', new Map(KINDS.map((kind) => [kind.segment, integrationService(deps(kind), kind)])))
  },
  { name: 'integration-services', dependencies: ['config', 'db', 'credentials', 'metrics', 'outbound'] },
)
