import { ProviderUnavailableError } from '../../http/errors.js'
import {
  booleanAt,
  CheckList,
  parseScopes,
  providerError,
  rateLimitedError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  type CheckFailure,
  type JsonObject,
} from '../../verification/provider-http.js'
import type { OutboundResponse } from '../../outbound/index.js'
import type { VerificationResult, Verifier, VerifyContext } from '../../verification/types.js'

const PROVIDER = 'Slack'
const CHECKS = ['authenticated', 'is-bot-token', 'can-post-messages'] as const
const POST_SCOPE = 'chat:write'
/** A bot token: `xoxb-`, or `xoxe.xoxb-` when the app rotates its tokens. */
const BOT_TOKEN = /^(xoxe\.)?xoxb-/

/** Slack's `ok: false` errors that mean its side failed, not the token. */
const UNAVAILABLE = new Set(['fatal_error', 'internal_error', 'service_unavailable'])

/** Why Slack refused the token, by its documented error code; wording safe to show. */
const REFUSALS: Record<string, string> = {
  invalid_auth: 'the token is not recognised (invalid_auth)',
  not_authed: 'no token reached Slack (not_authed)',
  account_inactive: 'the bot user or its workspace has been deactivated (account_inactive)',
  token_revoked: 'the token has been revoked (token_revoked)',
  missing_scope: 'the token lacks a scope this method needs (missing_scope)',
  no_permission: 'the token has no permission to call this method (no_permission)',
}

/** `needed` lists the missing scopes as a comma-separated string. */
function missingScopes(needed: string | undefined): string | undefined {
  return needed !== undefined && /^[a-z:._]+(,[a-z:._]+)*$/.test(needed) ? needed.split(',').join(', ') : undefined
}

function refusal(error: string, needed: string | undefined): CheckFailure {
  if (error === 'token_expired') {
    return {
      detail: 'Slack says the token has expired',
      message: 'Slack says the bot token has expired',
      skipped: 'the token has expired',
      verdict: 'EXPIRED',
    }
  }
  const scopes = error === 'missing_scope' ? missingScopes(needed) : undefined
  // Slack error codes are short snake_case identifiers, safe to name when no wording is known.
  const reason = scopes
    ? `the token lacks the scope ${scopes} (missing_scope)`
    : (REFUSALS[error] ?? (/^[a-z0-9_]{1,64}$/.test(error) ? `error ${error}` : 'no reason was given'))
  return {
    detail: `Slack refused the token: ${reason}`,
    message: `Slack refused the bot token: ${reason}`,
    skipped: 'the token was refused',
    verdict: 'INVALID',
  }
}

function emptyResult(checks: CheckList): VerificationResult {
  return checks.result('', {
    facts: { teamId: null, team: null, workspaceUrl: null, botUserId: null },
    credential: { expiresAt: null, scopes: null },
  })
}

/**
 * Calls a Slack Web API method (a form POST, with the bot token when given) and reads its answer: the body, and
 * Slack's `error` when it says `ok: false`. Throws when Slack gave no answer to act on: rate limited, its own
 * failure, or not the Web API's shape.
 */
export async function callSlack(
  context: VerifyContext,
  method: string,
  options: { token?: string; form?: Record<string, string> },
): Promise<{ res: OutboundResponse; body: JsonObject; error?: string }> {
  const res = await context.http.request({
    url: `${context.apis.slack}/${method}`,
    method: 'POST',
    headers: {
      ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
    },
    body: new URLSearchParams(options.form ?? {}).toString(),
    target: 'configured',
  })
  throwIfUnavailable(PROVIDER, res)
  if (res.status !== 200) throw providerError(PROVIDER, res)
  const body = readJsonObject(res)
  const ok = booleanAt(body, 'ok')
  if (ok === undefined) {
    throw new ProviderUnavailableError('PROVIDER_ERROR', 'Slack did not answer like the Slack Web API; no verdict could be given')
  }
  if (ok) return { res, body }
  const error = stringAt(body, 'error') ?? ''
  if (error === 'ratelimited') throw rateLimitedError(PROVIDER, res)
  if (UNAVAILABLE.has(error)) throw new ProviderUnavailableError('PROVIDER_ERROR', `Slack reported ${error}; try again later`)
  return { res, body, error }
}

export const verifySlack: Verifier = async (request, context) => {
  const checks = new CheckList(CHECKS)
  const token = request.secrets.botToken
  if (typeof token !== 'string' || !BOT_TOKEN.test(token)) {
    const given = typeof token === 'string' && token !== ''
    checks.fail('is-bot-token', {
      detail: given ? 'the token is not a bot token: bot tokens start with xoxb-' : 'no bot token was given',
      message: given ? 'The token is not a bot token: Slack bot tokens start with xoxb-' : 'No bot token was given',
      skipped: given ? 'the token is not a bot token' : 'no bot token was given',
    })
    return emptyResult(checks)
  }

  const { res, body, error } = await callSlack(context, 'auth.test', { token })
  if (error !== undefined) {
    checks.fail('authenticated', refusal(error, stringAt(body, 'needed')))
    return emptyResult(checks)
  }

  const team = stringAt(body, 'team') ?? null
  const facts = {
    teamId: stringAt(body, 'team_id') ?? null,
    team,
    workspaceUrl: stringAt(body, 'url') ?? null,
    botUserId: stringAt(body, 'user_id') ?? null,
  }
  const scopes = parseScopes(res.headers['x-oauth-scopes'])
  const workspace = team ?? facts.teamId ?? 'the workspace'
  checks.pass('authenticated', `Slack accepted the token for ${workspace}`)

  if (stringAt(body, 'bot_id')) checks.pass('is-bot-token', 'the token belongs to a bot user')
  else {
    checks.fail('is-bot-token', {
      detail: 'Slack did not report a bot for the token',
      message: 'Slack accepted the token but it does not belong to a bot',
      skipped: 'the token is not a bot token',
    })
  }

  if (!checks.failed) {
    if (scopes === null) checks.pass('can-post-messages', 'scopes not reported')
    else if (scopes.includes(POST_SCOPE)) checks.pass('can-post-messages', `scope ${POST_SCOPE} granted`)
    else {
      checks.fail('can-post-messages', {
        detail: `the token lacks the ${POST_SCOPE} scope`,
        message: `The bot token lacks the ${POST_SCOPE} scope, so it cannot post messages`,
        skipped: 'the token cannot post messages',
      })
    }
  }

  return checks.result(`Verified: the bot can post to ${workspace}`, { facts, credential: { expiresAt: null, scopes } })
}
