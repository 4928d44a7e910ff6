import type { Sequelize } from 'sequelize'

/** The two databases the service runs on. */
export type SqlDialect = 'mysql' | 'sqlite'

/** Which of them `sequelize` talks to (MariaDB is Sequelize's mysql dialect here). */
export const dialectOf = (sequelize: Sequelize): SqlDialect => (sequelize.getDialect() === 'mysql' ? 'mysql' : 'sqlite')
