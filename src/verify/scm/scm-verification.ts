import type { OutboundResponse } from '../../outbound/index.js'
import { CheckList, providerError, throwIfUnavailable } from '../provider-http.js'
import type { VerificationResult, VerifyRequest } from '../types.js'

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

/**
 * The four source-control checks and their wording, shared by every SCM provider.
 * Delivr creates release branches and tags, so VALID needs push access and the branch.
 */
export class ScmVerification {
  readonly #checks = new CheckList(SCM_CHECKS)
  readonly facts: ScmFacts = { fullName: null, defaultBranch: null, visibility: null }
  readonly credential: VerificationResult['credential'] = { expiresAt: null, scopes: null }

  constructor(
    readonly provider: string,
    /** How the repository is named in details: as configured until the provider names it. */
    private repository: string,
  ) {}

  get failed(): boolean {
    return this.#checks.failed
  }

  noToken(): void {
    this.#checks.fail('authenticated', {
      detail: 'no access token was given',
      message: 'No access token was given',
      skipped: 'no access token was given',
    })
  }

  authenticated(): void {
    this.#checks.pass('authenticated', `${this.provider} accepted the token`)
  }

  refused(expired: boolean): void {
    this.#checks.fail('authenticated', {
      detail: expired ? `${this.provider} says the token has expired` : `${this.provider} refused the token`,
      message: expired ? `${this.provider} says the access token has expired` : `${this.provider} refused the access token`,
      skipped: expired ? 'the token has expired' : 'the token was refused',
      verdict: expired ? 'EXPIRED' : 'INVALID',
    })
  }

  visible(facts: ScmFacts): void {
    Object.assign(this.facts, facts)
    if (facts.fullName) this.repository = facts.fullName
    const visibility = facts.visibility ? ` (${facts.visibility})` : ''
    this.#checks.pass('repository-visible', `token can see ${this.repository}${visibility}`)
  }

  notVisible(): void {
    this.#checks.fail('repository-visible', {
      detail: 'repository not found or the token cannot see it',
      message: `Repository ${this.repository} was not found or the token cannot see it`,
      skipped: 'the repository is not visible',
    })
  }

  /** The token was accepted but the provider refused this repository, e.g. SSO or a missing scope. */
  forbidden(reason: string): void {
    this.#checks.fail('repository-visible', {
      detail: `${this.provider} refused access to the repository: ${reason}`,
      message: `${this.provider} refused access to ${this.repository}: ${reason}`,
      skipped: 'the repository is not visible',
    })
  }

  canPush(how: string): void {
    this.#checks.pass('can-push', `token can push to ${this.repository} (${how})`)
  }

  cannotPush(permission: string): void {
    this.#checks.fail('can-push', {
      detail: `token can read but not push (permission: ${permission})`,
      message: `The token can read ${this.repository} but cannot push to it (permission: ${permission})`,
      skipped: 'the token cannot push',
    })
  }

  archived(): void {
    this.#checks.fail('can-push', {
      detail: `${this.repository} is archived, so nothing can be pushed to it`,
      message: `${this.repository} is archived, so the token cannot push to it`,
      skipped: 'the repository is archived',
    })
  }

  permissionUnknown(reason: string): void {
    this.#checks.fail('can-push', {
      detail: `could not tell whether the token can push: ${reason}`,
      message: `Could not tell whether the token can push to ${this.repository}: ${reason}`,
      skipped: 'push access is not known',
    })
  }

  branchExists(branch: string): void {
    this.#checks.pass('default-branch-exists', `branch ${branch} exists`)
  }

  branchMissing(branch: string | null): void {
    const detail = branch === null ? `${this.repository} has no default branch` : `branch ${branch} does not exist in ${this.repository}`
    this.#checks.fail('default-branch-exists', {
      detail,
      message: detail.charAt(0).toUpperCase() + detail.slice(1),
      skipped: 'the branch is missing',
    })
  }

  result(): VerificationResult {
    return this.#checks.result(`Verified: token can push to ${this.repository}`, {
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
