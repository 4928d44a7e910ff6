import { readerFor } from '../db/reader.js'
import type { ReferenceModels, Role } from '../db/models/reference-models.js'
import { forbidden, notFound } from '../http/errors.js'
import { SCOPES, type Principal } from './tokens.js'

/** What a request wants to do with a tenant's integrations. */
export type Action = 'read' | 'verify' | 'write' | 'credentials' | 'audit'

const RANK: Record<Role, number> = { Viewer: 1, Editor: 2, Owner: 3 }
const NEEDS: Record<Exclude<Action, 'credentials'>, Role> = { read: 'Viewer', verify: 'Editor', write: 'Owner', audit: 'Editor' }

// Account and tenant ids are opaque and matched byte for byte. The SQL `=` narrows by index, under
// whatever collation Delivr's tables have (utf8mb4_unicode_ci takes "ACCT-1", "acct-1 " and
// "ácct-1" for "acct-1"; even utf8mb4_bin pads trailing spaces); the rows it returns are then
// compared exactly here, which holds for any charset and collation and on SQLite alike.
const ROLE_SQL =
  'SELECT `permission`, `accountId`, `tenantId` FROM `collaborators` WHERE `accountId` = ? AND `tenantId` = ? AND `appId` IS NULL'
const TENANT_SQL = 'SELECT `id` FROM `tenants` WHERE `id` = ?'

async function tenantRole(models: ReferenceModels, accountId: string, tenantId: string): Promise<Role | undefined> {
  const rows = await readerFor(models.Collaborator.sequelize!)(ROLE_SQL, [accountId, tenantId])
  // Own keys only: `in` would take 'constructor' (which SQLite's untyped column can hold) for a role.
  return rows
    .filter((r) => r.accountId === accountId && r.tenantId === tenantId)
    .map((r) => r.permission as Role | null)
    .filter((p): p is Role => p !== null && Object.hasOwn(RANK, p))
    .sort((a, b) => RANK[b] - RANK[a])[0]
}

/**
 * Throws unless the principal may do `action` in the tenant. A user who is not a member
 * gets `hidden` (a 404), so a tenant's integrations are indistinguishable from absent ones.
 */
export async function authorize(
  models: ReferenceModels,
  principal: Principal,
  tenantId: string,
  action: Action,
  hidden: () => Error,
): Promise<void> {
  if (principal.type === 'service') {
    const scope = action === 'credentials' ? SCOPES.credentials : action === 'read' || action === 'audit' ? SCOPES.read : undefined
    if (!scope) throw forbidden('Service tokens may only read integrations')
    if (!principal.scopes.has(scope)) throw forbidden(`This service token lacks the ${scope} scope`)
    return
  }
  const role = await tenantRole(models, principal.accountId, tenantId)
  if (!role) throw hidden()
  if (action === 'credentials') {
    throw forbidden(`Decrypted credentials are only for service tokens with the ${SCOPES.credentials} scope`)
  }
  // Written to fail closed: an unranked role or action compares false and is refused.
  if (!(RANK[role] >= RANK[NEEDS[action]])) throw forbidden(`This needs the ${NEEDS[action]} role in the tenant; you are ${role}`)
}

export const tenantNotFound = () => notFound('Tenant not found')

/** Reading a tenant's integrations (or, with 'audit', its audit trail): members by role, services by scope, for tenants that exist. */
export async function authorizeTenantRead(
  models: ReferenceModels,
  principal: Principal,
  tenantId: string,
  action: 'read' | 'audit' = 'read',
): Promise<void> {
  if (principal.type === 'service') {
    const tenants = await readerFor(models.Tenant.sequelize!)(TENANT_SQL, [tenantId])
    if (!tenants.some((t) => t.id === tenantId)) throw tenantNotFound()
  }
  await authorize(models, principal, tenantId, action, tenantNotFound)
}
