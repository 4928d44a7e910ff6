/** Where a token came from: minted for this request, shared with a mint in flight, or served from the cache. */
export type TokenSource = 'minted' | 'shared' | 'cached'

export interface Obtained<T> {
  value: T
  source: TokenSource
}

interface Entry<T> {
  /** The integration's version the value was minted from: any write moves it on, so the value no longer serves. */
  version: number
  value?: T
  flight?: Promise<T>
}

/** The caller's own refusal (its rate limit) before the shared mint started: not passed on to those who joined it. */
class NotAdmitted extends Error {
  constructor(readonly reason: unknown) {
    super('not admitted')
  }
}

export interface TokenCacheOptions {
  /** A value is served until this long before it expires. */
  refreshMarginMs: number
  /** Beyond this many entries, expired ones are swept and then the oldest go. */
  maxEntries?: number
  now?: () => number
}

/**
 * Minted tokens, kept in memory per integration and grants until shortly before they expire, tied to the version
 * of the integration they were minted from. Concurrent asks for the same token share one mint (single flight).
 * Only values are cached, never failures: the next ask after a failed mint mints again.
 */
export function tokenCache<T extends { expiresAt: Date }>(options: TokenCacheOptions) {
  const now = options.now ?? Date.now
  const maxEntries = options.maxEntries ?? 10_000
  const byIntegration = new Map<string, Map<string, Entry<T>>>()
  let size = 0

  const usable = (value: T) => value.expiresAt.getTime() - options.refreshMarginMs > now()

  function remove(id: string, key: string) {
    const entries = byIntegration.get(id)
    if (!entries?.delete(key)) return
    size--
    if (entries.size === 0) byIntegration.delete(id)
  }

  function sweep() {
    for (const [id, entries] of byIntegration) {
      for (const [key, entry] of entries) if (!entry.flight && !(entry.value && usable(entry.value))) remove(id, key)
    }
    // Still full of live tokens: the integrations cached longest ago go first.
    for (const id of byIntegration.keys()) {
      if (size <= maxEntries) break
      size -= byIntegration.get(id)!.size
      byIntegration.delete(id)
    }
  }

  function put(id: string, key: string, entry: Entry<T>) {
    let entries = byIntegration.get(id)
    if (!entries) byIntegration.set(id, (entries = new Map<string, Entry<T>>()))
    if (!entries.has(key)) size++
    entries.set(key, entry)
    if (size > maxEntries) sweep()
  }

  /** Leads a mint: registered before anything awaits, so every later ask for the same token joins it. */
  function lead(id: string, key: string, version: number, mint: () => Promise<T>, admit?: () => Promise<void>): Promise<T> {
    const entry: Entry<T> = { version }
    const current = () => byIntegration.get(id)?.get(key) === entry
    entry.flight = (async () => {
      try {
        if (admit) await admit().catch((err: unknown) => Promise.reject(new NotAdmitted(err)))
        const value = await mint()
        if (current()) {
          entry.flight = undefined
          if (usable(value)) entry.value = value
          else remove(id, key)
        }
        return value
      } catch (err) {
        if (current()) remove(id, key)
        throw err
      }
    })()
    put(id, key, entry)
    return entry.flight
  }

  return {
    /**
     * The token for integration `id` at `version` and the grants `key`: cached, shared with a mint in flight, or
     * minted by `mint`. `admit` runs before a mint this call leads, never for a cached or shared token.
     */
    async obtain(id: string, version: number, key: string, mint: () => Promise<T>, admit?: () => Promise<void>): Promise<Obtained<T>> {
      for (;;) {
        const entry = byIntegration.get(id)?.get(key)
        if (entry?.version === version) {
          if (entry.value && usable(entry.value)) return { value: entry.value, source: 'cached' }
          if (entry.flight) {
            try {
              return { value: await entry.flight, source: 'shared' }
            } catch (err) {
              // The leader was not admitted: ask again, leading a mint of one's own if nobody else does.
              if (err instanceof NotAdmitted) continue
              throw err
            }
          }
        }
        try {
          return { value: await lead(id, key, version, mint, admit), source: 'minted' }
        } catch (err) {
          throw err instanceof NotAdmitted ? err.reason : err
        }
      }
    },

    /** Forgets every token of an integration, and any mint in flight for it. */
    drop(id: string) {
      size -= byIntegration.get(id)?.size ?? 0
      byIntegration.delete(id)
    },

    get size() {
      return size
    },
  }
}

export type TokenCache<T extends { expiresAt: Date }> = ReturnType<typeof tokenCache<T>>
