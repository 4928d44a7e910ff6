import type { Sequelize } from 'sequelize'
import type { DatabaseConfig } from '../config/load-config.js'

/** The two databases the service runs on, as the configuration names them. */
export type SqlDialect = DatabaseConfig['dialect']

/** Which of them `sequelize` talks to (MariaDB is Sequelize's mysql dialect here). */
export const dialectOf = (sequelize: Sequelize): SqlDialect => (sequelize.getDialect() === 'mysql' ? 'mysql' : 'sqlite')
