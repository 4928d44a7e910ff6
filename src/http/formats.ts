import { isValidBranchName } from './git-branch.js'

interface Format {
  validate: (value: string) => boolean
  /** Completes "body/field must be …". */
  text: string
}

// Anything outside visible ASCII cannot go into an Authorization header: Node refuses to send it.
const HEADER_SAFE = /^[\x21-\x7e]+$/
const CONTROL = /\p{Cc}/u

/** String formats of this service's own, known to every Ajv instance (validation and serialization). */
export const FORMATS: Record<string, Format> = {
  'git-branch': { validate: isValidBranchName, text: 'a valid git branch name' },
  token: { validate: (s) => HEADER_SAFE.test(s), text: 'a token of printable ASCII characters without spaces' },
  'single-line': { validate: (s) => !CONTROL.test(s), text: 'one line of text without control characters' },
}

/**
 * The path of the first string in a parsed JSON body that is not well-formed UTF-16: an unpaired
 * surrogate (`"\ud800"`) that would be stored as U+FFFD, so what was sent is not what is kept.
 */
export function firstIllFormedString(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return (value as string & { isWellFormed(): boolean }).isWellFormed() ? undefined : path
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = firstIllFormedString(item, `${path}/${key}`)
      if (at !== undefined) return at
    }
  }
  return undefined
}
