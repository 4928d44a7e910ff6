import t from 'tap'
import { parseAllowedHosts } from '../../src/outbound/index.js'

t.test('parses comma-separated host:port entries, lower-cased and trimmed', async (t) => {
  const hosts = parseAllowedHosts(' GitLab.Internal:443, 127.0.0.1:8080 ,[::1]:9000,')
  t.same([...hosts].sort(), ['127.0.0.1:8080', '[::1]:9000', 'gitlab.internal:443'])
})

t.test('normalises hosts the way a URL does, so entries match request URLs', async (t) => {
  t.same([...parseAllowedHosts('[0:0:0:0:0:0:0:1]:80,[::FFFF:127.0.0.1]:81')], ['[::1]:80', '[::ffff:7f00:1]:81'])
})

t.test('treats an unset or empty value as no exceptions', async (t) => {
  t.equal(parseAllowedHosts(undefined).size, 0)
  t.equal(parseAllowedHosts('').size, 0)
  t.equal(parseAllowedHosts(' , ').size, 0)
})

t.test('rejects an entry that is not host:port, naming it', async (t) => {
  for (const bad of [
    'gitlab.internal',
    'host:0',
    'host:65536',
    'host:',
    ':443',
    'http://host:443',
    'user@host:443',
    'host:443/path',
    '::1:443',
    'a b:80',
    '[nope]:80',
  ]) {
    t.throws(() => parseAllowedHosts(`ok.example:443,${bad}`), { message: new RegExp(`"${escape(bad)}"`) }, bad)
  }
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}
