import t, { type Test } from 'tap'
import { startApp, type TestApp } from '../helpers/app.js'
import { eachDatabase, type TestDatabase } from '../helpers/databases.js'
import { startGithubApp, type GithubAppDouble } from '../helpers/github-app.js'
import { testToken } from '../helpers/provider-double.js'
import { leaks } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'
type Json = Record<string, any>

interface Harness extends TestApp {
  github: GithubAppDouble
  tenantId: string
  owner: Record<string, string>
  service: Record<string, string>
  /** Every secret and token this app has seen, to look for in its logs. */
  seen: string[]
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Json }>
  token(kind: string, id: string, body?: unknown): Promise<{ status: number; json: Json }>
}

async function harness(t: Test, db: TestDatabase, env: Record<string, string> = {}): Promise<Harness> {
  const github = await startGithubApp(t)
  const h = await startApp(t, db, { GITHUB_API_URL: github.origin, ...env })
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const service = { authorization: `Bearer ${await h.serviceToken('releases', 'integrations:credentials:read')}` }
  const seen = [github.privateKey]
  async function call(method: string, url: string, body?: unknown, headers = owner) {
    const res = await h.app.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    const json = res.body === '' ? {} : res.json<Json>()
    if (typeof json.accessToken === 'string') seen.push(json.accessToken)
    return { status: res.statusCode, json }
  }
  return {
    ...h,
    github,
    tenantId,
    owner,
    service,
    seen,
    call,
    token: (kind, id, body) => call('POST', `${BASE}/${kind}/${id}/access-token`, body, service),
  }
}

const scmBody = (h: Harness, extra: Json = {}) => ({
  tenantId: h.tenantId,
  scmType: 'GITHUB',
  displayName: 'Mobile app',
  repositoryUrl: 'https://github.com/acme/app-0',
  ...h.github.connection(),
  ...extra,
})

const actionsBody = (h: Harness, extra: Json = {}) => ({
  tenantId: h.tenantId,
  cicdType: 'GITHUB_ACTIONS',
  displayName: 'Release workflows',
  repositoryUrl: 'https://github.com/acme/app-1',
  ...h.github.connection(),
  ...extra,
})

function noSecretsIn(t: Test, h: Harness, text: string, where: string) {
  for (const secret of h.seen) t.notOk(leaks(text, secret), `no secret or token in ${where}`)
}

