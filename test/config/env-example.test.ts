import fs from 'node:fs'
import t from 'tap'
import { EnvSchema } from '../../src/config/env-schema.js'

t.test('.env.example lists exactly the variables the service reads', async (t) => {
  const listed = fs
    .readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => line.slice(0, line.indexOf('=')))
  t.same([...listed].sort(), Object.keys(EnvSchema.properties).sort())
})

t.test('the README configuration table names every variable', async (t) => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('### Credentials at rest'))
  for (const name of Object.keys(EnvSchema.properties)) t.ok(table.includes(`\`${name}\``), name)
})
