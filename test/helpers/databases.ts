import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import type { Test } from 'tap'

export type Dialect = 'sqlite' | 'mysql'

export interface TestDatabase {
  dialect: Dialect
  /** DATABASE_URL for the service. */
  url: string
  /** MySQL database name, or the SQLite file path. */
  name: string
  /** Runs SQL directly, outside the service (MySQL: in this database; SQLite: on the file). */
  query(sql: string): Promise<unknown[]>
}

/** SQLite always; MySQL too when TEST_MYSQL_URL is set. In CI a missing MySQL is an error, not a skip. */
export function testDialects(): Dialect[] {
  if (process.env.TEST_MYSQL_URL) return ['sqlite', 'mysql']
  if (process.env.CI) throw new Error('CI runs every test on MariaDB too: set TEST_MYSQL_URL (see .ci/run)')
  return ['sqlite']
}

function mysqlServerUrl(database?: string): string {
  const url = new URL(process.env.TEST_MYSQL_URL!)
  url.pathname = database ? `/${database}` : '/'
  return url.toString()
}

/** A database of the test's own, dropped (or deleted) when the test ends. */
export async function createTestDatabase(t: Test, dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivr-int-'))
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'test.sqlite')
    const { default: sqlite3 } = await import('sqlite3')
    return {
      dialect,
      url: `sqlite:${file}`,
      name: file,
      query: (sql) =>
        new Promise((resolve, reject) => {
          const db = new sqlite3.Database(file)
          db.all(sql, (err, rows) => db.close(() => (err ? reject(err) : resolve(rows))))
        }),
    }
  }
  const name = `di_test_${randomBytes(6).toString('hex')}`
  const admin = await mysql.createConnection(mysqlServerUrl())
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.end()
  t.teardown(async () => {
    const conn = await mysql.createConnection(mysqlServerUrl())
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await conn.end()
  })
  return {
    dialect,
    url: mysqlServerUrl(name),
    name,
    query: async (sql) => {
      const conn = await mysql.createConnection({ uri: mysqlServerUrl(name), multipleStatements: true })
      try {
        const [rows] = await conn.query(sql)
        return rows as unknown[]
      } finally {
        await conn.end()
      }
    },
  }
}

/** Runs `fn` once per dialect, each in a fresh database. */
export function eachDatabase(t: Test, fn: (t: Test, db: TestDatabase) => Promise<void>) {
  for (const dialect of testDialects()) {
    t.test(dialect, async (t) => fn(t, await createTestDatabase(t, dialect)))
  }
}
