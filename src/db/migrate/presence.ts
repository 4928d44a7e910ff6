import { QueryTypes, type Sequelize } from 'sequelize'
import { enumValues } from './plan.js'
import type { DesiredTable } from './types.js'

interface Found {
  what: 'table' | 'column' | 'index' | 'foreign key'
  tbl: string
  name: string
  /** An ENUM column's type (MySQL); the referenced `table.column` of a foreign key. */
  detail: string | null
}

const MYSQL = `
  SELECT 'table' AS what, TABLE_NAME AS tbl, TABLE_NAME AS name, NULL AS detail
    FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (:tables)
  UNION ALL
  SELECT 'column', TABLE_NAME, COLUMN_NAME, IF(DATA_TYPE = 'enum', COLUMN_TYPE, NULL)
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (:tables)
  UNION ALL
  SELECT DISTINCT 'index', TABLE_NAME, INDEX_NAME, NULL
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (:tables)
  UNION ALL
  SELECT 'foreign key', TABLE_NAME, COLUMN_NAME, CONCAT(REFERENCED_TABLE_NAME, '.', REFERENCED_COLUMN_NAME)
    FROM information_schema.KEY_COLUMN_USAGE
   WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (:tables) AND REFERENCED_TABLE_NAME IS NOT NULL`

const SQLITE = `
  SELECT 'table' AS what, m.name AS tbl, m.name AS name, NULL AS detail
    FROM sqlite_master AS m WHERE m.type = 'table' AND m.name IN (:tables)
  UNION ALL
  SELECT 'column', m.name, c.name, NULL
    FROM sqlite_master AS m, pragma_table_info(m.name) AS c WHERE m.type = 'table' AND m.name IN (:tables)
  UNION ALL
  SELECT 'index', tbl_name, name, NULL FROM sqlite_master WHERE type = 'index' AND tbl_name IN (:tables)
  UNION ALL
  SELECT 'foreign key', m.name, k."from", k."table" || '.' || k."to"
    FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS k WHERE m.type = 'table' AND m.name IN (:tables)`

/**
 * What the service needs and the database lacks, named as a schema report names it
 * (`table t`, `column t.c`, `index t.i`, `foreign key t.c`, `enum values t.c`), in one
 * round trip. Only presence: a column of another type or an index on other columns is
 * there, and a matter for review, not for readiness. Reference tables need only exist.
 */
export async function readMissing(sequelize: Sequelize, desired: readonly DesiredTable[]): Promise<string[]> {
  const found = await sequelize.query<Found>(sequelize.getDialect() === 'mysql' ? MYSQL : SQLITE, {
    replacements: { tables: desired.map((t) => t.name) },
    type: QueryTypes.SELECT,
  })
  const have = new Map(found.map((f) => [`${f.what} ${f.tbl}.${f.name}`, f.detail]))
  const missing: string[] = []
  for (const table of desired) {
    if (!have.has(`table ${table.name}.${table.name}`)) {
      missing.push(`table ${table.name}`)
      continue
    }
    if (table.reference) continue
    for (const column of table.columns) {
      const key = `column ${table.name}.${column.name}`
      if (!have.has(key)) missing.push(key)
      else if (lacksEnumValues(have.get(key) ?? null, column.type)) missing.push(`enum values ${table.name}.${column.name}`)
    }
    for (const index of table.indexes) {
      if (!have.has(`index ${table.name}.${index.name}`)) missing.push(`index ${table.name}.${index.name}`)
    }
    for (const key of table.foreignKeys) {
      const name = `foreign key ${table.name}.${key.column}`
      const references = found.some(
        (f) => f.what === 'foreign key' && f.tbl === table.name && f.name === key.column && f.detail === `${key.refTable}.${key.refColumn}`,
      )
      if (!references) missing.push(name)
    }
  }
  return missing
}

/** A live ENUM (MySQL) that cannot store every value the models may write. */
function lacksEnumValues(liveType: string | null, wantedType: string): boolean {
  const have = liveType === null ? undefined : enumValues(liveType)
  const want = enumValues(wantedType)
  return have !== undefined && want !== undefined && want.some((v) => !have.includes(v))
}

export interface PresenceCheck {
  /** The missing list, read at most once per `ttlMs`; concurrent callers share one read. */
  missing(): Promise<string[]>
  /** Forget the last answer: something just failed for want of a table. */
  invalidate(): void
}

/** Caches `read` briefly, so readiness probes cost the database one query a second at most. */
export function createPresenceCheck(read: () => Promise<string[]>, ttlMs: number, now: () => number = Date.now): PresenceCheck {
  let last: { at: number; missing: string[] } | undefined
  let pending: Promise<string[]> | undefined
  // A read that began before an invalidation may have missed what caused it: not cached.
  let generation = 0
  return {
    missing() {
      if (last && now() - last.at < ttlMs) return Promise.resolve(last.missing)
      const started = generation
      pending ??= read()
        .then((missing) => {
          if (started === generation) last = { at: now(), missing }
          return missing
        })
        .finally(() => (pending = undefined))
      return pending
    },
    invalidate() {
      generation += 1
      last = undefined
      pending = undefined
    },
  }
}
