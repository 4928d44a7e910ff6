import fs from 'node:fs'
import t from 'tap'
import { EnvSchema } from '../src/config/env-schema.js'

t.test('.env.example lists exactly the variables the service reads', async (t) => {
  const listed = fs
    .readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => line.slice(0, line.indexOf('=')))
  t.same([...listed].sort(), Object.keys(EnvSchema.properties).sort())
})
