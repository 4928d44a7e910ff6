import { loadDatabaseConfig } from '../config/load-config.js'
import { createSequelize } from '../db/database.js'
import { DEFAULT_REFERENCE_TYPES } from '../db/models/integration-model.js'
import { defineEventModels } from '../db/models/event-models.js'
import { listDeadLetters, replayDeadLetters } from '../events/dead-letters.js'

const usage = `See and replay change events that ran out of delivery attempts (dead letters).

  npm run webhooks -- list               print dead events as JSON lines, oldest first
  npm run webhooks -- replay <id>...     put these dead events back in line (same webhook-id)
  npm run webhooks -- replay --all       put every dead event back in line

In the container: node dist/src/cli/webhooks.js <command>. Reads DATABASE_URL like the service;
a running replica with WEBHOOK_URLS delivers replayed events.
`

const [command, ...args] = process.argv.slice(2)
if (command !== 'list' && !(command === 'replay' && args.length > 0)) {
  process.stderr.write(usage)
  process.exit(command === '--help' || command === 'help' ? 0 : 2)
}

let exitCode = 0
let sequelize
try {
  sequelize = createSequelize(loadDatabaseConfig(process.env))
  // Column types only matter for creating tables, which this command never does.
  const events = defineEventModels(sequelize, DEFAULT_REFERENCE_TYPES)
  if (command === 'list') {
    for (const dead of await listDeadLetters(events, 1000)) process.stdout.write(`${JSON.stringify(dead)}\n`)
  } else {
    const replayed = await replayDeadLetters(events, args.includes('--all') ? undefined : args)
    process.stdout.write(`replayed ${replayed} dead event(s)\n`)
  }
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  exitCode = 2
} finally {
  await sequelize?.close()
}
process.exit(exitCode)
