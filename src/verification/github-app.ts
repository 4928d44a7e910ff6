import { createPrivateKey, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import { githubRequest, type GithubRepository } from './github-api.js'
import { isJsonObject, providerError, readJsonObject, stringAt, throwIfUnavailable, toIsoInstant, valueAt } from './provider-http.js'
import { accessToken, type RepositoryAccess } from './repository-access.js'
import type { VerifyContext, VerifyRequest } from './types.js'

const PROVIDER = 'GitHub'
/**
 * GitHub refuses App JWTs that expire more than 10 minutes ahead. `iat` is set back 30 s for clock drift, as GitHub
 * advises, and the token expires 9 minutes from now: it lives 9.5 minutes, under the 10.
 */
const APP_JWT_EXPIRES_IN_SECONDS = 9 * 60
const CLOCK_DRIFT_SECONDS = 30

/** What an integration connected with a GitHub App holds. */
export interface GithubAppCredentials {
  appId: string
  installationId: string
  /** The App's private key, PEM (PKCS#1 as GitHub issues it, or PKCS#8). */
  privateKey: string
}

/** A repository permission level, as GitHub names them. */
export type PermissionLevel = 'read' | 'write' | 'admin'
export type Permissions = Record<string, PermissionLevel>

/** The App credentials of a GitHub App integration; undefined when it is connected another way. */
export function githubAppCredentials(request: VerifyRequest): GithubAppCredentials | undefined {
  const { githubAppId: appId, githubInstallationId: installationId } = request.values
  const privateKey = request.secrets.githubAppPrivateKey
  if (typeof appId !== 'string' || typeof installationId !== 'string' || typeof privateKey !== 'string') return undefined
  return { appId, installationId, privateKey }
}

/** The App's RSA private key, or undefined when the PEM is not one. */
export function githubAppKey(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey(pem.trim())
    return key.asymmetricKeyType === 'rsa' ? key : undefined
  } catch {
    return undefined
  }
}

/** The stored PEM is the private key of a GitHub App (RSA). */
export function checkGithubAppKey(value: unknown): string | undefined {
  return typeof value === 'string' && githubAppKey(value) ? undefined : 'must be the private key of the GitHub App (a PEM RSA private key)'
}

/** The JWT that authenticates as the App (RS256, `iss` the App id, under 10 minutes). */
async function appJwt(credentials: GithubAppCredentials, key: KeyObject): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(credentials.appId)
    .setIssuedAt(now - CLOCK_DRIFT_SECONDS)
    .setExpirationTime(now + APP_JWT_EXPIRES_IN_SECONDS)
    .sign(key)
}

/** Why GitHub would not give an installation token; each reads as one sentence, safe to show. */
export type InstallationRefusal =
  /** The App's key or id: the credential itself. */
  | { refused: 'key'; reason: string }
  /** The installation is gone or suspended: the credential no longer works. */
  | { refused: 'installation'; reason: string }
  /** The installation does not see the repository. */
  | { refused: 'repository'; reason: string }
  /** More permissions were asked than the installation grants: the ask, not the credential. */
  | { refused: 'permissions'; reason: string }

export interface InstallationToken {
  token: string
  expiresAt: Date
  /** What the token may do, as GitHub granted it. */
  permissions: Permissions
  /** What the installation grants (every token of it is a subset). */
  installationPermissions: Permissions
  /** The account the App is installed on. */
  account: string | null
}

function permissionsAt(value: unknown): Permissions {
  if (!isJsonObject(value)) return {}
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, PermissionLevel] => ['read', 'write', 'admin'].includes(String(entry[1]))),
  )
}

const RANK: Record<PermissionLevel, number> = { read: 1, write: 2, admin: 3 }

/** The permissions of `asked` that `granted` does not cover. */
export function notGranted(asked: Permissions, granted: Permissions): string[] {
  return Object.entries(asked)
    .filter(([name, level]) => granted[name] === undefined || RANK[granted[name]] < RANK[level])
    .map(([name, level]) => `${name}: ${level}`)
}

/** The part of `asked` that `granted` covers, each at the level asked, with metadata read (which every installation has). */
export function grantedPart(asked: Permissions, granted: Permissions): Permissions {
  const covered = Object.entries(asked).filter(([name, level]) => notGranted({ [name]: level }, granted).length === 0)
  return { metadata: 'read', ...Object.fromEntries(covered) }
}

/**
 * An installation access token for one repository with `permissions`, through the guarded client: authenticates as
 * the App, reads the installation (is it there, not suspended, what it grants), then asks for the token. Asking for
 * more than the installation grants is refused, unless `onlyGranted`: then the granted part is asked for (a verifier
 * checks what is missing on its own). Throws ProviderUnavailableError when GitHub gives no answer.
 */
