import { randomUUID } from 'node:crypto'
import t from 'tap'
import { authorize, authorizeTenantRead, type Action } from '../../src/auth/access.js'
import type { Principal } from '../../src/auth/tokens.js'
import { ServiceError } from '../../src/http/errors.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'

const ACTIONS: Action[] = ['read', 'verify', 'write', 'credentials']
const HIDDEN = new Error('hidden')

const user = (accountId: string): Principal => ({ type: 'user', accountId })
const service = (...scopes: string[]): Principal => ({ type: 'service', name: 'releases', scopes: new Set(scopes) })

/** 'allowed', 'hidden', or the status and message the caller would see. */
async function outcome(run: () => Promise<void>): Promise<string> {
  try {
    await run()
    return 'allowed'
  } catch (err) {
    if (err === HIDDEN) return 'hidden'
    if (err instanceof ServiceError) return `${err.statusCode} ${err.message}`
    throw err
  }
}

/** A collaborators row as the main Delivr server could have left it, written past the model's checks. */
async function rawMembership(db: TestDatabase, accountId: string, tenantId: string, permission: string | null) {
  const value = permission === null ? 'NULL' : `'${permission}'`
  // MySQL in a non-strict mode keeps a value outside the ENUM as ''; SQLite keeps any text.
  const mode = db.dialect === 'mysql' ? "SET SESSION sql_mode = ''; " : ''
  await db.query(
    `${mode}INSERT INTO collaborators (email, accountId, appId, tenantId, permission, isCreator, createdAt, updatedAt) ` +
      `VALUES ('${accountId}@example.test', '${accountId}', NULL, '${tenantId}', ${value}, 0, '2024-01-01 00:00:00', '2024-01-01 00:00:00')`,
  )
}

eachDatabase(t, async (t, db) => {
  const h = await startApp(t, db)
  const models = h.app.db.models
  const { tenantId, ownerId } = await h.tenant()
  const can = (principal: Principal, action: Action, tenant = tenantId) =>
    outcome(() => authorize(models, principal, tenant, action, () => HIDDEN))

  t.test('members act by rank: Viewer reads, Editor also verifies, Owner also writes; none reads credentials', async (t) => {
    const credentials = '403 Decrypted credentials are only for service tokens with the integrations:credentials:read scope'
    const expected = {
      Viewer: [
        'allowed',
        '403 This needs the Editor role in the tenant; you are Viewer',
        '403 This needs the Owner role in the tenant; you are Viewer',
      ],
      Editor: ['allowed', 'allowed', '403 This needs the Owner role in the tenant; you are Editor'],
      Owner: ['allowed', 'allowed', 'allowed'],
    }
    for (const [role, verdicts] of Object.entries(expected)) {
      const member = role === 'Owner' ? ownerId : await h.account({ [tenantId]: role as 'Viewer' | 'Editor' })
      const got = []
      for (const action of ACTIONS) got.push(await can(user(member), action))
      t.same(got, [...verdicts, credentials], role)
    }
  })

  t.test('the highest of several tenant roles counts, whichever row comes first', async (t) => {
    for (const roles of [
      ['Viewer', 'Owner'],
      ['Owner', 'Viewer'],
      ['Editor', 'Viewer'],
    ]) {
      const member = await h.account()
      for (const role of roles) await rawMembership(db, member, tenantId, role)
      const best = roles.includes('Owner') ? 'Owner' : 'Editor'
      t.equal(await can(user(member), best === 'Owner' ? 'write' : 'verify'), 'allowed', roles.join(' then '))
    }
  })

  t.test('a user with no tenant role meets the hidden error, whatever the action', async (t) => {
    const outsider = await h.account()
    const noPermission = await h.account()
    await rawMembership(db, noPermission, tenantId, null)
    const unknownRole = await h.account()
    await rawMembership(db, unknownRole, tenantId, db.dialect === 'sqlite' ? 'constructor' : 'Admin')
    const otherTenant = (await h.tenant()).tenantId
    for (const action of ACTIONS) {
      t.equal(await can(user(outsider), action), 'hidden', `not a member: ${action}`)
      t.equal(await can(user(noPermission), action), 'hidden', `no permission: ${action}`)
      t.equal(await can(user(unknownRole), action), 'hidden', `a permission that is no role: ${action}`)
      t.equal(await can(user(ownerId), action, otherTenant), 'hidden', `owner of another tenant: ${action}`)
      t.equal(await can(user(ownerId), action, randomUUID()), 'hidden', `a tenant that does not exist: ${action}`)
    }
  })

  t.test('service tokens read by scope, and never verify or write', async (t) => {
    const cases: [Principal, string[]][] = [
      [
        service('integrations:read'),
        [
          'allowed',
          '403 Service tokens may only read integrations',
          '403 Service tokens may only read integrations',
          '403 This service token lacks the integrations:credentials:read scope',
        ],
      ],
      [
        service('integrations:credentials:read'),
        [
          '403 This service token lacks the integrations:read scope',
          '403 Service tokens may only read integrations',
          '403 Service tokens may only read integrations',
          'allowed',
        ],
      ],
      [
        service(),
        [
          '403 This service token lacks the integrations:read scope',
          '403 Service tokens may only read integrations',
          '403 Service tokens may only read integrations',
          '403 This service token lacks the integrations:credentials:read scope',
        ],
      ],
    ]
    for (const [principal, verdicts] of cases) {
      const got = []
      for (const action of ACTIONS) got.push(await can(principal, action))
      t.same(got, verdicts, [...(principal.type === 'service' ? principal.scopes : [])].join(' ') || 'no scope')
    }
  })

  t.test('reading a tenant: 404 for a tenant that does not exist, for services and users alike', async (t) => {
    const read = (principal: Principal, tenant: string) => outcome(() => authorizeTenantRead(models, principal, tenant))
    t.equal(await read(service('integrations:read'), tenantId), 'allowed')
    t.equal(await read(service('integrations:read'), randomUUID()), '404 Tenant not found')
    t.equal(await read(service(), randomUUID()), '404 Tenant not found', 'a missing tenant is told before a missing scope')
    t.equal(await read(service(), tenantId), '403 This service token lacks the integrations:read scope')
    t.equal(await read(user(ownerId), tenantId), 'allowed')
    t.equal(await read(user(ownerId), randomUUID()), '404 Tenant not found')
    t.equal(await read(user(await h.account()), tenantId), '404 Tenant not found')
  })
})
