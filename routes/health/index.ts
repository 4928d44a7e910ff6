import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isConnectionFailure } from '../../src/db/availability.js'
import { StringEnum } from '../../src/http/common-schemas.js'

const HealthSchema = Type.Object({
  status: StringEnum(['ok', 'unavailable']),
  database: Type.Optional(StringEnum(['up', 'down'])),
  missing: Type.Optional(Type.Array(Type.String(), { description: 'Schema objects the service needs but lacks' })),
  shuttingDown: Type.Optional(Type.Boolean({ description: 'Shutdown has begun: take this instance out of rotation' })),
})

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/live',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        security: [],
        operationId: 'live',
        summary: 'The process is up',
        description: 'Liveness: answers while the process runs, without touching the database. No token.',
        response: { 200: HealthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/ready',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        security: [],
        operationId: 'ready',
        summary: 'The database answers and has every table, column and index the service needs',
        description: 'Readiness: 503 while the database is down, the schema lacks something, or shutdown has begun. No token.',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      if (app.closing) return reply.code(503).send({ status: 'unavailable' as const, shuttingDown: true })
      // While the breaker knows the database is down, say so at once; its probe watches for the return.
      const down = { database: 'down' as const, missing: undefined }
      const { database, missing } =
        app.dbAvailability.state === 'down'
          ? down
          : await app.db.sequelize
              .query('SELECT 1')
              .then(() => app.dbPresence.missing())
              .then((missing) => ({ database: 'up' as const, missing }))
              .catch((err: unknown) => {
                if (isConnectionFailure(err)) app.dbAvailability.reportFailure()
                return down
              })
      const ready = database === 'up' && missing.length === 0
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', database, missing })
    },
  )
}

export default health
