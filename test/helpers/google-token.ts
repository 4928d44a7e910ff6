import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { startProviderDouble, testToken, type ProviderDouble, type ReceivedRequest, type Reply, type Route } from './provider-double.js'

export const ANDROID_PUBLISHER = 'https://www.googleapis.com/auth/androidpublisher'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

/** A service account as Google's token endpoint knows it: its email, and the public half of each of its keys by key id. */
export interface KnownAccount {
  email: string
  keys: Map<string, KeyObject>
}

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))

export const invalidGrant = (description: string): Reply => ({
  status: 400,
  body: { error: 'invalid_grant', error_description: description },
})

/**
 * What Google's token endpoint checks of a JWT-bearer grant, in its order: a form with the grant type, an assertion
 * signed (RS256) by a key the service account has (by `kid`), for this token URL (`aud`), asking for the
 * androidpublisher scope, issued now and living at most an hour. Undefined when Google would issue a token.
 */
export function assertionProblem(req: ReceivedRequest, accounts: readonly KnownAccount[], tokenUrl: string): string | undefined {
  const form = new URLSearchParams(req.body)
  if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return 'not a form'
  if (form.get('grant_type') !== JWT_BEARER) return 'unsupported grant type'
  const [header, payload, signature] = (form.get('assertion') ?? '').split('.')
  if (!header || !payload || !signature) return 'no assertion'
  const h = decode(header)
  const c = decode(payload)
  const account = accounts.find((a) => a.email === c.iss)
  if (!account) return 'account not found'
  const key = typeof h.kid === 'string' ? account.keys.get(h.kid) : undefined
  if (h.alg !== 'RS256' || !key) return 'bad header'
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) return 'bad signature'
  if (c.aud !== tokenUrl) return 'bad audience'
  if (c.scope !== ANDROID_PUBLISHER) return 'bad scope'
  const now = Date.now() / 1000
  if (typeof c.iat !== 'number' || typeof c.exp !== 'number' || c.exp - c.iat > 3600 || c.exp < now || c.iat > now + 60) return 'bad times'
  return undefined
}

/** Google's answer to a grant with `problem`, worded as Google words it. */
export function grantRefusal(problem: string): Reply {
  if (problem === 'bad signature') return invalidGrant('Invalid JWT Signature.')
  if (problem === 'account not found') return invalidGrant('Invalid grant: account not found')
  if (problem === 'bad scope') return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope.' } }
  return invalidGrant(`Invalid JWT: ${problem}`)
}

export interface GoogleTokenEndpoint {
  double: ProviderDouble
  /** GOOGLE_TOKEN_URL for the service. */
  url: string
  /** Access tokens issued so far, in order. */
  issued: string[]
  /** The lifetime each new token is issued with, in seconds (Google's is an hour, less a second). */
  expiresIn: number
  /** Lets Google know the service account of a key file (its public key): from then on it issues tokens for it. */
  register(serviceAccountJson: string): void
  /** Scripts the endpoint's answer instead of its grant check; `undefined` restores the check. */
  answer(route: Route | undefined): void
}

/** Google's OAuth token endpoint on loopback, issuing tokens to the service accounts it was told about. */
export async function startGoogleToken(t: Parameters<typeof startProviderDouble>[0]): Promise<GoogleTokenEndpoint> {
  const double = await startProviderDouble(t)
  const url = `${double.origin}/token`
  const accounts: KnownAccount[] = []
  let scripted: Route | undefined
  const endpoint: GoogleTokenEndpoint = {
    double,
    url,
    issued: [],
    expiresIn: 3599,
    register(json) {
      const key = JSON.parse(json) as { client_email: string; private_key: string; private_key_id: string }
      let account = accounts.find((a) => a.email === key.client_email)
      if (!account) accounts.push((account = { email: key.client_email, keys: new Map() }))
      account.keys.set(key.private_key_id, createPublicKey(key.private_key))
    },
    answer(route) {
      scripted = route
    },
  }
  double.on('POST', '/token', (req) => {
    if (scripted) return typeof scripted === 'function' ? scripted(req) : scripted
    const problem = assertionProblem(req, accounts, url)
    if (problem) return grantRefusal(problem)
    const accessToken = testToken('ya29.')
    endpoint.issued.push(accessToken)
    return { body: { access_token: accessToken, expires_in: endpoint.expiresIn, token_type: 'Bearer' } }
  })
  return endpoint
}
