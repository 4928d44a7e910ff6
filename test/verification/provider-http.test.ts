import t from 'tap'
import { CheckList, parseScopes, retryAfterSeconds, toIsoInstant } from '../../src/verification/provider-http.js'

const now = Date.parse('2030-06-01T12:00:00Z')

t.test('retry time comes from Retry-After first, as seconds or an HTTP date', async (t) => {
  t.equal(retryAfterSeconds({ 'retry-after': '42', 'x-ratelimit-reset': String(now / 1000 + 900) }, now), 42)
  t.equal(retryAfterSeconds({ 'retry-after': 'Sat, 01 Jun 2030 12:01:30 GMT' }, now), 90)
  t.equal(retryAfterSeconds({ 'retry-after': 'Sat, 01 Jun 2030 11:00:00 GMT' }, now), 0, 'a date in the past means now')
})

t.test('without Retry-After, a reset header is read as epoch seconds or as seconds from now', async (t) => {
  t.equal(retryAfterSeconds({ 'x-ratelimit-reset': String(now / 1000 + 120) }, now), 120)
  t.equal(retryAfterSeconds({ 'ratelimit-reset': String(now / 1000 + 30) }, now), 30)
  t.equal(retryAfterSeconds({ 'ratelimit-reset': '17' }, now), 17)
  t.equal(retryAfterSeconds({ 'retry-after': 'soon', 'x-ratelimit-reset': 'never' }, now), undefined)
  t.equal(retryAfterSeconds({}, now), undefined)
})

t.test('provider dates become ISO instants; unreadable ones null', async (t) => {
  t.equal(toIsoInstant('2031-01-15'), '2031-01-15T00:00:00.000Z')
  t.equal(toIsoInstant('2031-03-04 05:06:07 UTC'), '2031-03-04T05:06:07.000Z')
  t.equal(toIsoInstant('2031-03-04 05:06:07 -0700'), '2031-03-04T12:06:07.000Z')
  t.equal(toIsoInstant('2031-03-04T05:06:07+02:00'), '2031-03-04T03:06:07.000Z')
  t.equal(toIsoInstant('next tuesday'), null)
  t.equal(toIsoInstant(null), null)
})

t.test('scope headers split on commas and spaces; an absent header is null', async (t) => {
  t.same(parseScopes('repo, workflow,admin:org'), ['repo', 'workflow', 'admin:org'])
  t.same(parseScopes(''), [])
  t.equal(parseScopes(undefined), null)
})

t.test('checks after the first failure read "not checked", and the first failure decides', async (t) => {
  const checks = new CheckList(['a', 'b', 'c'])
  checks.pass('a', 'fine')
  checks.fail('b', { detail: 'broken', message: 'B is broken', skipped: 'b is broken', verdict: 'EXPIRED' })
  t.same(checks.result('all good', { facts: {}, credential: { expiresAt: null, scopes: null } }), {
    verdict: 'EXPIRED',
    message: 'B is broken',
    checks: [
      { name: 'a', ok: true, detail: 'fine' },
      { name: 'b', ok: false, detail: 'broken' },
      { name: 'c', ok: false, detail: 'not checked: b is broken' },
    ],
    facts: {},
    credential: { expiresAt: null, scopes: null },
  })
  t.throws(() => checks.pass('a', 'again'), /recorded twice/)
  t.throws(() => checks.pass('z', 'unknown'), /Unknown check/)
})

t.test('a list whose checks did not all run is never VALID', async (t) => {
  const checks = new CheckList(['a', 'b'])
  checks.pass('a', 'fine')
  t.match(checks.result('all good', { facts: {}, credential: { expiresAt: null, scopes: null } }), {
    verdict: 'INVALID',
    checks: [{ ok: true }, { ok: false }],
  })
})
