import { inspect } from 'node:util'

export interface EventuallyOptions<T> {
  /** What is awaited, named in the failure. */
  what?: string
  /** How long to keep reading before failing (60 s). */
  withinMs?: number
  /** The pause between reads (25 ms). */
  everyMs?: number
  /** How the failure shows the last value read (util.inspect, cut to 300 characters). */
  describe?: (value: T) => string
}

const inspected = (value: unknown) => inspect(value, { depth: 2, breakLength: Infinity }).slice(0, 300)

/**
 * Reads until `done` accepts what was read, and answers that. After `withinMs` it rejects naming `what` and the
 * last value read, so a condition that never comes fails its test with a reason rather than holding the file until
 * tap's timeout.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { what = 'the awaited condition', withinMs = 60_000, everyMs = 25, describe = inspected }: EventuallyOptions<T> = {},
): Promise<T> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${withinMs} ms; last read ${describe(value)}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
