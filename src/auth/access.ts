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

/** A collaborator row as the role lookup reads it, under its own names or those of a joined read (see MEMBER_COLUMNS). */
type MemberRow = Record<string, unknown>

/** The highest role among rows that name exactly this account and tenant. */
function roleIn(rows: readonly MemberRow[], accountId: string, tenantId: string, names = ROLE_NAMES): Role | undefined {
  // Own keys only: `in` would take 'constructor' (which SQLite's untyped column can hold) for a role.
  return rows
    .filter((r) => r[names.accountId] === accountId && r[names.tenantId] === tenantId)
    .map((r) => r[names.permission] as Role | null)
    .filter((p): p is Role => typeof p === 'string' && Object.hasOwn(RANK, p))
    .sort((a, b) => RANK[b] - RANK[a])[0]
}

const ROLE_NAMES = { permission: 'permission', accountId: 'accountId', tenantId: 'tenantId' }

async function tenantRole(models: ReferenceModels, accountId: string, tenantId: string): Promise<Role | undefined> {
  return roleIn(await readerFor(models.Collaborator.sequelize!)(ROLE_SQL, [accountId, tenantId]), accountId, tenantId)
}

function permitService(principal: Extract<Principal, { type: 'service' }>, action: Action) {
  const scope = action === 'credentials' ? SCOPES.credentials : action === 'read' || action === 'audit' ? SCOPES.read : undefined
  if (!scope) throw forbidden('Service tokens may only read integrations')
  if (!principal.scopes.has(scope)) throw forbidden(`This service token lacks the ${scope} scope`)
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
  if (principal.type === 'service') return permitService(principal, action)
  permitRole(await tenantRole(models, principal.accountId, tenantId), action, hidden)
}

function permitRole(role: Role | undefined, action: Action, hidden: () => Error): void {
  if (!role) throw hidden()
  if (action === 'credentials') {
    throw forbidden(`Decrypted credentials are only for service tokens with the ${SCOPES.credentials} scope`)
  }
  // Written to fail closed: an unranked role or action compares false and is refused.
  if (!(RANK[role] >= RANK[NEEDS[action]])) throw forbidden(`This needs the ${NEEDS[action]} role in the tenant; you are ${role}`)
}

export const tenantNotFound = () => notFound('Tenant not found')

/**
 * One round trip per read: the caller's standing in the tenant travels in the statement that reads the rows.
 * A read by id joins the user's collaborator rows under these names (`memberJoin`); a page or the summary
 * starts with a branch of standing rows (`standingSql`) before its own. The same checks as `authorize` then
 * run on what came back, with no second query.
 */
export const MEMBER_COLUMNS = { permission: 'memberPermission', accountId: 'memberAccountId', tenantId: 'memberTenantId' } as const

/**
 * `LEFT JOIN` of a user's collaborator rows in the row's tenant, for a read of `alias` by id: its
 * one placeholder (the account id) comes before the statement's own. Columns: see `memberSelect`.
 */
export const memberJoin = (table: string) =>
  `LEFT JOIN \`collaborators\` AS \`member\` ON \`member\`.\`accountId\` = ? AND \`member\`.\`tenantId\` = \`${table}\`.\`tenantId\` AND \`member\`.\`appId\` IS NULL`
export const memberSelect = Object.entries(MEMBER_COLUMNS)
  .map(([column, name]) => `\`member\`.\`${column}\` AS \`${name}\``)
  .join(', ')

/** Whether the user read by id with `memberJoin` may do `action` on the row; throws `hidden` (a 404) for a stranger. */
export function permitMember(accountId: string, rows: readonly MemberRow[], action: Action, hidden: () => Error): void {
  const tenantId = rows[0]?.tenantId
  const role = typeof tenantId === 'string' ? roleIn(rows, accountId, tenantId, MEMBER_COLUMNS) : undefined
  permitRole(role, action, hidden)
}

/** Marks the standing rows of a union: the column is NULL on the rows the read is after. */
export const STANDING_COLUMN = 'standing'

/**
 * The first branch of a `UNION ALL` read of a tenant: the user's collaborator rows, or for a service the tenant's
 * own row (it must exist), then NULL for each of `columns` (the other branches' columns, named here). Its
 * placeholders come first: accountId and tenantId for a user, tenantId for a service (see `standingParams`).
 */
export function standingSql(principal: Principal['type'], columns: readonly string[]): string {
  const nulls = columns.map((c) => `, NULL AS \`${c}\``).join('')
  const names = Object.values(MEMBER_COLUMNS).map((n) => `\`${n}\``)
  return principal === 'user'
    ? `SELECT 1 AS \`${STANDING_COLUMN}\`, \`permission\` AS ${names[0]}, \`accountId\` AS ${names[1]}, \`tenantId\` AS ${names[2]}${nulls} FROM \`collaborators\` WHERE \`accountId\` = ? AND \`tenantId\` = ? AND \`appId\` IS NULL`
    : `SELECT 1 AS \`${STANDING_COLUMN}\`, NULL AS ${names[0]}, NULL AS ${names[1]}, \`id\` AS ${names[2]}${nulls} FROM \`tenants\` WHERE \`id\` = ?`
}

/** What a later branch puts in the standing columns. */
export const NOT_STANDING = 'NULL, NULL, NULL, NULL'

export const standingParams = (principal: Principal, tenantId: string): unknown[] =>
  principal.type === 'user' ? [principal.accountId, tenantId] : [tenantId]

/**
 * Splits a union read with `standingSql` into its standing and its rows, and checks what `authorizeTenantRead`
 * checks: a service's tenant exists, a user is a member (404 otherwise). Answers the rows.
 */
export function permitTenantRead<R extends Record<string, unknown>>(principal: Principal, tenantId: string, rows: readonly R[]): R[] {
  const standing = rows.filter((r) => r[STANDING_COLUMN] != null)
  if (principal.type === 'service') {
    if (!standing.some((r) => r[MEMBER_COLUMNS.tenantId] === tenantId)) throw tenantNotFound()
    permitService(principal, 'read')
  } else {
    permitRole(roleIn(standing, principal.accountId, tenantId, MEMBER_COLUMNS), 'read', tenantNotFound)
  }
  return rows.filter((r) => r[STANDING_COLUMN] == null)
}

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
