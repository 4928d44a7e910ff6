import t from 'tap'
import { createPresenceCheck } from '../../../src/db/migrate/presence.js'

/** A read whose answers the test hands out, counting how often the database would be asked. */
function scriptedRead() {
  const waiting: ((missing: string[]) => void)[] = []
  return {
    reads: () => waiting.length,
    read: () => new Promise<string[]>((resolve) => waiting.push(resolve)),
    answer: (missing: string[]) => waiting.at(-1)!(missing),
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

t.test('callers at the same time share one read; within the TTL nobody reads again', async (t) => {
  let now = 0
  const db = scriptedRead()
  const check = createPresenceCheck(db.read, 1_000, () => now)
  const both = Promise.all([check.missing(), check.missing()])
  t.equal(db.reads(), 1, 'one read for two callers')
  db.answer(['table a'])
  t.same(await both, [['table a'], ['table a']])

  now = 999
  t.same(await check.missing(), ['table a'], 'cached')
  t.equal(db.reads(), 1, 'without asking the database')

  now = 1_000
  const fresh = check.missing()
  t.equal(db.reads(), 2, 'once the TTL has passed it reads again')
  db.answer([])
  t.same(await fresh, [], 'and answers what the database says now')
})

t.test('invalidate makes the next caller read at once, and a read begun before it is not cached', async (t) => {
  let now = 0
  const db = scriptedRead()
  const check = createPresenceCheck(db.read, 1_000, () => now)
  const first = check.missing()
  check.invalidate()
  db.answer([])
  t.same(await first, [], 'the caller of the older read gets its answer')
  await settle()

  const second = check.missing()
  t.equal(db.reads(), 2, 'but it was not cached: the next caller reads again')
  db.answer(['table a'])
  t.same(await second, ['table a'])

  now = 10
  check.invalidate()
  const third = check.missing()
  t.equal(db.reads(), 3, 'invalidate drops a cached answer still within its TTL')
  db.answer(['table a'])
  t.same(await third, ['table a'])
})

t.test('a failed read is not cached', async (t) => {
  let fail = true
  let reads = 0
  const check = createPresenceCheck(async () => {
    reads += 1
    if (fail) throw new Error('connection lost')
    return []
  }, 1_000)
  await t.rejects(check.missing(), /connection lost/)
  fail = false
  t.same(await check.missing(), [], 'the next caller reads again')
  t.equal(reads, 2)
})
