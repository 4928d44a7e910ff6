import fp from 'fastify-plugin'
import { openDatabase, type Database } from '../src/db/database.js'
import { KINDS } from '../src/kinds/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

/** Sequelize with its models, schema synced per DB_SYNC before the server listens. */
export default fp(
  async (app) => {
    const db = await openDatabase(app.config.database, KINDS, app.log)
    app.decorate('db', db)
    app.addHook('onClose', async () => {
      await db.close()
      app.log.info('database pool closed')
    })
  },
  { name: 'db', dependencies: ['config'] },
)
