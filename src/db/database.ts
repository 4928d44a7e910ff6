import fs from 'node:fs'
import path from 'node:path'
import { Sequelize } from 'sequelize'
import { EnvSchema } from '../config/env-schema.js'
import type { DatabaseConfig } from '../config/load-config.js'
import type { KindDefinition } from '../kinds/define/kind.js'
import type { SqlDialect } from './dialect.js'
import type { IntegrationModel } from './models/integration-model.js'
import { prepareSchema, type SchemaLogger, type SchemaReport } from './migrate/engine.js'
import type { ReferenceModels } from './models/reference-models.js'
import type { DesiredTable } from './migrate/types.js'
import type { EventModels } from './models/event-models.js'
import { transactionRunner, waitForSqliteLocks, type TransactionRunner } from './transaction.js'

export interface Database {
  sequelize: Sequelize
  dialect: SqlDialect
  models: ReferenceModels
  /** One model per integration kind, by URL segment. */
  integrations: ReadonlyMap<string, IntegrationModel>
  /** The audit trail, the change-event outbox and the re-verification schedule. */
  events: EventModels
  /** One transaction; on SQLite, transactions take turns. */
  transaction: TransactionRunner
  /** The start-up report. Readiness reads the live database instead (plugins/db-availability.ts). */
  schema: SchemaReport
  /** The tables, columns and indexes the models need. */
  desired: readonly DesiredTable[]
  close(): Promise<void>
}

export const DEFAULT_CONNECT_TIMEOUT_MS = EnvSchema.properties.DB_CONNECT_TIMEOUT_MS.default as number
export const DEFAULT_ACQUIRE_TIMEOUT_MS = EnvSchema.properties.DB_ACQUIRE_TIMEOUT_MS.default as number

export function createSequelize(config: DatabaseConfig): Sequelize {
  if (config.dialect === 'sqlite') {
    if (config.storage !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(config.storage!)), { recursive: true })
    return new Sequelize({ dialect: 'sqlite', storage: config.storage, logging: false })
  }
  return new Sequelize(config.url, {
    dialect: 'mysql',
    logging: false,
    timezone: '+00:00',
    // Short enough that an unreachable database is noticed within seconds (see ./availability.ts).
    pool: { max: config.poolMax, min: 0, acquire: config.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS, idle: 10_000 },
    dialectOptions: {
      connectTimeout: config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // mysql2 decodes every column itself. Sequelize's own decoder makes mysql2 allocate a wrapper
      // per column of every row and parses DATETIMEs from strings; it only differs for DATE and
      // GEOMETRY columns, which this service has none of. 'Z' is the session's '+00:00' on mysql2's
      // fast path. Measured with `npm run bench`; the route tests hold a create's answer (dates from
      // JavaScript) equal to a later read (dates decoded here).
      typeCast: true,
      timezone: 'Z',
    },
    define: { charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' },
  })
}

/** Connects, brings the schema to what `config.sync` allows, and defines every model. */
export async function openDatabase(config: DatabaseConfig, kinds: readonly KindDefinition[], log: SchemaLogger): Promise<Database> {
  const sequelize = createSequelize(config)
  try {
    await sequelize.authenticate()
    await waitForSqliteLocks(sequelize)
    const { models, integrations, events, desired, report } = await prepareSchema(
      sequelize,
      kinds,
      config.sync,
      log,
      config.lockTimeoutSeconds,
    )
    let closed: Promise<void> | undefined
    const close = () => (closed ??= sequelize.close())
    const transaction = transactionRunner(sequelize)
    return { sequelize, dialect: config.dialect, models, integrations, events, transaction, schema: report, desired, close }
  } catch (err) {
    await sequelize.close().catch(() => {})
    throw err
  }
}
