import fp from 'fastify-plugin'
import { createAvailability, isConnectionFailure, isMissingTable, type Availability } from '../src/db/availability.js'
import { DEFAULT_ACQUIRE_TIMEOUT_MS } from '../src/db/database.js'
import { createPresenceCheck, readMissing, type PresenceCheck } from '../src/db/migrate/presence.js'
import { DatabaseUnavailableError } from '../src/http/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** 'down' from a connection-level failure until a probe gets an answer again. */
    dbAvailability: Availability
    /** What the live database lacks of the tables, columns and indexes the service needs. */
    dbPresence: PresenceCheck
  }
  interface FastifyContextConfig {
    /** The route reads or writes the database: while it is down, answer 503 at once. */
    database?: boolean
  }
}

/** Readiness reads the live tables at most this often: a dropped table shows within about a second. */
export const PRESENCE_TTL_MS = 1_000

/**
 * Fail fast while the database is unreachable: a connection failure anywhere trips the
 * breaker, routes marked `config.database` then answer 503 without touching the pool, and
 * the breaker's probe brings them back when the database answers. Whether the tables the
 * service needs are there is read from the live database, briefly cached, for readiness.
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
    app.decorate(
      'dbPresence',
      createPresenceCheck(() => readMissing(sequelize, app.db.desired), PRESENCE_TTL_MS),
    )

    // After authentication and validation: a bad request is still told what is wrong with it.
    app.addHook('preHandler', async (request) => {
      if (request.routeOptions.config.database && availability.state === 'down') throw new DatabaseUnavailableError()
    })
    app.addHook('onError', async (_request, _reply, error) => {
      if (isConnectionFailure(error)) availability.reportFailure()
      else if (isMissingTable(error)) app.dbPresence.invalidate()
    })
    app.addHook('onClose', async () => availability.stop())
  },
  { name: 'db-availability', dependencies: ['config', 'db'] },
)
