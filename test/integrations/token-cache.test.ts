import t from 'tap'
import { tokenCache } from '../../src/integrations/token-cache.js'
import { rejection } from '../helpers/provider-double.js'

interface Token {
  token: string
  expiresAt: Date
}

/** A clock the test moves, and a mint that counts its calls and answers when told. */
function setup(options: { marginMs?: number; lifetimeMs?: number; maxEntries?: number } = {}) {
  let clock = 1_000_000
  const lifetimeMs = options.lifetimeMs ?? 60_000
  const cache = tokenCache<Token>({ refreshMarginMs: options.marginMs ?? 10_000, maxEntries: options.maxEntries, now: () => clock })
  let mints = 0
  const mint = async (): Promise<Token> => {
    mints++
    await new Promise((resolve) => setImmediate(resolve))
    return { token: `token-${mints}`, expiresAt: new Date(clock + lifetimeMs) }
  }
  return {
    cache,
    mint,
    get mints() {
      return mints
    },
    advance: (ms: number) => (clock += ms),
  }
}

t.test('concurrent asks for the same token share one mint', async (t) => {
  const s = setup()
  const answers = await Promise.all(Array.from({ length: 100 }, () => s.cache.obtain('a', 1, 'k', s.mint)))
  t.equal(s.mints, 1)
  t.same(new Set(answers.map((a) => a.value.token)), new Set(['token-1']))
  t.same(answers.map((a) => a.source).sort(), ['minted', ...Array<string>(99).fill('shared')].sort())
  t.same(await s.cache.obtain('a', 1, 'k', s.mint), { value: answers[0]!.value, source: 'cached' })
})

t.test('a token is served until the margin before it expires, then minted again', async (t) => {
  const s = setup({ marginMs: 10_000, lifetimeMs: 60_000 })
  await s.cache.obtain('a', 1, 'k', s.mint)
  s.advance(49_999)
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint)).source, 'cached')
  s.advance(1)
  const renewed = await s.cache.obtain('a', 1, 'k', s.mint)
  t.same([renewed.source, renewed.value.token], ['minted', 'token-2'])
})

t.test('a token that lives no longer than the margin is handed out but not kept', async (t) => {
  const s = setup({ marginMs: 10_000, lifetimeMs: 10_000 })
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint)).value.token, 'token-1')
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint)).value.token, 'token-2')
  t.equal(s.cache.size, 0)
})

t.test('tokens are kept per integration, grants and version', async (t) => {
  const s = setup()
  await s.cache.obtain('a', 1, 'k', s.mint)
  t.equal((await s.cache.obtain('a', 1, 'other grants', s.mint)).value.token, 'token-2')
  t.equal((await s.cache.obtain('b', 1, 'k', s.mint)).value.token, 'token-3')
  t.equal((await s.cache.obtain('a', 2, 'k', s.mint)).value.token, 'token-4', 'a write moved the integration on: a new token')
  t.equal((await s.cache.obtain('a', 2, 'other grants', s.mint)).value.token, 'token-5')
  t.equal((await s.cache.obtain('a', 2, 'k', s.mint)).source, 'cached')
})

t.test('drop forgets every token of the integration, and what a mint in flight brings back', async (t) => {
  const s = setup()
  await s.cache.obtain('a', 1, 'k', s.mint)
  await s.cache.obtain('a', 1, 'k2', s.mint)
  await s.cache.obtain('b', 1, 'k', s.mint)
  s.cache.drop('a')
  t.equal(s.cache.size, 1)
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint)).source, 'minted')
  t.equal((await s.cache.obtain('b', 1, 'k', s.mint)).source, 'cached')

  const inFlight = s.cache.obtain('c', 1, 'k', s.mint)
  s.cache.drop('c')
  t.equal((await inFlight).source, 'minted', 'the ask in flight still gets its token')
  t.equal((await s.cache.obtain('c', 1, 'k', s.mint)).source, 'minted', 'but it was not kept')
})

t.test('a failed mint fails every ask that shared it, and is not kept', async (t) => {
  const s = setup()
  let fail = true
  const mint = async () => {
    const token = await s.mint()
    if (fail) throw new Error('provider down')
    return token
  }
  const answers = await Promise.allSettled(Array.from({ length: 10 }, () => s.cache.obtain('a', 1, 'k', mint)))
  t.equal(s.mints, 1)
  t.ok(answers.every((a) => a.status === 'rejected' && (a.reason as Error).message === 'provider down'))
  fail = false
  t.equal((await s.cache.obtain('a', 1, 'k', mint)).source, 'minted')
  t.equal(s.mints, 2)
})

t.test("a leader refused admission fails alone: the others ask again, one leads, and each admission is the leader's", async (t) => {
  const s = setup()
  const admitted: string[] = []
  const admit = (caller: string) => async () => {
    if (caller === 'limited') throw new Error('429 for limited')
    admitted.push(caller)
  }
  const asks = [
    s.cache.obtain('a', 1, 'k', s.mint, admit('limited')),
    ...['x', 'y', 'z'].map((caller) => s.cache.obtain('a', 1, 'k', s.mint, admit(caller))),
  ]
  const [limited, ...others] = await Promise.allSettled(asks)
  t.equal(limited?.status === 'rejected' && (limited.reason as Error).message, '429 for limited')
  t.same(
    others.map((o) => o.status === 'fulfilled' && o.value.value.token),
    ['token-1', 'token-1', 'token-1'],
  )
  t.equal(s.mints, 1)
  t.same(admitted, ['x'], 'only the one that minted was counted')
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint, admit('limited'))).source, 'cached', 'a cached token needs no admission')
})

t.test('beyond maxEntries, expired tokens go first, then those cached longest ago', async (t) => {
  const s = setup({ maxEntries: 3, marginMs: 0, lifetimeMs: 60_000 })
  await s.cache.obtain('old', 1, 'k', s.mint)
  s.advance(30_000)
  await s.cache.obtain('a', 1, 'k', s.mint)
  await s.cache.obtain('b', 1, 'k', s.mint)
  s.advance(30_000)
  await s.cache.obtain('c', 1, 'k', s.mint)
  t.equal(s.cache.size, 3, 'the expired one was swept')
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint)).source, 'cached')
  await s.cache.obtain('d', 1, 'k', s.mint)
  t.equal(s.cache.size, 3)
  t.equal((await s.cache.obtain('d', 1, 'k', s.mint)).source, 'cached')
  t.equal((await s.cache.obtain('a', 1, 'k', s.mint)).source, 'minted', 'the oldest integration went')
})

t.test('an error is the error the mint threw', async (t) => {
  const s = setup()
  const err = new Error('refused')
  t.equal(await rejection(s.cache.obtain('a', 1, 'k', () => Promise.reject(err))), err)
})
