import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { startProviderDouble, testToken, type ProviderDouble } from '../helpers/provider-double.js'
import { localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations/scm'
const REPO = '/repos/acme/mobile-app'
const PROJECT = '/api/v4/projects/acme%2Fapp'

function githubRepo(push = true) {
  return {
    full_name: 'acme/mobile-app',
    private: true,
    visibility: 'private',
    default_branch: 'main',
    archived: false,
    permissions: { admin: false, maintain: false, push, triage: true, pull: true },
  }
}

function scriptGithub(double: ProviderDouble, { push = true, expires }: { push?: boolean; expires?: string } = {}) {
  double
    .on('GET', REPO, { headers: expires ? { 'github-authentication-token-expiration': expires } : {}, body: githubRepo(push) })
    .on('GET', `${REPO}/branches/main`, { body: { name: 'main' } })
}

function scriptGitlab(double: ProviderDouble) {
  double
    .on('GET', PROJECT, {
      body: {
        id: 1,
        path_with_namespace: 'acme/app',
        default_branch: 'main',
        visibility: 'private',
        archived: false,
        permissions: { project_access: { access_level: 40 }, group_access: null },
      },
    })
    .on('GET', `${PROJECT}/repository/branches/main`, { body: { name: 'main' } })
    .on('GET', '/api/v4/personal_access_tokens/self', { body: { scopes: ['api'], expires_at: '2031-01-15', active: true, revoked: false } })
}

function reset(...doubles: ProviderDouble[]) {
  for (const d of doubles) d.received.length = 0
}

eachDatabase(t, async (t, db) => {
  const tls = await localhostCertificate()
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'delivr-ca-')), 'ca.pem')
  fs.writeFileSync(caFile, tls.cert)
  t.teardown(() => fs.rmSync(path.dirname(caFile), { recursive: true, force: true }))

  const github = await startProviderDouble(t)
  const gitlab = await startProviderDouble(t, { tls, hostname: 'localhost' })
  const elsewhere = await startProviderDouble(t, { tls, hostname: 'localhost' })
  const unlisted = await startProviderDouble(t, { tls, hostname: 'localhost' })
  const h = await startApp(t, db, {
    GITHUB_API_URL: github.origin,
    VERIFY_TIMEOUT_MS: '500',
    OUTBOUND_ALLOWED_HOSTS: `localhost:${gitlab.port},localhost:${elsewhere.port}`,
    OUTBOUND_CA_FILE: caFile,
    LOG_LEVEL: 'debug',
  })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  const token = testToken('ghp_')
  /** Every token this file sends the service: none may reach a log line. */
  const sentTokens = [token]
  const body = (extra: Record<string, unknown> = {}) => ({
    tenantId,
    scmType: 'GITHUB',
    displayName: 'Mobile',
    repositoryUrl: 'https://github.com/acme/mobile-app',
    accessToken: token,
    ...extra,
  })
  const rows = async () => db.query(`SELECT id, verificationStatus FROM tenant_scm_integrations WHERE tenantId = '${tenantId}'`)

  async function createUnverified(extra: Record<string, unknown> = {}) {
    const res = await app.inject({ method: 'POST', url: BASE, headers: owner, payload: body(extra) })
    t.equal(res.statusCode, 201, res.body)
    return res.json<{ id: string; accessTokenFingerprint: string }>()
  }

  t.afterEach(async () => {
    const all = (await db.query('SELECT id FROM tenant_scm_integrations')) as { id: string }[]
    for (const { id } of all) await app.inject({ method: 'DELETE', url: `${BASE}/${id}`, headers: owner })
    reset(github, gitlab, elsewhere, unlisted)
  })

  t.test('checks unsaved credentials and stores nothing', async (t) => {
    scriptGithub(github)
    const res = await app.inject({ method: 'POST', url: `${BASE}/verify`, headers: owner, payload: body() })
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json(), { verdict: 'VALID', facts: { defaultBranch: 'main' }, checks: [{ name: 'authenticated', ok: true }] })
    t.match(res.json().verifiedAt, /^\d{4}-/)
    t.same(await rows(), [])
    t.equal(github.received[0]?.headers.authorization, `Bearer ${token}`)
    t.notOk(res.body.includes(token))
  })

  t.test('only the Owner may check unsaved credentials for a tenant', async (t) => {
    const editor = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Editor' }))}` }
    const res = await app.inject({ method: 'POST', url: `${BASE}/verify`, headers: editor, payload: body() })
    t.equal(res.statusCode, 403)
    const stranger = { authorization: `Bearer ${await h.userToken(await h.account())}` }
    t.equal((await app.inject({ method: 'POST', url: `${BASE}/verify`, headers: stranger, payload: body() })).statusCode, 404)
    t.equal(github.received.length, 0, 'the provider was never called')
  })

  t.test('re-verifying records VALID with the expiry GitHub reports', async (t) => {
    const created = await createUnverified()
    scriptGithub(github, { expires: '2031-03-04 05:06:07 UTC' })
    const editor = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Editor' }))}` }
    const res = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: editor })
    t.equal(res.statusCode, 200, res.body)
    const { result, integration } = res.json()
    t.equal(result.verdict, 'VALID')
    t.match(integration, { verificationStatus: 'VALID', verificationError: null, credentialExpiresAt: '2031-03-04T05:06:07.000Z' })
    t.equal(integration.lastVerifiedAt, result.verifiedAt)
    const stored = await app.inject({ url: `${BASE}/${created.id}`, headers: owner })
    t.same(stored.json(), integration, 'what was answered is what is stored')
    t.notOk(res.body.includes(token))
  })

  t.test('a Viewer may not re-verify', async (t) => {
    const created = await createUnverified()
    const viewer = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: 'Viewer' }))}` }
    t.equal((await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: viewer })).statusCode, 403)
    t.equal(github.received.length, 0)
  })

  t.test('records INVALID with a message safe to show when push is missing, and EXPIRED when GitHub says so', async (t) => {
    const created = await createUnverified()
    scriptGithub(github, { push: false })
    const invalid = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.equal(invalid.statusCode, 200)
    t.match(invalid.json().integration, { verificationStatus: 'INVALID', verificationError: /can read acme\/mobile-app but cannot push/ })

    github.on('GET', REPO, { status: 401, body: { message: 'Token expired', documentation_url: 'https://docs.github.com/rest' } })
    const expired = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.match(expired.json().integration, { verificationStatus: 'EXPIRED' })

    github.on('GET', REPO, { status: 404, body: { message: 'Not Found' } })
    const missing = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.match(missing.json().integration, { verificationStatus: 'INVALID', verificationError: /not found or the token cannot see it/ })
    t.notOk([invalid, expired, missing].some((r) => r.body.includes(token)))
  })

  t.test('a provider that cannot answer changes nothing and says why, with Retry-After', async (t) => {
    const created = await createUnverified()
    scriptGithub(github)
    await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    const before = (await app.inject({ url: `${BASE}/${created.id}`, headers: owner })).json()
    t.equal(before.verificationStatus, 'VALID')

    github.on('GET', REPO, {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'retry-after': '42' },
      body: { message: 'API rate limit exceeded' },
    })
    const limited = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.equal(limited.statusCode, 503)
    t.equal(limited.headers['retry-after'], '42')
    t.match(limited.json(), { code: 'PROVIDER_RATE_LIMITED', message: /rate limit/ })

    github.on('GET', REPO, { status: 500, body: 'oops' })
    const broken = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.equal(broken.statusCode, 503)
    t.match(broken.json(), { code: 'PROVIDER_ERROR', message: /GitHub answered 500/ })
    t.equal(broken.headers['retry-after'], '30', 'a provider that did not say when: the default wait')

    github.on('GET', REPO, 'hang')
    const slow = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.equal(slow.statusCode, 503)
    t.match(slow.json(), { code: 'PROVIDER_TIMEOUT', message: /did not answer in time/ })
    t.equal(slow.headers['retry-after'], '30')

    const after = (await app.inject({ url: `${BASE}/${created.id}`, headers: owner })).json()
    t.same(after, before, 'status, lastVerifiedAt and error untouched')
  })

  t.test('create with verify=true stores VALID, and refuses with 422 storing nothing otherwise', async (t) => {
    scriptGithub(github, { push: false })
    const refused = await app.inject({ method: 'POST', url: `${BASE}?verify=true`, headers: owner, payload: body() })
    t.equal(refused.statusCode, 422)
    t.match(refused.json(), { code: 'VERIFICATION_FAILED', message: /INVALID: .*cannot push to it.*Nothing was stored/ })
    t.same(await rows(), [])

    github.on('GET', REPO, { status: 502, body: 'bad gateway' })
    const unavailable = await app.inject({ method: 'POST', url: `${BASE}?verify=true`, headers: owner, payload: body() })
    t.equal(unavailable.statusCode, 503)
    t.same(await rows(), [])

    scriptGithub(github)
    const created = await app.inject({ method: 'POST', url: `${BASE}?verify=true`, headers: owner, payload: body() })
    t.equal(created.statusCode, 201)
    t.match(created.json(), { verificationStatus: 'VALID', verificationError: null })
    t.match(created.json().lastVerifiedAt, /^\d{4}-/)
  })

  t.test('replacing credentials with verify=true keeps the old token when the new one fails', async (t) => {
    const created = await createUnverified()
    const newToken = testToken('ghp_')
    sentTokens.push(newToken)
    github.on('GET', REPO, { status: 401, body: { message: 'Bad credentials' } })
    const refused = await app.inject({
      method: 'PUT',
      url: `${BASE}/${created.id}/credentials?verify=true`,
      headers: owner,
      payload: { accessToken: newToken },
    })
    t.equal(refused.statusCode, 422)
    t.equal(github.received.at(-1)?.headers.authorization, `Bearer ${newToken}`, 'the new token was the one checked')
    const unchanged = (await app.inject({ url: `${BASE}/${created.id}`, headers: owner })).json()
    t.equal(unchanged.accessTokenFingerprint, created.accessTokenFingerprint)

    scriptGithub(github)
    const accepted = await app.inject({
      method: 'PUT',
      url: `${BASE}/${created.id}/credentials?verify=true`,
      headers: owner,
      payload: { accessToken: newToken },
    })
    t.equal(accepted.statusCode, 200)
    t.match(accepted.json(), { verificationStatus: 'VALID' })
    t.not(accepted.json().accessTokenFingerprint, created.accessTokenFingerprint)
  })

  t.test('GitLab on a self-managed host: verified over TLS with PRIVATE-TOKEN', async (t) => {
    scriptGitlab(gitlab)
    const created = await app.inject({
      method: 'POST',
      url: `${BASE}?verify=true`,
      headers: owner,
      payload: { tenantId, scmType: 'GITLAB', displayName: 'gl', repositoryUrl: `${gitlab.origin}/acme/app`, accessToken: token },
    })
    t.equal(created.statusCode, 201, created.body)
    t.match(created.json(), { verificationStatus: 'VALID', credentialExpiresAt: '2031-01-15T00:00:00.000Z' })
    t.ok(gitlab.received.every((r) => r.headers['private-token'] === token))
  })

  t.test('a stored token never reaches a host the integration was moved to', async (t) => {
    scriptGitlab(gitlab)
    scriptGitlab(elsewhere)
    const created = (
      await app.inject({
        method: 'POST',
        url: BASE,
        headers: owner,
        payload: { tenantId, scmType: 'GITLAB', displayName: 'gl', repositoryUrl: `${gitlab.origin}/acme/app`, accessToken: token },
      })
    ).json()
    const moved = await app.inject({
      method: 'PATCH',
      url: `${BASE}/${created.id}`,
      headers: owner,
      payload: { repositoryUrl: `${elsewhere.origin}/acme/app` },
    })
    t.equal(moved.statusCode, 422)
    const verified = await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })
    t.equal(verified.statusCode, 200)
    t.equal(elsewhere.received.length, 0, 'the new host received nothing')
    t.ok(gitlab.received.length > 0, 'verification still went to the original host')

    // Moving with the secret re-entered is allowed: the new host sees only the new secret.
    const movedToken = testToken('glpat-')
    sentTokens.push(movedToken)
    const movedWithToken = await app.inject({
      method: 'PATCH',
      url: `${BASE}/${created.id}`,
      headers: owner,
      payload: { repositoryUrl: `${elsewhere.origin}/acme/app`, accessToken: movedToken },
    })
    t.equal(movedWithToken.statusCode, 200, movedWithToken.body)
    reset(gitlab, elsewhere)
    t.equal((await app.inject({ method: 'POST', url: `${BASE}/${created.id}/verify`, headers: owner })).statusCode, 200)
    t.ok(elsewhere.received.length > 0, 'verification went to the new host')
    t.ok(
      elsewhere.received.every((r) => r.headers['private-token'] === movedToken),
      'with the re-entered token only',
    )
    t.equal(gitlab.received.length, 0, 'the old host is no longer asked')
  })

  t.test('a host that resolves to a private address is refused before any request', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/verify`,
      headers: owner,
      payload: { tenantId, scmType: 'GITLAB', displayName: 'gl', repositoryUrl: `${unlisted.origin}/acme/app`, accessToken: token },
    })
    t.equal(res.statusCode, 422)
    t.match(res.json(), { code: 'HOST_NOT_ALLOWED', message: /OUTBOUND_ALLOWED_HOSTS/ })
    t.equal(unlisted.connections, 0, 'no connection was made')
  })

  t.test('a redirect to another origin is not followed and the token is not sent there', async (t) => {
    scriptGitlab(elsewhere)
    gitlab.on('GET', PROJECT, { status: 302, headers: { location: `${elsewhere.origin}${PROJECT}` } })
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/verify`,
      headers: owner,
      payload: { tenantId, scmType: 'GITLAB', displayName: 'gl', repositoryUrl: `${gitlab.origin}/acme/app`, accessToken: token },
    })
    t.equal(res.statusCode, 422)
    t.match(res.json(), { code: 'PROVIDER_REDIRECT' })
    t.equal(elsewhere.received.length, 0)
  })

  t.test('verification outcomes are logged without any token', async (t) => {
    const lines = h.logs.filter((l) => l.includes('"msg":"verification"'))
    t.ok(lines.length > 0, 'outcomes were logged')
    t.match(JSON.parse(lines[0]!), { kind: 'scm', verdict: /VALID|INVALID|EXPIRED/ })
    t.notOk(
      h.logs.some((l) => sentTokens.some((s) => l.includes(s))),
      'no token in any log line',
    )
  })
})
