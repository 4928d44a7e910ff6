/**
 * Text rules as standard JSON Schema `pattern`s (ECMA-262, no lookaround, so ajv and other
 * validators read them alike): the published document validates what the service does, with no
 * format of our own. Each pattern carries the phrase that follows the field name when it fails.
 */

const PHRASES = new Map<string, string>()

/** A `pattern`, and what "body/field …" says when a value does not match it. */
export function describedPattern(pattern: string, phrase: string): { pattern: string } {
  PHRASES.set(pattern, phrase)
  return { pattern }
}

/** The phrase for a failed pattern, or undefined for a pattern without one. */
export const patternPhrase = (pattern: string): string | undefined => PHRASES.get(pattern)

// Unicode category Cc, spelt out: \p{…} is not in every regex dialect.
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f'

export const SINGLE_LINE = describedPattern(`^[^${CONTROL}]*$`, 'must be one line of text without control characters')

/** One line that is not only spaces. */
export const SINGLE_LINE_NOT_BLANK = describedPattern(
  `^[^${CONTROL}]*[^\\s${CONTROL}][^${CONTROL}]*$`,
  'must be one line of text without control characters, not blank',
)

// Anything outside visible ASCII cannot go into an Authorization header: Node refuses to send it.
const TOKEN_TEXT = 'must be a token of printable ASCII characters without spaces'

/** A secret sent in an HTTP header, optionally with the prefix the provider gives its tokens. */
export function tokenPattern(prefix: string | readonly string[] = ''): { pattern: string } {
  const prefixes = typeof prefix === 'string' ? [prefix] : prefix
  if (prefixes.every((p) => !p)) return describedPattern('^[!-~]+$', TOKEN_TEXT)
  // Only syntax characters: under the u flag, escaping anything else is an error.
  const escaped = prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  const group = escaped.length === 1 ? escaped[0]! : `(?:${escaped.join('|')})`
  return describedPattern(`^${group}[!-~]*$`, `${TOKEN_TEXT}, starting with ${prefixes.join(' or ')}`)
}

// A ref-name character (git check-ref-format) other than "/" and ".".
const REF_CHAR = '[^\\u0000-\\u0020\\u007f~^:?*\\[\\\\/.]'
const REF_FIRST = '[^\\u0000-\\u0020\\u007f~^:?*\\[\\\\/.-]'

/**
 * Most of `git check-ref-format --branch`: no forbidden characters, no leading "-", no empty,
 * dot-led or trailing-dot component, no "..". What a pattern without lookahead cannot say
 * ("@{", ".lock", a lone "@") is checked by isValidBranchName beside it.
 */
export const GIT_BRANCH = describedPattern(
  `^${REF_FIRST}(\\.?${REF_CHAR})*(\\.?/${REF_CHAR}(\\.?${REF_CHAR})*)*$`,
  'must be a valid git branch name',
)

const SCHEME = '^\\s*[A-Za-z][A-Za-z0-9+.-]*:'

/**
 * An https URL without credentials, query or fragment, one rule at a time so the message says
 * which (the service's URL rules then canonicalise it). Each carries `type` for strict validators.
 */
export const HTTPS_URL_RULES = [
  { type: 'string', ...describedPattern(SCHEME, 'is not a valid URL') },
  { type: 'string', ...describedPattern('^\\s*[Hh][Tt][Tt][Pp][Ss]:', 'must use https') },
  { type: 'string', ...describedPattern(`${SCHEME}[/\\\\]*([^/\\\\?#@]+([/\\\\?#]|$)|$)`, 'must not contain credentials') },
  { type: 'string', ...describedPattern('^[^?#]*$', 'must not have a query or fragment') },
] as const

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