export async function installationToken(
  context: VerifyContext,
  where: GithubRepository,
  credentials: GithubAppCredentials,
  asked: Permissions,
  options: { onlyGranted?: boolean } = {},
): Promise<InstallationToken | InstallationRefusal> {
  const key = githubAppKey(credentials.privateKey)
  if (!key) return { refused: 'key', reason: "the App's private key cannot be used: it is not a PEM RSA private key" }
  const jwt = await appJwt(credentials, key)
  const installationPath = `/app/installations/${encodeURIComponent(credentials.installationId)}`
  const call = (path: string, body?: unknown) => githubRequest(context, where, jwt, `${installationPath}${path}`, body)

  const installation = await call('')
  throwIfUnavailable(PROVIDER, installation)
  if (installation.status === 401) {
    return { refused: 'key', reason: `GitHub refused the App's key (App ${credentials.appId}): the App id or its private key is wrong` }
  }
  if (installation.status === 404) {
    return { refused: 'installation', reason: `installation ${credentials.installationId} of App ${credentials.appId} was not found` }
  }
  if (installation.status !== 200) throw providerError(PROVIDER, installation)
  const found = readJsonObject(installation)
  if (stringAt(found, 'suspended_at')) {
    return { refused: 'installation', reason: `installation ${credentials.installationId} of App ${credentials.appId} is suspended` }
  }
  const installationPermissions = permissionsAt(valueAt(found, 'permissions'))
  const account = stringAt(found, 'account', 'login') ?? null
  const missing = notGranted(asked, installationPermissions)
  const permissions = options.onlyGranted ? grantedPart(asked, installationPermissions) : asked
  if (missing.length > 0 && !options.onlyGranted) {
    return { refused: 'permissions', reason: `the App's installation does not grant ${missing.join(', ')}` }
  }

  const minted = await call('/access_tokens', { repositories: [where.repo], permissions })
  throwIfUnavailable(PROVIDER, minted)
  if (minted.status === 422) {
    return /permission/i.test(stringAt(readJsonObject(minted), 'message') ?? '')
      ? { refused: 'permissions', reason: "the App's installation does not grant the permissions asked for" }
      : { refused: 'repository', reason: `the App's installation cannot see ${where.owner}/${where.repo}` }
  }
  if (minted.status === 401) return { refused: 'key', reason: `GitHub refused the App's key (App ${credentials.appId})` }
  if (minted.status === 403 || minted.status === 404) {
    return {
      refused: 'installation',
      reason: `installation ${credentials.installationId} of App ${credentials.appId} may not issue tokens`,
    }
  }
  const body = minted.status === 201 ? readJsonObject(minted) : undefined
  const token = stringAt(body, 'token')
  const expiresAt = toIsoInstant(stringAt(body, 'expires_at'))
  if (!token || !expiresAt) throw providerError(PROVIDER, minted)
  return {
    token,
    expiresAt: new Date(expiresAt),
    permissions: permissionsAt(valueAt(body, 'permissions')),
    installationPermissions,
    account,
  }
}

/** How a GitHub verifier reads: a token, and what it may do when the credential says so rather than the repository. */
export interface GithubAccess {
  token: string
  /** What the App's installation grants; undefined for a personal access token (the repository tells what it may do). */
  granted?: Permissions
}

/**
 * The token a GitHub verifier reads the repository with: the personal access token, or an installation token of the
 * App asking for `needs` (or the part of them the installation grants, so the check that needs the rest fails on
 * its own). Records on `access` why there is none, and answers undefined then.
 */
export async function githubAccess(
  request: VerifyRequest,
  context: VerifyContext,
  where: GithubRepository,
  access: RepositoryAccess,
  needs: Permissions,
): Promise<GithubAccess | undefined> {
  const app = githubAppCredentials(request)
  if (!app) {
    const token = accessToken(request)
    if (token === undefined) access.noToken()
    return token === undefined ? undefined : { token }
  }
  const minted = await installationToken(context, where, app, needs, { onlyGranted: true })
  if ('refused' in minted) {
    if (minted.refused === 'repository') {
      access.accepted(`GitHub accepted the App's key (installation ${app.installationId})`)
      access.notVisible(minted.reason)
    } else access.refused(minted.reason)
    return undefined
  }
  access.accepted(`GitHub accepted the App's key (installation ${app.installationId}${minted.account ? ` on ${minted.account}` : ''})`)
  return { token: minted.token, granted: minted.installationPermissions }
}

/** What an installation token may do with `name` (contents, actions), in the shape githubPermission reads a repository's. */
export function installationPermission(granted: Permissions, name: string): { role: string; push: boolean } {
  return { role: `${name}: ${granted[name] ?? 'none'}`, push: notGranted({ [name]: 'write' }, granted).length === 0 }
}