eachDatabase(t, async (t, db) => {
  t.test('a GitHub App connection verifies as the App: its JWT, the installation, a token narrowed to the repository', async (t) => {
    const h = await harness(t, db)
    const created = await h.call('POST', `${BASE}/scm?verify=true`, scmBody(h))
    t.equal(created.status, 201, JSON.stringify(created.json))
    t.match(created.json, {
      scmType: 'GITHUB',
      githubAppId: h.github.appId,
      githubInstallationId: h.github.installationId,
      hasGithubAppPrivateKey: true,
      hasAccessToken: false,
      verificationStatus: 'VALID',
    })
    noSecretsIn(t, h, JSON.stringify(created.json), 'the answer')
    t.same(h.github.refusedJwts, [], 'every App JWT GitHub received was valid')
    t.same(h.github.issued.at(-1), {
      token: h.github.issued.at(-1)!.token,
      repositories: ['app-0'],
      permissions: { metadata: 'read', contents: 'write' },
    })

    // GitHub shows the ids as numbers: they are taken as numbers too, and answered as their digits.
    const numeric = { githubAppId: Number(h.github.appId), githubInstallationId: Number(h.github.installationId) }
    const actions = await h.call('POST', `${BASE}/ci-cd?verify=true`, actionsBody(h, numeric))
    t.equal(actions.status, 201, JSON.stringify(actions.json))
    t.match(actions.json, { verificationStatus: 'VALID', githubAppId: h.github.appId, githubInstallationId: h.github.installationId })
    t.same(h.github.issued.at(-1)!.permissions, { metadata: 'read', actions: 'write' }, 'Actions asks for actions write')
    noSecretsIn(t, h, h.logs.join('\n'), 'the logs')
  })

  t.test(
    'an integration connects one way: both ways, or neither, or half of one, is a 400 naming the field; nothing is stored',
    async (t) => {
      const h = await harness(t, db)
      const cases: [string, Json, RegExp][] = [
        ['both ways', scmBody(h, { accessToken: testToken('ghp_') }), /body\/(githubAppId|accessToken) cannot be given with/],
        [
          'no way',
          { ...scmBody(h), githubAppId: undefined, githubInstallationId: undefined, githubAppPrivateKey: undefined },
          /body\/accessToken is required/,
        ],
        [
          'half the App',
          { ...scmBody(h), githubInstallationId: undefined },
          /body\/githubInstallationId is required to connect with GitHub App/,
        ],
        [
          'not a key',
          scmBody(h, { githubAppPrivateKey: 'not a key' }),
          /body\/githubAppPrivateKey must be the private key of the GitHub App/,
        ],
        ['an id that is no number', scmBody(h, { githubAppId: 'my-app' }), /githubAppId/],
      ]
      for (const [name, body, pattern] of cases) {
        const res = await h.call('POST', `${BASE}/scm`, JSON.parse(JSON.stringify(body)))
        t.equal(res.status, 400, name)
        t.match(res.json.message, pattern, name)
        noSecretsIn(t, h, JSON.stringify(res.json), `the answer (${name})`)
      }
      const listed = await h.call('GET', `${BASE}/scm?tenantId=${h.tenantId}`)
      t.same(listed.json.items, [], 'nothing stored')
      t.equal(h.github.double.received.length, 0, 'GitHub was not asked')
    },
  )

  t.test('verification says what the App lacks: its key, its installation, the repository, the permission', async (t) => {
    const h = await harness(t, db)
    const verify = async (body: Json) => (await h.call('POST', `${BASE}/scm/verify`, body)).json
    const failed = (result: Json) => result.checks.find((c: Json) => !c.ok)?.name

    let result = await verify(scmBody(h, { repositoryUrl: 'https://github.com/acme/elsewhere' }))
    t.match(result, { verdict: 'INVALID' })
    t.equal(failed(result), 'repository-visible', 'a repository the installation does not see')

    h.github.permissions = { contents: 'read', metadata: 'read' }
    result = await verify(scmBody(h))
    t.equal(failed(result), 'can-push', 'contents read only: cannot push')
    t.match(result.message, /contents: read/)
    t.same(h.github.issued.at(-1)!.permissions, { metadata: 'read' }, 'asked only for what the installation grants')

    h.github.permissions = { contents: 'write', metadata: 'read' }
    h.github.suspended = true
    result = await verify(scmBody(h))
    t.equal(failed(result), 'authenticated')
    t.match(result.message, /suspended/)
    h.github.suspended = false

    const other = await startGithubApp(t)
    result = await verify(scmBody(h, { githubAppPrivateKey: other.privateKey }))
    t.match(result, { verdict: 'INVALID', message: /refused the App's key/ })
    t.equal(failed(result), 'authenticated', 'a key that is not the App')
    t.same(h.github.refusedJwts, ['bad signature'], 'GitHub checked the JWT signature')
  })

  t.test('the access token is an installation token for the repository, narrowed to what is asked, cached', async (t) => {
    const h = await harness(t, db)
    const id = (await h.call('POST', `${BASE}/scm`, scmBody(h))).json.id as string

    const answers = await Promise.all(Array.from({ length: 100 }, () => h.token('scm', id)))
    t.same(new Set(answers.map((a) => a.status)), new Set([200]))
    t.equal(h.github.issued.length, 1, '100 concurrent asks: one token minted')
    const [first] = answers
    t.match(first!.json, { tokenType: 'Bearer', shortLived: true, grants: ['contents:write', 'metadata:read'] })
    t.equal(first!.json.accessToken, h.github.issued[0]!.token)
    t.same(h.github.issued[0]!.repositories, ['app-0'], "limited to the integration's repository")
    t.same(h.github.issued[0]!.permissions, { contents: 'write' }, 'what Delivr needs, by default')
    t.ok(Date.parse(first!.json.expiresAt) > Date.now() + 50 * 60_000, 'expires when GitHub says (an hour)')

    const read = await h.token('scm', id, { scmType: 'GITHUB', permissions: { contents: 'read' } })
    t.equal(read.status, 200)
    t.same(read.json.grants, ['contents:read', 'metadata:read'])
    t.same(h.github.issued.at(-1)!.permissions, { contents: 'read' })

    const more = await h.token('scm', id, { scmType: 'GITHUB', permissions: { issues: 'write' } })
    t.equal(more.status, 422, 'more than the installation grants')
    t.match(more.json, { code: 'GRANT_NOT_ALLOWED', message: /issues: write/ })
    t.equal((await h.call('GET', `${BASE}/scm/${id}`)).json.verificationStatus, 'PENDING', 'asking too much says nothing against the App')

    const unknown = await h.token('scm', id, { scmType: 'GITHUB', permissions: { administration: 'write' } })
    t.equal(unknown.status, 400, 'a permission that is not a repository permission')

    h.github.uninstalled = true
    const gone = await h.token('scm', id, { scmType: 'GITHUB', permissions: { contents: 'read', actions: 'read' } })
    t.equal(gone.status, 422)
    t.match(gone.json, { code: 'CREDENTIAL_REFUSED', message: /not found/ })
    t.equal(
      (await h.call('GET', `${BASE}/scm/${id}`)).json.verificationStatus,
      'INVALID',
      'an uninstalled App makes the integration INVALID',
    )
    noSecretsIn(t, h, h.logs.join('\n'), 'the logs')
  })

  t.test('a personal access token is handed out as it is; App options do not apply to it', async (t) => {
    const h = await harness(t, db)
    const pat = testToken('ghp_')
    const body = {
      ...scmBody(h),
      githubAppId: undefined,
      githubInstallationId: undefined,
      githubAppPrivateKey: undefined,
      accessToken: pat,
    }
    const id = (await h.call('POST', `${BASE}/scm`, JSON.parse(JSON.stringify(body)))).json.id as string
    const token = await h.token('scm', id)
    t.match(token, { status: 200, json: { accessToken: pat, shortLived: false, grants: null } })
    const narrowed = await h.token('scm', id, { scmType: 'GITHUB', permissions: { contents: 'read' } })
    t.equal(narrowed.status, 400)
    t.match(narrowed.json.message, /permissions does not apply to GitHub integrations connected with personal access token/)
  })

  t.test('PATCH switches a personal access token to the App, clearing the token; credentials replace within a way', async (t) => {
    const h = await harness(t, db)
    const body = {
      ...scmBody(h),
      githubAppId: undefined,
      githubInstallationId: undefined,
      githubAppPrivateKey: undefined,
      accessToken: testToken('ghp_'),
    }
    const id = (await h.call('POST', `${BASE}/scm`, JSON.parse(JSON.stringify(body)))).json.id as string

    const half = await h.call('PATCH', `${BASE}/scm/${id}`, { githubAppId: h.github.appId })
    t.equal(half.status, 400, 'half of the App is refused')
    t.match(half.json.message, /githubInstallationId is required/)

    const switched = await h.call('PATCH', `${BASE}/scm/${id}`, h.github.connection())
    t.equal(switched.status, 200, JSON.stringify(switched.json))
    t.match(switched.json, {
      hasAccessToken: false,
      accessTokenFingerprint: null,
      hasGithubAppPrivateKey: true,
      verificationStatus: 'PENDING',
    })
    const token = await h.token('scm', id)
    t.match(token, { status: 200, json: { shortLived: true } })
    t.equal(token.json.accessToken, h.github.issued.at(-1)!.token, 'now minted from the App')

    const wrongWay = await h.call('PUT', `${BASE}/scm/${id}/credentials`, { accessToken: testToken('ghp_') })
    t.equal(wrongWay.status, 400)
    t.match(wrongWay.json.message, /accessToken belongs to another way/)

    const readable = await h.call('GET', `${BASE}/scm/${id}/credentials`, undefined, h.service)
    t.equal(readable.status, 200, 'LONG_LIVED_CREDENTIALS=allow: the key can still be read')
  })

  t.test('LONG_LIVED_CREDENTIALS=refuse keeps the App key inside, not a personal access token', async (t) => {
    const h = await harness(t, db, { LONG_LIVED_CREDENTIALS: 'refuse' })
    const app = (await h.call('POST', `${BASE}/ci-cd`, actionsBody(h))).json.id as string
    const patBody = {
      ...actionsBody(h),
      githubAppId: undefined,
      githubInstallationId: undefined,
      githubAppPrivateKey: undefined,
      accessToken: testToken('ghp_'),
    }
    const pat = (
      await h.call('POST', `${BASE}/ci-cd`, JSON.parse(JSON.stringify({ ...patBody, repositoryUrl: 'https://github.com/acme/app-2' })))
    ).json.id as string

    const refused = await h.call('GET', `${BASE}/ci-cd/${app}/credentials`, undefined, h.service)
    t.equal(refused.status, 403)
    t.match(refused.json, { code: 'LONG_LIVED_CREDENTIALS_REFUSED', message: /access-token/ })
    noSecretsIn(t, h, JSON.stringify(refused.json), 'the refusal')
    t.equal(
      (await h.call('GET', `${BASE}/ci-cd/${pat}/credentials`, undefined, h.service)).status,
      200,
      'a PAT cannot mint: it is handed out',
    )

    const token = await h.token('ci-cd', app)
    t.match(token, { status: 200, json: { shortLived: true, grants: ['actions:write', 'metadata:read'] } })
    t.same(h.github.issued.at(-1)!.repositories, ['app-1'])
  })

  t.test('the catalog describes both ways to connect GitHub', async (t) => {
    const h = await harness(t, db)
    const catalog = (await h.call('GET', `${BASE}/providers`)).json
    for (const [kind, provider] of [
      ['scm', 'GITHUB'],
      ['ci-cd', 'GITHUB_ACTIONS'],
    ]) {
      const spec = catalog.kinds.find((k: Json) => k.kind === kind).providers.find((p: Json) => p.id === provider)
      t.match(spec.connections, [
        { id: 'accessToken', required: ['accessToken'], mintsTokens: false },
        { id: 'githubApp', required: ['githubAppId', 'githubInstallationId', 'githubAppPrivateKey'], mintsTokens: true },
      ])
      t.match(
        spec.fields.find((f: Json) => f.name === 'githubAppPrivateKey'),
        { secret: true, required: true, connection: 'githubApp' },
      )
    }
  })
})
