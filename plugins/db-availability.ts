import fp from 'fastify-plugin'
import { createAvailability, isConnectionFailure, type Availability } from '../src/db/availability.js'
import { DEFAULT_ACQUIRE_TIMEOUT_MS } from '../src/db/database.js'
import { DatabaseUnavailableError } from '../src/http/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** 'down' from a connection-level failure until a probe gets an answer again. */
    dbAvailability: Availability
  }
  interface FastifyContextConfig {
    /** The route reads or writes the database: while it is down, answer 503 at once. */
    database?: boolean
  }
}

/**
 * Fail fast while the database is unreachable: a connection failure anywhere trips the
 * breaker, routes marked `config.database` then answer 503 without touching the pool, and
 * the breaker's probe brings them back when the database answers.
 */
export default fp(
  async (app) => {
    const { sequelize } = app.db
    const { database } = app.config
    const availability = createAvailability({
      probe: () => sequelize.query('SELECT 1'),
      probeTimeoutMs: database.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
      maxIntervalMs: database.probeMaxIntervalMs,
      onChange: (state, { downForMs }) => {
        if (state === 'down') app.log.warn('database unreachable: answering 503 until it answers again')
        else app.log.info({ downForMs }, 'database answers again')
      },
    })
    app.decorate('dbAvailability', availability)

    // After authentication and validation: a bad request is still told what is wrong with it.
    app.addHook('preHandler', async (request) => {
      if (request.routeOptions.config.database && availability.state === 'down') throw new DatabaseUnavailableError()
    })
    app.addHook('onError', async (_request, _reply, error) => {
      if (isConnectionFailure(error)) availability.reportFailure()
    })
    app.addHook('onClose', async () => availability.stop())
  },
  { name: 'db-availability', dependencies: ['config', 'db'] },
)
