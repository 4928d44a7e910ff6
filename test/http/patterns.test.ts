import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { isValidBranchName } from '../../src/http/git-branch.js'
import { GIT_BRANCH, HTTPS_URL_RULES, SINGLE_LINE, SINGLE_LINE_NOT_BLANK, patternPhrase, tokenPattern } from '../../src/http/patterns.js'
import { CURSOR_PATTERN, encodeCursor } from '../../src/integrations/cursor.js'

// As a consumer's validator reads them: ECMA-262 with the u flag (ajv's default).
const matches = (pattern: string, value: string) => new RegExp(pattern, 'u').test(value)

t.test('a git branch the service accepts always matches the published pattern, and the pattern refuses most bad ones', async (t) => {
  const good = ['main', 'release/1.2', 'feature/x.y', 'a./b', 'v1.0-rc', 'héllo', 'a-b/-c', '@x', 'x@y', 'a.lock.b']
  const bad = [
    '',
    '-x',
    '/x',
    'x/',
    'x.',
    '.x',
    'a/.b',
    'a..b',
    'a//b',
    'my branch',
    'a~b',
    'a^b',
    'a:b',
    'a?b',
    'a*b',
    'a[b',
    'a\\b',
    'a\u007fb',
  ]
  for (const name of good) {
    t.ok(isValidBranchName(name), `git accepts ${name}`)
    t.ok(matches(GIT_BRANCH.pattern, name), `the pattern accepts ${name}`)
  }
  for (const name of bad) {
    t.notOk(isValidBranchName(name), `git refuses ${JSON.stringify(name)}`)
    t.notOk(matches(GIT_BRANCH.pattern, name), `the pattern refuses ${JSON.stringify(name)}`)
  }
  for (const name of ['a@{b', 'x.lock', 'a/b.lock/c', '@']) {
    t.notOk(isValidBranchName(name), `${name}: left to the server-side check`)
  }
  t.equal(patternPhrase(GIT_BRANCH.pattern), 'must be a valid git branch name')
})

t.test('single-line text refuses control characters, and a display name refuses blank', async (t) => {
  for (const value of ['Mobile app', 'Ünïcødé 😀', '', '\u00a0x']) t.ok(matches(SINGLE_LINE.pattern, value), JSON.stringify(value))
  for (const value of ['a\nb', 'a\tb', '\u0000', 'a\u0085b', 'a\u009fb', 'x\u007f']) {
    t.notOk(matches(SINGLE_LINE.pattern, value), JSON.stringify(value))
    t.notOk(matches(SINGLE_LINE_NOT_BLANK.pattern, value), JSON.stringify(value))
  }
  for (const value of ['', ' ', '   ', '\u00a0']) t.notOk(matches(SINGLE_LINE_NOT_BLANK.pattern, value), `blank ${JSON.stringify(value)}`)
  t.ok(matches(SINGLE_LINE_NOT_BLANK.pattern, ' Mobile '))
})

t.test('tokens are printable ASCII without spaces, with the provider prefix when it has one', async (t) => {
  const token = tokenPattern()
  t.ok(matches(token.pattern, 'ghp_abc!~'))
  for (const value of ['', 'a b', 'a\nb', 'é', '😀']) t.notOk(matches(token.pattern, value), JSON.stringify(value))
  const slack = tokenPattern('xoxb-')
  t.ok(matches(slack.pattern, 'xoxb-123-abc'))
  t.notOk(matches(slack.pattern, 'xoxp-123'))
  t.notOk(matches(slack.pattern, 'xoxb-1 2'))
  t.equal(patternPhrase(slack.pattern), 'must be a token of printable ASCII characters without spaces, starting with xoxb-')
})

t.test('the https URL rules say which one a value breaks', async (t) => {
  const ajv = new Ajv2020({ strict: true, allErrors: false })
  const validate = ajv.compile({ type: 'string', allOf: HTTPS_URL_RULES })
  const problem = (value: string) => {
    if (validate(value)) return undefined
    return patternPhrase(String(validate.errors![0]!.params.pattern))
  }
  for (const ok of [
    'https://github.com/acme/app',
    'HTTPS://GitHub.com/a',
    ' https://ci.acme.com/jenkins ',
    'https://h:8443/a@b',
    'https://',
  ]) {
    t.equal(problem(ok), undefined, ok)
  }
  t.equal(problem('github.com/acme/app'), 'is not a valid URL')
  t.equal(problem('http://github.com/acme/app'), 'must use https')
  t.equal(problem('javascript:alert(1)'), 'must use https')
  t.equal(problem('https://user:pw@github.com/acme/app'), 'must not contain credentials')
  t.equal(problem('https://user@github.com'), 'must not contain credentials')
  t.equal(problem('https://github.com/acme/app?x=1'), 'must not have a query or fragment')
  t.equal(problem('https://github.com/acme/app#readme'), 'must not have a query or fragment')
})

t.test('the cursor pattern is exactly what the service issues', async (t) => {
  for (let i = 0; i < 20; i++) t.ok(matches(CURSOR_PATTERN.pattern, encodeCursor(randomUUID())))
  for (const value of [
    'bogus',
    '',
    encodeCursor(randomUUID()).slice(1),
    `${encodeCursor(randomUUID())}A`,
    Buffer.from(`v2:${randomUUID()}`).toString('base64url'),
  ]) {
    t.notOk(matches(CURSOR_PATTERN.pattern, value), value)
  }
})
