import { startProviderDouble, testToken, type ProviderDouble, type ReceivedRequest, type Reply } from './provider-double.js'

/** A Slack app with token rotation, as Slack's Web API knows it: single-use refresh tokens, 12-hour bot tokens. */
export interface SlackRotationDouble {
  double: ProviderDouble
  /** SLACK_API_URL for the service. */
  origin: string
  clientId: string
  clientSecret: string
  /** The lifetime (expires_in) of each bot token the next renewals give. */
  expiresIn: number
  /** Refresh tokens Slack would still accept: each works once. */
  refreshTokens: Set<string>
  /** Bot tokens issued, in order, with when each expires (ms). */
  issued: { token: string; expiresAt: number }[]
  /** Renewals Slack answered (a spent or unknown refresh token is not one). */
  renewals: number
  /** Refresh tokens presented again after they were spent. */
  replayed: string[]
  /** When set, a renewal is carried out (the refresh token spent) but its answer never sent: a lost answer. */
  loseAnswers: boolean
  /** A fresh refresh token Slack accepts, as the app's OAuth install gives it. */
  newRefreshToken(): string
  /** The fields that connect an integration with rotation. */
  connection(): { refreshToken: string; slackClientId: string; slackClientSecret: string }
}

const ok = (body: Record<string, unknown>): Reply => ({ status: 200, body: { ok: true, ...body } })
const error = (code: string): Reply => ({ status: 200, body: { ok: false, error: code } })

export async function startSlackRotation(t: Parameters<typeof startProviderDouble>[0]): Promise<SlackRotationDouble> {
  const double = await startProviderDouble(t)
  const spent = new Set<string>()
  const slack: SlackRotationDouble = {
    double,
    origin: double.origin,
    clientId: `${Date.now()}.${Math.floor(Math.random() * 1e10)}`,
    clientSecret: testToken(''),
    expiresIn: 43200,
    refreshTokens: new Set(),
    issued: [],
    renewals: 0,
    replayed: [],
    loseAnswers: false,
    newRefreshToken() {
      const token = testToken('xoxe-1-')
      slack.refreshTokens.add(token)
      return token
    },
    connection: () => ({ refreshToken: slack.newRefreshToken(), slackClientId: slack.clientId, slackClientSecret: slack.clientSecret }),
  }

  /** oauth.v2.access with grant_type=refresh_token: the refresh token is spent, a new pair given. */
  function renew(req: ReceivedRequest): Reply | 'hang' {
    const form = new URLSearchParams(req.body)
    if (form.get('client_id') !== slack.clientId) return error('invalid_client_id')
    if (form.get('client_secret') !== slack.clientSecret) return error('bad_client_secret')
    if (form.get('grant_type') !== 'refresh_token') return error('invalid_grant_type')
    const presented = form.get('refresh_token') ?? ''
    if (!slack.refreshTokens.delete(presented)) {
      if (spent.has(presented)) slack.replayed.push(presented)
      return error('invalid_refresh_token')
    }
    spent.add(presented)
    slack.renewals++
    const token = testToken('xoxe.xoxb-1-')
    slack.issued.push({ token, expiresAt: Date.now() + slack.expiresIn * 1000 })
    const refreshToken = slack.newRefreshToken()
    if (slack.loseAnswers) return 'hang'
    return ok({
      app_id: 'A1',
      scope: 'chat:write,channels:read',
      token_type: 'bot',
      access_token: token,
      bot_user_id: 'U1',
      refresh_token: refreshToken,
      expires_in: slack.expiresIn,
      team: { id: 'T0ROTATING', name: 'Acme' },
      enterprise: null,
      is_enterprise_install: false,
    })
  }

  /** auth.test: a bot token Slack issued and that has not expired works. */
  function authTest(req: ReceivedRequest): Reply {
    const token = String(req.headers.authorization).replace(/^Bearer /, '')
    const issued = slack.issued.find((i) => i.token === token)
    if (!issued) return error('invalid_auth')
    if (issued.expiresAt <= Date.now()) return error('token_expired')
    return {
      headers: { 'x-oauth-scopes': 'chat:write,channels:read' },
      body: { ok: true, url: 'https://acme.slack.com/', team: 'Acme', user: 'delivr', team_id: 'T0ROTATING', user_id: 'U1', bot_id: 'B1' },
    }
  }

  double.on('POST', '/oauth.v2.access', renew)
  double.on('POST', '/auth.test', authTest)
  return slack
}

/** Whether Slack would accept `token` now (what a consumer that got it can do with it). */
export function works(slack: SlackRotationDouble, token: string): boolean {
  const issued = slack.issued.find((i) => i.token === token)
  return issued !== undefined && issued.expiresAt > Date.now()
}
