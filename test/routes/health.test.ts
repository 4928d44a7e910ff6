import t from 'tap'
import { eachDatabase } from '../helpers/databases.js'
import { startApp } from '../helpers/app.js'

interface LogLine {
  level: number
  msg?: string
  req?: { url?: string }
  reqId?: string
}

const INFO = 30
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as LogLine)

eachDatabase(t, async (t, db) => {
  t.test('answers liveness without a token', async (t) => {
    const h = await startApp(t, db)
    const res = await h.app.inject({ url: '/health/live' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok' })
  })

  t.test('answers readiness without a token when the database is up and the schema in place', async (t) => {
    const h = await startApp(t, db)
    const res = await h.app.inject({ url: '/health/ready' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok', database: 'up', missing: [] })
  })

  t.test('writes no info line per health request, unlike API requests', async (t) => {
    const h = await startApp(t, db)
    const before = h.logs.length
    for (const url of ['/health/live', '/health/ready', '/health/live']) {
      t.equal((await h.app.inject({ url })).statusCode, 200, url)
    }
    const healthLines = parse(h.logs.slice(before))
    t.same(healthLines, [], 'health checks log nothing at info')

    // The capture works: an API request logs its incoming and completed lines at info.
    const api = await h.app.inject({ url: '/api/v1/integrations/scm?tenantId=t1' })
    t.equal(api.statusCode, 401)
    const apiLines = parse(h.logs.slice(before)).filter((l) => l.level === INFO && l.reqId === api.headers['x-request-id'])
    t.ok(apiLines.length >= 2, 'an API request writes info lines')
    t.ok(
      apiLines.some((l) => l.req?.url?.startsWith('/api/v1/integrations/scm')),
      'the incoming line names the URL',
    )
  })

  t.test('answers 503 quickly when the database is gone', async (t) => {
    const h = await startApp(t, db)
    await h.app.db.sequelize.close()
    // Closed here on purpose; the app's own close at teardown has nothing left to close.
    h.app.db.close = async () => {}
    const started = Date.now()
    const res = await h.app.inject({ url: '/health/ready' })
    t.ok(Date.now() - started < 5000, 'no hang waiting for the database')
    t.equal(res.statusCode, 503)
    t.match(res.json(), { status: 'unavailable', database: 'down' })

    const live = await h.app.inject({ url: '/health/live' })
    t.equal(live.statusCode, 200, 'liveness does not depend on the database')
  })
})
