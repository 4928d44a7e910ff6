import type { Config } from '../config/load-config.js'
import { FieldError, ProviderUnavailableError, ServiceError, unprocessable } from '../http/errors.js'
import {
  connectionOf,
  handedOutSecret,
  holds,
  type Connection,
  type FieldValues,
  type KindDefinition,
  type ProviderSpec,
} from '../kinds/define/kind.js'
import {
  runMinter,
  type MintContext,
  type MintedToken,
  type TokenMinter,
  type TokenRotation,
  type TokenType,
} from '../verification/access-token.js'
import type { Actor } from '../events/journal.js'
import { tokenCache, type TokenSource } from './token-cache.js'
import type { RawRow } from './view.js'

/** What a consumer gets: one shape for every provider, minted or stored. */
export interface AccessToken {
  accessToken: string
  tokenType: TokenType
  expiresAt: string | null
  shortLived: boolean
  grants: string[] | null
}

/** How a token was served, for metrics: never the token. */
export type TokenOutcome = TokenSource | 'stored' | 'refused' | 'denied' | 'unavailable'

export interface AccessTokenDeps {
  context: MintContext
  settings: Config['accessTokens']
  observe?: (provider: string, outcome: TokenOutcome) => void
}

/** A rotating connection's current token, and whether this call renewed it (or found it held, renewed by another). */
export interface Renewal {
  token: MintedToken
  renewed: boolean
}

/** Who asks for a token, and what admits a call to the provider (run before one is made, and only then). */
export interface TokenAsk {
  actor: Actor
  admit?: () => Promise<void>
}

export interface IntegrationAccess {
  /** The row's plaintext secrets: all of them, or only those named. */
  secrets(row: RawRow, only?: readonly string[]): Record<string, string>
  /** The row's non-secret fields, as a verifier or minter reads them. */
  values(row: RawRow): FieldValues
  /** Records that the provider refused the stored credential, on the version read; throws when it cannot land. */
  refuse(row: RawRow, message: string, actor: Actor): Promise<void>
  /** The current token of a rotating connection, renewed (once across replicas) when about to expire. */
  renew(row: RawRow, rotation: TokenRotation, ask: TokenAsk): Promise<Renewal>
}

const iso = (value: unknown) => (value == null ? null : new Date(value as string | number | Date).toISOString())

/**
 * Access tokens of one kind's integrations: minted by the provider's minter (cached per integration and grants,
 * one mint for concurrent asks), or, for a provider without one, the stored secret as it is.
 */
