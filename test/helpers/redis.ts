import { randomBytes } from 'node:crypto'

/** Why the Redis tests skip: TEST_REDIS_URL is unset (outside CI, where that is an error); false when they run. */
export function redisSkip(): string | false {
  if (process.env.TEST_REDIS_URL) return false
  if (process.env.CI) throw new Error('CI runs the Redis tests too: set TEST_REDIS_URL (see .ci/run)')
  return 'TEST_REDIS_URL is not set'
}

/** REDIS_URL for a test: TEST_REDIS_URL with a key prefix of its own, so tests running at once never share a counter. */
export function testRedisUrl(): string {
  const url = new URL(process.env.TEST_REDIS_URL!)
  url.searchParams.set('keyPrefix', `test-${randomBytes(6).toString('hex')}:`)
  return url.toString()
}
