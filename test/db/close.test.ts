import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { readiness } from '../helpers/schema.js'

eachDatabase(t, async (t, db) => {
  t.test('closing the app closes its connection pool', async (t) => {
    const h = await startApp(t, db)
    t.equal((await readiness(h.app)).statusCode, 200)
    await t.resolves(h.app.db.sequelize.query('SELECT 1'), 'queries work while the app is open')
    await h.app.close()
    await t.rejects(h.app.db.sequelize.query('SELECT 1'), { message: /closed/ }, 'and are refused once it is closed')
  })
})
