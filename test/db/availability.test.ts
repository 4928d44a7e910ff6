import t from 'tap'
import { ConnectionAcquireTimeoutError, ConnectionRefusedError, DatabaseError, TimeoutError, UniqueConstraintError } from 'sequelize'
import { createAvailability, isConnectionFailure, type DatabaseState, type Schedule } from '../../src/db/availability.js'

/** Time that passes only when the test says so. */
function manualClock() {
  let time = 0
  let timers: { at: number; fn: () => unknown }[] = []
  const schedule: Schedule = (fn, ms) => {
    const timer = { at: time + ms, fn }
    timers.push(timer)
    return () => {
      timers = timers.filter((t) => t !== timer)
    }
  }
  return {
    schedule,
    now: () => time,
    /** The delays of the timers still waiting, from now. */
    pending: () => timers.map((t) => t.at - time),
    /** Moves time to the earliest timer and runs it; resolves once what it started has settled. */
    async next() {
      const timer = timers.reduce((a, b) => (b.at < a.at ? b : a))
      timers = timers.filter((t) => t !== timer)
      time = timer.at
      await timer.fn()
    },
  }
}

/** A database that answers, refuses or hangs, counting the probes it sees. */
function database(answer: 'up' | 'down' | 'hang' = 'down') {
  const db = {
    answer,
    probes: 0,
    inFlight: 0,
    maxInFlight: 0,
    async probe() {
      db.probes += 1
      db.inFlight += 1
      db.maxInFlight = Math.max(db.maxInFlight, db.inFlight)
      try {
        if (db.answer === 'hang') await new Promise(() => {})
        if (db.answer === 'down') throw new ConnectionRefusedError(new Error('connect ECONNREFUSED 127.0.0.1:3306'))
      } finally {
        db.inFlight -= 1
      }
    },
  }
  return db
}

function breaker(db: ReturnType<typeof database>, clock = manualClock()) {
  const changes: [DatabaseState, number][] = []
  const availability = createAvailability({
    probe: () => db.probe(),
    probeTimeoutMs: 5000,
    minIntervalMs: 250,
    maxIntervalMs: 2000,
    schedule: clock.schedule,
    now: clock.now,
    onChange: (state, { downForMs }) => changes.push([state, downForMs]),
  })
  return { availability, clock, changes }
}

t.test('stays up, probing nothing, while no connection fails', async (t) => {
  const db = database('up')
  const { availability, clock } = breaker(db)
  t.equal(availability.state, 'up')
  t.same(clock.pending(), [])
  t.equal(db.probes, 0)
})

t.test('goes down on the first connection failure and probes at once', async (t) => {
  const db = database('down')
  const { availability, clock, changes } = breaker(db)
  availability.reportFailure()
  t.equal(availability.state, 'down', 'requests are refused from now on')
  t.same(changes, [['down', 0]])
  t.same(clock.pending(), [0], 'the first probe is due immediately')
  await clock.next()
  t.equal(db.probes, 1)
  t.equal(availability.state, 'down')
})

t.test('keeps probing while the database refuses, pausing 250, 500, 1000 and then at most 2000 ms', async (t) => {
  const db = database('down')
  const { availability, clock } = breaker(db)
  availability.reportFailure()
  const pauses: number[] = []
  for (let i = 0; i < 6; i++) {
    await clock.next()
    pauses.push(...clock.pending())
  }
  t.same(pauses, [250, 500, 1000, 2000, 2000, 2000])
  t.equal(db.probes, 6)
  t.equal(availability.state, 'down')
})

t.test('comes back up on the first probe that answers and says how long it was down', async (t) => {
  const db = database('down')
  const { availability, clock, changes } = breaker(db)
  availability.reportFailure()
  await clock.next() // t=0, refused
  await clock.next() // t=250, refused
  db.answer = 'up'
  await clock.next() // t=750, answers
  t.equal(availability.state, 'up')
  t.same(changes, [
    ['down', 0],
    ['up', 750],
  ])
  t.same(clock.pending(), [], 'no probe once it is up')
})