export function accessTokenIssuer(kind: KindDefinition, deps: AccessTokenDeps, access: IntegrationAccess) {
  const cache = tokenCache<MintedToken>({ refreshMarginMs: deps.settings.refreshMarginSeconds * 1000 })
  const providers = new Map(kind.providers.map((p) => [p.id, p]))
  const spec = (row: RawRow) => providers.get(String(row[kind.providerField]))!
  /** How the integration is connected, and so what mints its tokens. */
  const connection = (row: RawRow) => connectionOf(spec(row), holds(row))

  function handedOut(row: RawRow, provider: ProviderSpec, way: Connection): AccessToken {
    const field = handedOutSecret(kind, provider, way)
    const secret = field === undefined ? undefined : access.secrets(row, [field])[field]
    // Every provider's required secret is stored on create and can only be replaced: a definition without one is a bug.
    if (secret === undefined) throw new Error(`${kind.segment} ${provider.id} has no secret to hand out and no minter`)
    deps.observe?.(provider.id, 'stored')
    return {
      accessToken: secret,
      tokenType: provider.tokenType?.(access.values(row)) ?? 'Bearer',
      expiresAt: iso(row.credentialExpiresAt),
      shortLived: false,
      grants: null,
    }
  }

  /** The body's options for this provider and way; a body naming another provider, or options of another way, is refused. */
  function optionsFor(provider: ProviderSpec, way: Connection, body: FieldValues | null): FieldValues | null {
    if (body === null || Object.keys(body).length === 0) return null
    if (body[kind.providerField] !== provider.id) {
      throw new FieldError(kind.providerField, `must be ${provider.id}, the provider of this integration`)
    }
    const { [kind.providerField]: _provider, ...options } = body
    const foreign = Object.keys(options).find((name) => !(name in (way.mint?.options ?? {})))
    if (foreign !== undefined) throw new FieldError(foreign, `does not apply to ${provider.label} integrations connected with ${way.label}`)
    return options
  }

  async function mint(
    row: RawRow,
    provider: ProviderSpec,
    minter: TokenMinter,
    grants: string[] | null,
    actor: Actor,
  ): Promise<MintedToken> {
    try {
      const request = { provider: provider.id, values: access.values(row), secrets: access.secrets(row), grants }
      const result = await runMinter(provider.label, minter, request, deps.context)
      if ('refused' in result) {
        deps.observe?.(provider.id, 'refused')
        await access.refuse(row, result.refused, actor)
        throw unprocessable('CREDENTIAL_REFUSED', `${result.refused}. The integration is now INVALID: replace its credentials`)
      }
      if ('denied' in result) {
        deps.observe?.(provider.id, 'denied')
        throw unprocessable('GRANT_NOT_ALLOWED', `${result.denied}. Ask for less, or grant more to the credential`)
      }
      deps.observe?.(provider.id, 'minted')
      return result
    } catch (err) {
      if (err instanceof ProviderUnavailableError) deps.observe?.(provider.id, 'unavailable')
      throw err
    }
  }

  /** The current token of a rotating connection: cached while usable, renewed by one of the replicas when not. */
  async function rotated(row: RawRow, provider: ProviderSpec, rotation: TokenRotation, ask: TokenAsk): Promise<AccessToken> {
    let renewed = false
    const { value, source } = await cache.obtain(String(row.id), Number(row.version), 'rotation', async () => {
      try {
        const renewal = await access.renew(row, rotation, ask)
        renewed = renewal.renewed
        return renewal.token
      } catch (err) {
        if (err instanceof ProviderUnavailableError) deps.observe?.(provider.id, 'unavailable')
        else if (err instanceof ServiceError && err.code === 'CREDENTIAL_REFUSED') deps.observe?.(provider.id, 'refused')
        throw err
      }
    })
    deps.observe?.(provider.id, source === 'minted' ? (renewed ? 'minted' : 'stored') : source)
    return { accessToken: value.token, tokenType: 'Bearer', expiresAt: value.expiresAt.toISOString(), shortLived: true, grants: null }
  }

  return {
    /** Whether GET …/credentials refuses this integration's long-lived secret (LONG_LIVED_CREDENTIALS=refuse and it can mint). */
    refusesLongLived(row: RawRow) {
      const way = connection(row)
      return deps.settings.longLivedCredentials === 'refuse' && (way.mint !== undefined || way.rotate !== undefined)
    },

    /**
     * A token for the integration `row` (read with its secrets and version), asked by `ask.actor`. `ask.admit` runs
     * before the provider is asked, and only then: a cached token, a shared mint or a local signature costs nothing.
     */
    async issue(row: RawRow, body: FieldValues | null, ask: TokenAsk): Promise<AccessToken> {
      const provider = spec(row)
      const way = connection(row)
      const options = optionsFor(provider, way, body)
      if (way.rotate) return rotated(row, provider, way.rotate, ask)
      const minter = way.mint
      if (!minter) return handedOut(row, provider, way)
      const grants = minter.grants(options)
      const { value, source } = await cache.obtain(
        String(row.id),
        Number(row.version),
        JSON.stringify(grants),
        () => mint(row, provider, minter, grants, ask.actor),
        minter.callsProvider ? ask.admit : undefined,
      )
      if (source !== 'minted') deps.observe?.(provider.id, source)
      return {
        accessToken: value.token,
        tokenType: 'Bearer',
        expiresAt: value.expiresAt.toISOString(),
        shortLived: true,
        grants: value.grants,
      }
    },

    /** Forgets the integration's cached tokens: after any write to it. */
    drop: (id: string) => cache.drop(id),
  }
}

/** 403 for the long-lived secret of an integration that can mint, naming the route that gives a short-lived token. */
export function longLivedRefused(kind: KindDefinition): ServiceError {
  return new ServiceError(
    403,
    'LONG_LIVED_CREDENTIALS_REFUSED',
    `This integration's long-lived credentials are not handed out here: ask POST /api/v1/integrations/${kind.segment}/{id}/access-token for a short-lived token`,
  )
}
