import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { randomBytes, randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { buildApp, type App } from '../../src/app.js'
import { mintToken } from '../../src/auth/tokens.js'
import { loadConfig } from '../../src/config/load-config.js'
import type { Role } from '../../src/db/models/reference-models.js'
import type { TestDatabase } from './databases.js'

export interface TestApp {
  app: App
  /** Every log line the app wrote, raw. */
  logs: string[]
  /** A user token for an account id. */
  userToken(accountId: string): Promise<string>
  serviceToken(name: string, scope: string): Promise<string>
  /** Creates an account (and its membership rows); returns the account id. */
  account(memberships?: Record<string, Role>): Promise<string>
  /** Creates a tenant owned by a fresh account; returns both ids. */
  tenant(): Promise<{ tenantId: string; ownerId: string }>
}

/** An app's environment on the given database, with a data folder of its own that is removed when `t` ends. */
export function testEnv(
  t: { teardown(fn: () => unknown): void },
  db: TestDatabase,
  extra: Record<string, string> = {},
): Record<string, string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivr-data-'))
  // Teardowns run last-registered first: an app built on this environment is closed before its folder goes.
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  return {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    CREDENTIAL_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    DEV_SEED: 'false',
    // Load shedding reacts to event-loop delay, which a busy test runner causes by itself.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // Scheduled re-verification would ask providers on its own; the files that test it turn it on.
    SCHEDULER: 'off',
    ...extra,
  }
}

/** A fresh app on the given database, closed when the test ends; never listens. */
export async function startApp(t: Test, db: TestDatabase, env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig(testEnv(t, db, env))
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const app = await buildApp({ config, logStream })
  t.teardown(() => app.close())
  await app.ready()
  const { Account, Tenant, Collaborator } = app.db.models

  async function account(memberships: Record<string, Role> = {}) {
    const id = `acct-${randomUUID()}`
    const email = `${id}@example.test`
    await Account.create({ id, email, name: 'Test User', picture: null, createdTime: null })
    for (const [tenantId, permission] of Object.entries(memberships)) {
      await Collaborator.create({ email, accountId: id, tenantId, appId: null, permission })
    }
    return id
  }

  return {
    app,
    logs,
    userToken: (accountId) => mintToken(config.auth, { sub: accountId }),
    serviceToken: (name, scope) => mintToken(config.auth, { sub: `service:${name}`, scope }),
    account,
    async tenant() {
      const tenantId = randomUUID()
      const creator = `acct-${randomUUID()}`
      await Account.create({ id: creator, email: `${creator}@example.test`, name: 'Owner', picture: null, createdTime: null })
      await Tenant.create({ id: tenantId, displayName: 'Test tenant', createdBy: creator })
      await Collaborator.create({
        email: `${creator}@example.test`,
        accountId: creator,
        tenantId,
        appId: null,
        permission: 'Owner',
        isCreator: true,
      })
      return { tenantId, ownerId: creator }
    },
  }
}

/** Counts the requests the app sends to providers: every verifier and minter goes through its one outbound client. */
export function countOutbound(app: App): () => number {
  let calls = 0
  const send = app.outbound.request.bind(app.outbound)
  app.outbound.request = (request) => {
    calls++
    return send(request)
  }
  return () => calls
}