t.test('runs one probe at a time: failures reported while down start nothing more', async (t) => {
  const db = database('down')
  const { availability, clock, changes } = breaker(db)
  availability.reportFailure()
  availability.reportFailure()
  t.same(clock.pending(), [0])
  await clock.next()
  availability.reportFailure()
  availability.reportFailure()
  t.same(clock.pending(), [250], 'still the one scheduled probe')
  await clock.next()
  t.equal(db.maxInFlight, 1)
  t.equal(changes.length, 1, 'one outage, reported once')
})

t.test('counts a probe that never answers as failed once probeTimeoutMs has passed', async (t) => {
  const db = database('hang')
  const { availability, clock } = breaker(db)
  availability.reportFailure()
  const probing = clock.next()
  t.same(clock.pending(), [5000], 'only the probe timeout is waiting: no second probe beside the hanging one')
  await clock.next()
  await probing
  t.same(clock.pending(), [250], 'the next probe is scheduled as after a refusal')
  db.answer = 'up'
  await clock.next()
  t.equal(availability.state, 'up')
  t.equal(db.probes, 2)
})

t.test('counts a probe that throws instead of rejecting as failed', async (t) => {
  const clock = manualClock()
  const availability = createAvailability({
    probe: () => {
      throw new Error('pool closed')
    },
    probeTimeoutMs: 5000,
    schedule: clock.schedule,
    now: clock.now,
  })
  availability.reportFailure()
  await clock.next()
  t.equal(availability.state, 'down')
  t.same(clock.pending(), [250])
})

t.test('starts again from the shortest pause on the next outage', async (t) => {
  const db = database('down')
  const { availability, clock, changes } = breaker(db)
  availability.reportFailure()
  for (let i = 0; i < 4; i++) await clock.next()
  db.answer = 'up'
  await clock.next()
  t.equal(availability.state, 'up')

  db.answer = 'down'
  availability.reportFailure()
  t.same(clock.pending(), [0])
  await clock.next()
  t.same(clock.pending(), [250])
  t.same(
    changes.map(([state]) => state),
    ['down', 'up', 'down'],
  )
})

t.test('stop cancels the pending probe and ignores one that settles afterwards', async (t) => {
  const db = database('hang')
  const { availability, clock, changes } = breaker(db)
  availability.reportFailure()
  const probing = clock.next()
  availability.stop()
  await clock.next() // the hanging probe times out after the stop
  await probing
  t.same(clock.pending(), [], 'nothing scheduled after stop')
  availability.reportFailure()
  t.same(clock.pending(), [], 'failures after stop start nothing')
  t.same(changes, [['down', 0]])
})

t.test('tells connection failures from statement errors', async (t) => {
  const lost = (fields: Record<string, unknown>) => new DatabaseError(Object.assign(new Error('lost'), fields) as never)
  const failures = {
    'connection refused': new ConnectionRefusedError(new Error('ECONNREFUSED')),
    'pool acquire timed out': new ConnectionAcquireTimeoutError(new Error('acquire')),
    'connection lost mid-query': lost({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }),
    'reset mid-query': lost({ code: 'ECONNRESET' }),
    'query on a closed connection (mysql2 marks it fatal)': lost({ fatal: true }),
    'server shutting down (1053)': lost({ errno: 1053, code: 'ER_SERVER_SHUTDOWN' }),
    'connection killed (MariaDB 1927)': lost({ errno: 1927 }),
  }
  for (const [name, err] of Object.entries(failures)) t.ok(isConnectionFailure(err), name)

  const statementErrors = {
    'syntax error': lost({ code: 'ER_PARSE_ERROR', errno: 1064, fatal: false }),
    'duplicate key': new UniqueConstraintError({}),
    'lock wait timeout': new TimeoutError(Object.assign(new Error('SQLITE_BUSY'), { code: 'SQLITE_BUSY' }) as never),
    'not a database error': new Error('ECONNREFUSED'),
    'not an error': undefined,
  }
  for (const [name, err] of Object.entries(statementErrors)) t.notOk(isConnectionFailure(err), name)
})
