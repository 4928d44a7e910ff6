import { ProviderUnavailableError } from '../../http/errors.js'
import type { TokenRotation } from '../../verification/access-token.js'
import { numberAt, stringAt } from '../../verification/provider-http.js'
import { callSlack } from './slack.js'

/** Why Slack refused to renew, by its documented error code; wording safe to show. */
const REFUSALS: Record<string, string> = {
  invalid_refresh_token:
    'Slack refused the refresh token (invalid_refresh_token): it was revoked or already spent, which a renewal whose answer was never stored also does. Reconnect the Slack app',
  invalid_client_id: 'Slack does not know the client id (invalid_client_id)',
  bad_client_secret: 'Slack refused the client secret (bad_client_secret)',
  invalid_grant_type: 'token rotation is not enabled for the Slack app (invalid_grant_type)',
  token_revoked: 'Slack says the token was revoked (token_revoked)',
}

/**
 * Slack token rotation: the bot token (`xoxe.xoxb-…`) lives 12 hours; `oauth.v2.access` with the refresh token, the
 * app's client id and secret gives the next one and a new refresh token, and the one spent works no more.
 */
export const slackTokenRotation: TokenRotation = {
  tokenField: 'botToken',
  expiresField: 'botTokenExpiresAt',
  refreshField: 'refreshToken',
  leaseFields: { id: 'tokenRenewalLease', until: 'tokenRenewalLeaseUntil' },
  async refresh(request, context) {
    const asked = Date.now()
    const { body, error } = await callSlack(context, 'oauth.v2.access', {
      form: {
        grant_type: 'refresh_token',
        refresh_token: request.secrets.refreshToken ?? '',
        client_id: typeof request.values.slackClientId === 'string' ? request.values.slackClientId : '',
        client_secret: request.secrets.slackClientSecret ?? '',
      },
    })
    if (error !== undefined) {
      const known = REFUSALS[error]
      if (known) return { refused: known }
      throw new ProviderUnavailableError(
        'PROVIDER_ERROR',
        `Slack did not renew the token (${/^[a-z_]{1,64}$/.test(error) ? error : 'no reason'}); try again later`,
      )
    }
    const token = stringAt(body, 'access_token')
    const refreshToken = stringAt(body, 'refresh_token')
    const expiresIn = numberAt(body, 'expires_in')
    if (!token || !refreshToken || expiresIn === undefined || expiresIn <= 0) {
      throw new ProviderUnavailableError(
        'PROVIDER_ERROR',
        'Slack answered the renewal without a token, a refresh token or a lifetime; try again later',
      )
    }
    // The lifetime counts from the ask: the token is never taken for longer-lived than it is.
    return { token, refreshToken, expiresAt: new Date(asked + expiresIn * 1000) }
  },
}
