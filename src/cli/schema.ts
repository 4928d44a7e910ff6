import { ConfigError, loadDatabaseConfig } from '../config/load-config.js'
import { createSequelize } from '../db/database.js'
import { KINDS } from '../kinds/index.js'
import { defineSchemaModels, plan, prepareSchema } from '../db/migrate/engine.js'
import { formatPlan } from '../db/migrate/plan.js'

const usage = `Plan, check and apply the service's schema, with the engine start-up uses.

  npm run schema -- plan    print the SQL that would bring the database to what the service needs
  npm run schema -- check   exit 0 when nothing differs, 1 with the differences otherwise (a deploy gate)
  npm run schema -- apply   apply the additive steps (create tables, add columns and indexes); never drops

In the container: node dist/src/cli/schema.js <command>. Reads DATABASE_URL like the service.
`

const command = process.argv[2]
if (!command || !['plan', 'check', 'apply'].includes(command)) {
  process.stderr.write(usage)
  process.exit(command === '--help' || command === 'help' ? 0 : 2)
}

const quiet = { info: () => {}, warn: () => {} }
let exitCode = 0
let sequelize
try {
  const database = loadDatabaseConfig(process.env)
  sequelize = createSequelize(database)
  await sequelize.authenticate()
  if (command === 'apply') {
    const { report } = await prepareSchema(sequelize, KINDS, 'alter', quiet, database.lockTimeoutSeconds)
    process.stdout.write(report.applied.length ? `Applied:\n${report.applied.map((a) => `  ${a}`).join('\n')}\n` : 'Nothing to apply.\n')
    if (report.review.length) process.stdout.write(`\nStill needs review:\n${formatPlan(report.review)}`)
  } else {
    const { desired } = await defineSchemaModels(sequelize, KINDS)
    const steps = await plan(sequelize, desired)
    if (command === 'plan') process.stdout.write(formatPlan(steps))
    else if (steps.length === 0) process.stdout.write('Schema check passed: nothing is missing or different.\n')
    else {
      process.stdout.write(`Schema check failed: ${steps.length} difference(s).\n\n${formatPlan(steps)}`)
      exitCode = 1
    }
  }
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`)
  exitCode = 2
} finally {
  await sequelize?.close()
}
process.exit(exitCode)
