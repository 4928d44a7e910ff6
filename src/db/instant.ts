import type { SqlDialect } from './dialect.js'

/**
 * An instant as a statement's value, in UTC to the millisecond, as Sequelize's models write a DATE(3): the connection's
 * time zone is UTC on MySQL; SQLite keeps the text, with its offset. (A Date given to Sequelize as a replacement would
 * lose its milliseconds on MySQL.)
 */
export function sqlInstant(dialect: SqlDialect, at: Date): string {
  const utc = at.toISOString().replace('T', ' ').slice(0, 23)
  return dialect === 'mysql' ? utc : `${utc} +00:00`
}
