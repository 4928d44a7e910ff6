import type { OutboundResponse } from '../outbound/index.js'
import { CheckList, providerError, readJsonObject, throwIfUnavailable, type JsonObject } from './provider-http.js'
import type { VerificationResult, VerifyRequest } from './types.js'

export const SCM_CHECKS = ['authenticated', 'repository-visible', 'can-push', 'default-branch-exists'] as const

export type Visibility = 'private' | 'public' | 'internal'

export type ScmFacts = {
  fullName: string | null
  defaultBranch: string | null
  visibility: Visibility | null
}

export function toVisibility(value: string | undefined): Visibility | null {
  return value === 'private' || value === 'public' || value === 'internal' ? value : null
}

export function accessToken(request: VerifyRequest): string | undefined {
  const token = request.secrets.accessToken
  return typeof token === 'string' && token !== '' ? token : undefined
}

/** The branch Delivr was told to use; the provider's default when none is stored. */
export function branchToCheck(request: VerifyRequest, providerDefault: string | null): string | null {
  const configured = request.values.defaultBranch
  return typeof configured === 'string' && configured !== '' ? configured : providerDefault
}

/** Keeps the slashes of a branch name as path separators, as the GitHub and Bitbucket routes expect. */
export function branchPath(branch: string): string {
  return branch.split('/').map(encodeURIComponent).join('/')
}

/** How a provider says why it refused: read from its 401 and 403 answers. */
export interface RefusalReader {
  expired(res: OutboundResponse): boolean
  forbidden(res: OutboundResponse): string
}

/**
 * Signing in and seeing the repository: the `authenticated` and `repository-visible` checks
 * of every verifier that starts from a repository, worded once. The caller owns the check list,
 * so a verifier with other checks after these (GitHub Actions) shares the first two.
 */
export class RepositoryAccess {
  constructor(
    protected readonly checks: CheckList,
    readonly provider: string,
    /** How the repository is named in details: as configured until the provider names it. */
    protected name: string,
  ) {}

  get repository(): string {
    return this.name
  }

  get failed(): boolean {
    return this.checks.failed
  }

  #authenticated = false

  /** The credential was accepted before the repository was asked for (a GitHub App's installation). */
  accepted(detail: string): void {
    this.checks.pass('authenticated', detail)
    this.#authenticated = true
  }

  /** The credential was refused before the repository was asked for; `reason` follows "… because". */
  refused(reason: string, verdict: 'INVALID' | 'EXPIRED' = 'INVALID'): void {
    this.checks.fail('authenticated', {
      detail: reason,
      message: `${this.provider} refused the credentials: ${reason}`,
      skipped: 'the credentials were refused',
      verdict,
    })
  }

  /** The credential cannot see the repository, as the provider said before it was asked for it. */
  notVisible(reason: string): void {
    this.checks.fail('repository-visible', {
      detail: reason,
      message: `Repository ${this.name} is not visible: ${reason}`,
      skipped: 'the repository is not visible',
    })
  }

  noToken(): void {
    this.checks.fail('authenticated', {
      detail: 'no access token was given',
      message: 'No access token was given',
      skipped: 'no access token was given',
    })
  }

