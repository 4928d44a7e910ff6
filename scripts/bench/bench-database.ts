import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { onCleanup } from './cleanup.js'

export interface BenchDatabase {
  name: string
  /** DATABASE_URL for the servers. */
  url: string
  /** What `SELECT VERSION()` answered. */
  version: string
  connect(): Promise<mysql.Connection>
}

/** A database of its own for this run, dropped at cleanup whatever happens. */
export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const admin = await mysql.createConnection({ uri: serverUrl, connectTimeout: 5_000 })
  try {
    const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version')
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    onCleanup(async () => {
      const conn = await mysql.createConnection({ uri: serverUrl, connectTimeout: 5_000 })
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
        console.log(`dropped database ${name}`)
      } finally {
        await conn.end()
      }
    })
    const url = `${serverUrl.replace(/\/+$/, '')}/${name}`
    return {
      name,
      url,
      version: String(rows[0]?.version),
      connect: () => mysql.createConnection({ uri: url, timezone: 'Z', connectTimeout: 5_000 }),
    }
  } finally {
    await admin.end()
  }
}
