import { ConfigError, loadDatabaseConfig } from '../config/load-config.js'
import { createSequelize } from '../db/database.js'
import { KINDS } from '../kinds/index.js'
import { SCHEMA_COMMANDS, runSchemaCommand, type SchemaCommand } from '../db/migrate/command.js'

const usage = `Plan, check and apply the service's schema, with the engine start-up uses.

  npm run schema -- plan    print the SQL that would bring the database to what the service needs
  npm run schema -- check   exit 0 when nothing differs, 1 with the differences otherwise (a deploy gate)
  npm run schema -- apply   apply the additive steps (create tables, add columns and indexes, append
                            ENUM values); never drops

In the container: node dist/src/cli/schema.js <command>. Reads DATABASE_URL like the service.
`

const command = process.argv[2]
if (!command || !(SCHEMA_COMMANDS as readonly string[]).includes(command)) {
  process.stderr.write(usage)
  process.exit(command === '--help' || command === 'help' ? 0 : 2)
}

let exitCode = 0
let sequelize
try {
  const database = loadDatabaseConfig(process.env)
  sequelize = createSequelize(database)
  await sequelize.authenticate()
  const result = await runSchemaCommand(sequelize, command as SchemaCommand, KINDS, database.lockTimeoutSeconds)
  process.stdout.write(result.stdout)
  exitCode = result.code
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`)
  exitCode = 2
} finally {
  await sequelize?.close()
}
process.exit(exitCode)
