import { Type } from '@sinclair/typebox'
import { StringEnum } from '../../http/common-schemas.js'
import type { TokenMinter } from '../../verification/access-token.js'
import { checkGithubAppKey, githubAppCredentials, installationToken, type Permissions } from '../../verification/github-app.js'
import type { Verifier } from '../../verification/types.js'
import { secretField, textField } from '../define/fields.js'
import { locateGithubRepository } from './github-repository.js'

/** The repository permissions an installation token may be narrowed to (GitHub's names). */
const REPOSITORY_PERMISSIONS = [
  'actions',
  'checks',
  'contents',
  'deployments',
  'issues',
  'metadata',
  'pull_requests',
  'statuses',
  'workflows',
] as const

/** An id GitHub shows as a number: taken as the number or as its digits, stored and answered as the digits. */
const GithubId = (description: string) =>
  Type.Union(
    [Type.String({ minLength: 1, maxLength: 20, pattern: '^[0-9]+$' }), Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })],
    { description, examples: ['123456'] },
  )

/** The fields of a GitHub App connection, the same for every kind that connects to a GitHub repository. */
export const githubAppFields = {
  githubAppId: { ...textField(GithubId('The GitHub App id (App settings, "App ID")')), normalize: String },
  githubInstallationId: { ...textField(GithubId("The id of the App's installation on the repository's account")), normalize: String },
  githubAppPrivateKey: secretField('A private key of the GitHub App (PEM, as GitHub issues it)', { check: checkGithubAppKey }),
}

const level = StringEnum(['read', 'write'] as const)

/**
 * Installation access tokens of a GitHub App, limited to the integration's repository and to the permissions asked
 * for (by default `needs`, what Delivr needs of the kind). Asking for more than the installation grants is refused.
 */
export function githubInstallationMinter(needs: Permissions): TokenMinter {
  return {
    options: {
      permissions: Type.Optional(
        Type.Object(Object.fromEntries(REPOSITORY_PERMISSIONS.map((name) => [name, Type.Optional(level)])), {
          additionalProperties: false,
          minProperties: 1,
          description: `What the token may do in the integration's repository: a subset of what the App's installation grants (more is refused, 422). Default: ${Object.entries(
            needs,
          )
            .map(([name, l]) => `${name}: ${l}`)
            .join(', ')}`,
          examples: [{ contents: 'read' }],
        }),
      ),
    },
    callsProvider: true,
    grants(options) {
      const asked = (options?.permissions as Permissions | undefined) ?? needs
      return Object.entries(asked)
        .map(([name, l]) => `${name}:${l}`)
        .sort()
    },
    async mint(request, context) {
      const credentials = githubAppCredentials(request)
      if (!credentials) return { refused: 'The integration holds no GitHub App credentials' }
      const asked = Object.fromEntries((request.grants ?? []).map((grant) => grant.split(':') as [string, 'read' | 'write']))
      const where = locateGithubRepository(request, context.apis)
      const minted = await installationToken(context, where, credentials, asked)
      if ('refused' in minted) {
        const reason = minted.reason.charAt(0).toUpperCase() + minted.reason.slice(1)
        return minted.refused === 'permissions' ? { denied: reason } : { refused: reason }
      }
      const granted = Object.entries(minted.permissions).map(([name, l]) => `${name}:${l}`)
      return { token: minted.token, expiresAt: minted.expiresAt, grants: granted.length > 0 ? granted.sort() : [...(request.grants ?? [])] }
    },
  }
}

/** Connecting with a GitHub App, for a kind that verifies with `verify` and needs `needs` of the repository. */
export function githubAppConnection(verify: Verifier, needs: Permissions, verifies: string) {
  return {
    id: 'githubApp',
    label: 'GitHub App',
    required: ['githubAppId', 'githubInstallationId', 'githubAppPrivateKey'] as const,
    verify,
    verifies,
    mint: githubInstallationMinter(needs),
  }
}
