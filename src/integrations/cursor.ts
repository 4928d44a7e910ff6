import { FieldError } from '../http/errors.js'
import { describedPattern } from '../http/patterns.js'

/** Opaque to clients: the last id of the page (ids are UUIDv7, so id order is creation order). */
export const encodeCursor = (id: string) => Buffer.from(`v1:${id}`, 'utf8').toString('base64url')

/** What encodeCursor writes: "v1:" (base64url "djE6") and a 36-character id, 52 characters in all. */
export const CURSOR_PATTERN = describedPattern('^djE6[A-Za-z0-9_-]{48}$', 'is not a cursor this service issued')

export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8')
  const match = /^v1:([0-9a-f-]{36})$/.exec(decoded)
  if (!match) throw new FieldError('cursor', 'is not a cursor this service issued', 'querystring')
  return match[1]!
}
