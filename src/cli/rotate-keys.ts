import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/load-config.js'
import { createCredentialCipher } from '../crypto/credential-cipher.js'
import { reencryptAll, type ReencryptLogger, type ReencryptResult } from '../integrations/reencrypt.js'
import { openDatabase, type Database } from '../db/database.js'
import { KINDS } from '../kinds/index.js'

const usage = `Re-encrypt every stored credential under CREDENTIAL_ACTIVE_KEY, so older keys can be removed, and
in the current format: enc:v1 values (written before the tenant was bound) become enc:v2.

  npm run rotate-keys                      rewrite secrets stored under any other key or as enc:v1
  npm run rotate-keys -- --dry-run         decrypt and count what would change, write nothing
  npm run rotate-keys -- --batch-size N    rows read per query (default 500)

In the container: node dist/src/cli/rotate-keys.js [options]. Reads DATABASE_URL, CREDENTIAL_KEYS
and CREDENTIAL_ACTIVE_KEY like the service; never changes the schema. Safe to run again and while
the service runs. Exits 0 when every secret is under the active key in the current format, 1 when a secret cannot be
decrypted (listed by integration id and field), 2 on bad usage or configuration.
`

function parseOptions(argv: string[]): { dryRun: boolean; batchSize: number } | undefined {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    })
    if (values.help) return undefined
    const batchSize = values['batch-size'] ?? '500'
    if (!/^\d+$/.test(batchSize) || Number(batchSize) < 1 || Number(batchSize) > 10_000) {
      throw new Error('--batch-size must be an integer between 1 and 10000')
    }
    return { dryRun: values['dry-run'] ?? false, batchSize: Number(batchSize) }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n`)
    return undefined
  }
}

/** Progress on stderr; the objects carry kinds, ids, fields and counts, never a secret. */
const progress: ReencryptLogger = {
  info: (obj, msg) => process.stderr.write(`${msg}: ${describe(obj)}\n`),
  warn: (obj, msg) => process.stderr.write(`${msg}: ${describe(obj)}\n`),
}

function describe(obj: object): string {
  return Object.entries(obj)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')
}

function summary(result: ReencryptResult): string {
  const done = result.dryRun ? 'would re-encrypt' : 're-encrypted'
  const rows = [
    ['kind', 'scanned', done, 'of them from v1', 'failed'],
    ...Object.entries(result.kinds).map(([kind, c]) => [kind, c.scanned, c.reencrypted, c.upgraded, c.failed]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  const table = rows.map((r) =>
    r.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]!) : String(cell).padStart(widths[i]!))).join('  '),
  )
  const header = result.dryRun
    ? `Dry run, nothing written: secrets stored under a key other than the active key "${result.activeKeyId}" or as enc:v1.`
    : `Re-encrypted secrets stored under a key other than the active key "${result.activeKeyId}" or as enc:v1.`
  const upgraded = Object.values(result.kinds).reduce((sum, c) => sum + c.upgraded, 0)
  const lines = [header, '', ...table, '', `${upgraded} row(s) ${result.dryRun ? 'would be' : 'were'} upgraded from enc:v1 to enc:v2.`]
  if (result.failures.length > 0) {
    lines.push('', `${result.failures.length} secret(s) could not be re-encrypted and were left as they are:`)
    for (const f of result.failures) lines.push(`  ${f.kind} ${f.id} ${f.field}: ${f.reason}`)
  }
  return `${lines.join('\n')}\n`
}

const options = parseOptions(process.argv.slice(2))
if (!options) {
  process.stderr.write(usage)
  process.exit(process.argv.includes('--help') ? 0 : 2)
}

let exitCode = 0
let db: Database | undefined
try {
  const config = loadConfig(process.env)
  // The schema is the service's to manage: this command reads and rewrites rows only.
  db = await openDatabase({ ...config.database, sync: 'off' }, KINDS, { info() {}, warn() {} })
  if (db.schema.missing.length > 0) {
    throw new Error(`The schema lacks ${db.schema.missing.join(', ')}: start the service or run \`npm run schema -- apply\` first`)
  }
  const result = await reencryptAll(db, KINDS, createCredentialCipher(config.credentials), { ...options, log: progress })
  process.stdout.write(summary(result))
  if (result.failures.length > 0) exitCode = 1
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`)
  exitCode = 2
} finally {
  await db?.close()
}
process.exit(exitCode)