  /**
   * The repository's JSON when the provider shows it (200). Otherwise records why not: a refused
   * or expired token, a repository not found, or one the token may not read. Throws when the
   * provider gave no verdict.
   */
  readRepository(res: OutboundResponse, refusal: RefusalReader): JsonObject | undefined {
    throwIfUnavailable(this.provider, res)
    // A token the provider issued a moment ago (an App's installation token) refused: no verdict on the credential.
    if (res.status === 401 && this.#authenticated) throw providerError(this.provider, res)
    if (res.status === 401) {
      const expired = refusal.expired(res)
      this.checks.fail('authenticated', {
        detail: expired ? `${this.provider} says the token has expired` : `${this.provider} refused the token`,
        message: expired ? `${this.provider} says the access token has expired` : `${this.provider} refused the access token`,
        skipped: expired ? 'the token has expired' : 'the token was refused',
        verdict: expired ? 'EXPIRED' : 'INVALID',
      })
      return undefined
    }
    if (!this.#authenticated) this.checks.pass('authenticated', `${this.provider} accepted the token`)
    if (res.status === 404) {
      this.checks.fail('repository-visible', {
        detail: 'repository not found or the token cannot see it',
        message: `Repository ${this.name} was not found or the token cannot see it`,
        skipped: 'the repository is not visible',
      })
      return undefined
    }
    if (res.status === 403) {
      // The token was accepted but the provider refused this repository, e.g. SSO or a missing scope.
      const reason = refusal.forbidden(res)
      this.checks.fail('repository-visible', {
        detail: `${this.provider} refused access to the repository: ${reason}`,
        message: `${this.provider} refused access to ${this.name}: ${reason}`,
        skipped: 'the repository is not visible',
      })
      return undefined
    }
    if (res.status !== 200) throw providerError(this.provider, res)
    return readJsonObject(res)
  }

  /** Passes `repository-visible`, naming the repository as the provider does from now on. */
  seen(fullName: string | null, visibility: string | null = null): void {
    if (fullName) this.name = fullName
    this.checks.pass('repository-visible', `token can see ${this.name}${visibility ? ` (${visibility})` : ''}`)
  }
}

/**
 * The four source-control checks and their wording, shared by every SCM provider.
 * Delivr creates release branches and tags, so VALID needs push access and the branch.
 */
export class ScmVerification extends RepositoryAccess {
  readonly facts: ScmFacts = { fullName: null, defaultBranch: null, visibility: null }
  readonly credential: VerificationResult['credential'] = { expiresAt: null, scopes: null }

  constructor(provider: string, repository: string) {
    super(new CheckList(SCM_CHECKS), provider, repository)
  }

  visible(facts: ScmFacts): void {
    Object.assign(this.facts, facts)
    this.seen(facts.fullName, facts.visibility)
  }

  canPush(how: string): void {
    this.checks.pass('can-push', `token can push to ${this.name} (${how})`)
  }

  cannotPush(permission: string): void {
    this.checks.fail('can-push', {
      detail: `token can read but not push (permission: ${permission})`,
      message: `The token can read ${this.name} but cannot push to it (permission: ${permission})`,
      skipped: 'the token cannot push',
    })
  }

  archived(): void {
    this.checks.fail('can-push', {
      detail: `${this.name} is archived, so nothing can be pushed to it`,
      message: `${this.name} is archived, so the token cannot push to it`,
      skipped: 'the repository is archived',
    })
  }

  permissionUnknown(reason: string): void {
    this.checks.fail('can-push', {
      detail: `could not tell whether the token can push: ${reason}`,
      message: `Could not tell whether the token can push to ${this.name}: ${reason}`,
      skipped: 'push access is not known',
    })
  }

  branchExists(branch: string): void {
    this.checks.pass('default-branch-exists', `branch ${branch} exists`)
  }

  branchMissing(branch: string | null): void {
    const detail = branch === null ? `${this.name} has no default branch` : `branch ${branch} does not exist in ${this.name}`
    this.checks.fail('default-branch-exists', {
      detail,
      message: detail.charAt(0).toUpperCase() + detail.slice(1),
      skipped: 'the branch is missing',
    })
  }

  result(): VerificationResult {
    return this.checks.result(`Verified: token can push to ${this.name}`, {
      facts: { ...this.facts },
      credential: { ...this.credential },
    })
  }
}

/** Runs default-branch-exists: 200 means the branch exists, 404 that it does not. */
export async function checkBranch(
  check: ScmVerification,
  branch: string | null,
  fetchBranch: (branch: string) => Promise<OutboundResponse>,
): Promise<void> {
  if (branch === null) {
    check.branchMissing(null)
    return
  }
  const res = await fetchBranch(branch)
  throwIfUnavailable(check.provider, res)
  if (res.status === 200) check.branchExists(branch)
  else if (res.status === 404) check.branchMissing(branch)
  else throw providerError(check.provider, res)
}
