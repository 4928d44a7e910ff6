import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto'
import { badCredentials, notFound } from './github-api.js'
import { startProviderDouble, testToken, type ProviderDouble, type ReceivedRequest, type Reply } from './provider-double.js'

type Permissions = Record<string, string>

/** A GitHub App as GitHub knows it, with one installation on the `acme` account. */
export interface GithubAppDouble {
  double: ProviderDouble
  /** GITHUB_API_URL for the service. */
  origin: string
  appId: string
  installationId: string
  /** The App's private key as GitHub issues it (PKCS#1 PEM); what a tenant pastes into githubAppPrivateKey. */
  privateKey: string
  /** What the installation grants; change it to take a permission away. */
  permissions: Permissions
  /** The repositories (names on the acme account) the installation sees. */
  repositories: string[]
  suspended: boolean
  /** Deleted: the installation answers 404. */
  uninstalled: boolean
  /** Each installation token issued, with what it was asked for. */
  issued: { token: string; repositories: string[]; permissions: Permissions }[]
  /** Why each refused App JWT was refused, in order. */
  refusedJwts: string[]
  /** The fields that connect an integration with this App (its PEM as a tenant pastes it). */
  connection(): { githubAppId: string; githubInstallationId: string; githubAppPrivateKey: string }
}

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))
const RANK: Record<string, number> = { read: 1, write: 2, admin: 3 }
const message = (status: number, text: string): Reply => ({
  status,
  body: { message: text, documentation_url: 'https://docs.github.com/rest', status: String(status) },
})

/**
 * What GitHub checks of an App JWT: RS256 signed by the App's key, `iss` the App id, issued no later than now (a
 * minute of drift), expiring in the future and at most 10 minutes after it was issued. Undefined when GitHub accepts it.
 */
function jwtProblem(req: ReceivedRequest, appId: string, publicKey: KeyObject): string | undefined {
  const auth = req.headers.authorization ?? ''
  const [header, payload, signature] = auth.replace(/^Bearer /, '').split('.')
  if (!header || !payload || !signature) return 'not a JWT'
  if (decode(header).alg !== 'RS256') return 'not RS256'
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))) return 'bad signature'
  const claims = decode(payload)
  if (String(claims.iss) !== appId) return 'wrong issuer'
  const now = Date.now() / 1000
  if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return 'no iat or exp'
  if (claims.iat > now + 60) return 'issued in the future'
  if (claims.exp <= now) return 'expired'
  if (claims.exp > now + 600) return "'Expiration time' claim ('exp') is too far in the future"
  // What the issue asks of the service beyond GitHub's rule: a lifetime under 10 minutes.
  if (claims.exp - claims.iat >= 600) return 'lives 10 minutes or more'
  return undefined
}

/** GitHub's REST API for one App and one installation, on loopback: App JWTs, installation tokens, and the repositories they see. */
export async function startGithubApp(t: Parameters<typeof startProviderDouble>[0]): Promise<GithubAppDouble> {
  const double = await startProviderDouble(t)
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const app: GithubAppDouble = {
    double,
    origin: double.origin,
    appId: String(100000 + Math.floor(Math.random() * 800000)),
    installationId: String(10000000 + Math.floor(Math.random() * 80000000)),
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    permissions: { contents: 'write', actions: 'write', metadata: 'read' },
    repositories: ['app-0', 'app-1', 'app-2'],
    suspended: false,
    uninstalled: false,
    issued: [],
    refusedJwts: [],
    connection: () => ({ githubAppId: app.appId, githubInstallationId: app.installationId, githubAppPrivateKey: app.privateKey }),
  }
  const installationPath = `/app/installations/${app.installationId}`

  function asApp(req: ReceivedRequest): Reply | undefined {
    const problem = jwtProblem(req, app.appId, publicKey)
    if (problem === undefined) return undefined
    app.refusedJwts.push(problem)
    return message(401, problem === 'bad signature' ? 'A JSON web token could not be decoded' : problem)
  }

  function installation(req: ReceivedRequest): Reply {
    const refused = asApp(req)
    if (refused) return refused
    if (app.uninstalled) return notFound
    return {
      status: 200,
      body: {
        id: Number(app.installationId),
        app_id: Number(app.appId),
        account: { login: 'acme', type: 'Organization' },
        repository_selection: 'selected',
        permissions: app.permissions,
        suspended_at: app.suspended ? '2026-11-01T00:00:00Z' : null,
      },
    }
  }

  function accessTokens(req: ReceivedRequest): Reply {
    const refused = asApp(req)
    if (refused) return refused
    if (app.uninstalled) return notFound
    if (app.suspended) return message(403, 'This installation has been suspended')
    const asked = JSON.parse(req.body || '{}') as { repositories?: string[]; permissions?: Permissions }
    const repositories = asked.repositories ?? app.repositories
    if (repositories.some((name) => !app.repositories.includes(name))) {
      return message(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.')
    }
    const permissions = asked.permissions ?? app.permissions
    const granted = Object.entries(permissions).every(([name, level]) => (RANK[app.permissions[name] ?? ''] ?? 0) >= (RANK[level] ?? 9))
    if (!granted) return message(422, 'The permissions requested are not granted to this installation.')
    const token = testToken('ghs_')
    app.issued.push({ token, repositories, permissions })
    const expiresAt = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    return {
      status: 201,
      body: {
        token,
        expires_at: expiresAt,
        permissions: { metadata: 'read', ...permissions },
        repository_selection: 'selected',
        repositories: repositories.map((name) => ({ name, full_name: `acme/${name}` })),
      },
    }
  }

  /** What an installation token may read: the repositories and permissions it was issued with. */
  function repositoryRead(req: ReceivedRequest): Reply {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    const issued = app.issued.find((i) => i.token === token)
    if (!issued) return badCredentials
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(req.path)
    if (!match || match[1]!.toLowerCase() !== 'acme' || !issued.repositories.includes(match[2]!)) return notFound
    const name = match[2]!
    const rest = match[3] ?? ''
    if (rest === '') {
      // An installation token's repository carries no `permissions`: those are a user's.
      return {
        status: 200,
        body: { id: 1, name, full_name: `acme/${name}`, private: true, visibility: 'private', default_branch: 'main', archived: false },
      }
    }
    if (rest === '/branches/main') return { status: 200, body: { name: 'main', protected: false } }
    if (rest === '/actions/workflows') {
      if (!['read', 'write'].includes(issued.permissions.actions ?? '')) return message(403, 'Resource not accessible by integration')
      return { status: 200, body: { total_count: 1, workflows: [{ id: 1, name: 'Release', path: '.github/workflows/release.yml' }] } }
    }
    return notFound
  }

  double.on('GET', installationPath, installation)
  double.on('POST', `${installationPath}/access_tokens`, accessTokens)
  double.otherwise((req) => (req.method === 'GET' && req.path.startsWith('/repos/') ? repositoryRead(req) : notFound))
  return app
}
