import { randomUUID } from 'node:crypto'
import { QueryTypes } from 'sequelize'
import type { Database } from '../db/database.js'

/** Rows to claim: SQL fragments built from code, never from input; values travel as replacements. */
export interface ClaimSpec {
  table: string
  key: string
  /** Conditions on alias `o` beside "not leased by anyone now". */
  where: string
  params: readonly unknown[]
  order: string
  limit: number
  leaseMs: number
}

/** One claim's holder, unique per claim: a replica finishes only what it claimed. */
export interface Lease {
  holder: string
  keys: string[]
}

/**
 * Claims up to `limit` due rows for `leaseMs`: each row goes to one claimant, and comes free again when the lease
 * lapses (the claimant died). MySQL/MariaDB: `SELECT … FOR UPDATE SKIP LOCKED` in a short transaction, so replicas
 * claiming at once pass over each other's rows instead of waiting; SQLite (one process): one conditional UPDATE.
 */
export function leaseClaimer(db: Database, replica: string) {
  let claims = 0
  const q = (name: string) => `\`${name}\``
  return async function claim(spec: ClaimSpec): Promise<Lease> {
    const now = new Date()
    const until = new Date(now.getTime() + spec.leaseMs)
    const holder = `${replica}/${++claims}`
    const free = `(o.leasedUntil IS NULL OR o.leasedUntil < ?)`
    const select = `SELECT o.${q(spec.key)} AS k FROM ${q(spec.table)} o WHERE ${spec.where} AND ${free} ORDER BY ${spec.order} LIMIT ?`
    const params = [...spec.params, now, spec.limit]
    if (db.dialect === 'mysql') {
      const keys = await db.transaction(async (transaction) => {
        const rows = await db.sequelize.query<{ k: string }>(`${select} FOR UPDATE SKIP LOCKED`, {
          replacements: params,
          type: QueryTypes.SELECT,
          transaction,
        })
        const keys = rows.map((r) => r.k)
        if (keys.length > 0) {
          await db.sequelize.query(`UPDATE ${q(spec.table)} SET leasedUntil = ?, leasedBy = ? WHERE ${q(spec.key)} IN (?)`, {
            replacements: [until, holder, keys],
            transaction,
          })
        }
        return keys
      })
      return { holder, keys }
    }
    await db.sequelize.query(`UPDATE ${q(spec.table)} SET leasedUntil = ?, leasedBy = ? WHERE ${q(spec.key)} IN (${select})`, {
      replacements: [until, holder, ...params],
    })
    const rows = await db.sequelize.query<{ k: string }>(`SELECT ${q(spec.key)} AS k FROM ${q(spec.table)} WHERE leasedBy = ?`, {
      replacements: [holder],
      type: QueryTypes.SELECT,
    })
    return { holder, keys: rows.map((r) => r.k) }
  }
}

export type LeaseClaimer = ReturnType<typeof leaseClaimer>

/** This process's name in leases. */
export const replicaId = () => randomUUID()

/** A wait that `stop` cuts short, so closing leaves no timer behind. */
export function pauses() {
  const waiting = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>()
  return {
    wait(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const entry = { timer: setTimeout(() => (waiting.delete(entry), resolve()), ms), resolve }
        waiting.add(entry)
      })
    },
    cancel() {
      for (const entry of waiting) {
        clearTimeout(entry.timer)
        entry.resolve()
      }
      waiting.clear()
    },
  }
}

/**
 * Runs `round` (which answers how much work it found) again and again until stopped: at once after a round that
 * found work, after `idleMs` (or a `wake`) after one that found none. A round that throws is logged as `failure`
 * and the loop goes on. Stopping waits for the round in progress.
 */
export function roundLoop(
  round: () => Promise<number>,
  options: { idleMs: number; failure: string; log: { warn(obj: object, msg: string): void } },
) {
  const pause = pauses()
  let running = false
  let loop: Promise<void> | undefined

  async function run() {
    while (running) {
      let found = 0
      try {
        found = await round()
      } catch (err) {
        options.log.warn({ err: { message: (err as Error).message } }, options.failure)
      }
      if (running && found === 0) await pause.wait(options.idleMs)
    }
  }

  return {
    /** Starts the loop; false when it already runs. */
    start(): boolean {
      if (running) return false
      running = true
      loop = run()
      return true
    },
    /** Ends an idle wait now: there may be work. */
    wake: () => pause.cancel(),
    async stop() {
      running = false
      pause.cancel()
      await loop
    },
  }
}
