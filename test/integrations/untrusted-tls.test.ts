import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { startProviderDouble } from '../helpers/provider-double.js'
import { bodyAt, leaks, SAMPLES } from '../helpers/samples.js'
import { localhostCaFile, localhostCertificate, untrustedLocalhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'

/** The verifiers that call a host the tenant gives: the ones a certificate check guards against an impostor. */
const AT_USER_HOST = [
  'scm GITHUB',
  'scm GITLAB',
  'ci-cd JENKINS',
  'ci-cd GITHUB_ACTIONS',
  'project-management JIRA',
  'test-management CHECKMATE',
]

/** Every configured provider API, at `origin`. */
const apisAt = (origin: string) => ({
  GITHUB_API_URL: origin,
  BITBUCKET_API_URL: origin,
  SLACK_API_URL: origin,
  APPSTORE_API_URL: origin,
  GOOGLE_TOKEN_URL: `${origin}/token`,
  PLAY_API_URL: origin,
})

/** Every provider's draft verify, each aimed at `origin`: at the host the tenant gives, or at the configured API. */
const drafts = (tenantId: string, origin: string) => [
  ...SAMPLES.filter((s) => s.userHost).map((s) => ({
    name: `${s.kind} ${s.provider} at a tenant-given host`,
    s,
    atUserHost: true,
    body: bodyAt(s, tenantId, origin),
  })),
  ...SAMPLES.filter((s) => !s.userHost || ['GITHUB', 'GITHUB_ACTIONS'].includes(s.provider)).map((s) => ({
    name: `${s.kind} ${s.provider} at its configured API`,
    s,
    atUserHost: false,
    body: s.body(tenantId),
  })),
]

eachDatabase(t, async (t, db) => {
  const trusted = await startProviderDouble(t, { tls: await localhostCertificate(), hostname: 'localhost' })
  const impostor = await startProviderDouble(t, { tls: await untrustedLocalhostCertificate(), hostname: 'localhost' })
  const allowed = `localhost:${trusted.port},localhost:${impostor.port}`

  /** Asserts the draft verify is refused with 503 after a TLS handshake and no HTTP request. */
  async function refusedByTls(
    t: Test,
    app: App,
    owner: Record<string, string>,
    kind: string,
    body: Record<string, unknown>,
    secret: string,
  ) {
    const connectionsBefore = impostor.connections
    const requestsBefore = impostor.received.length
    const refused = await app.inject({ method: 'POST', url: `${BASE}/${kind}/verify`, headers: owner, payload: body })
    t.equal(refused.statusCode, 503, refused.body)
    t.match(refused.json(), { code: 'PROVIDER_UNREACHABLE', message: new RegExp(`localhost:${impostor.port}`) })
    t.notOk(leaks(refused.body, secret), 'the secret is not in the answer')
    t.ok(impostor.connections > connectionsBefore, 'the service did connect: the refusal came from the TLS handshake')
    t.same(impostor.received.slice(requestsBefore), [], 'no HTTP request, so no header carrying the secret, reached the impostor')
  }

  // The service trusts a test CA (OUTBOUND_CA_FILE) and both doubles' host:port (OUTBOUND_ALLOWED_HOSTS); one double
  // presents a certificate from that CA, the other a certificate for the same name that nobody it trusts issued.
  t.test('with a test CA trusted', async (t) => {
    const h = await startApp(t, db, {
      OUTBOUND_CA_FILE: await localhostCaFile(t),
      OUTBOUND_ALLOWED_HOSTS: allowed,
      VERIFY_TIMEOUT_MS: '3000',
      ...apisAt(impostor.origin),
    })
    const { app } = h
    const { tenantId, ownerId } = await h.tenant()
    const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }

    t.test('the verifiers at a tenant-given host are the ones this file covers', async (t) => {
      t.same(
        SAMPLES.filter((s) => s.userHost).map((s) => `${s.kind} ${s.provider}`),
        AT_USER_HOST,
      )
    })

    for (const { name, s: sample, body } of drafts(tenantId, impostor.origin)) {
      t.test(`${name}: a certificate the service does not trust is refused before any request`, async (t) => {
        await refusedByTls(t, app, owner, sample.kind, body, String(body[sample.secret]))
        if (!sample.userHost || !(sample.userHost.field in body) || body[sample.userHost.field] !== sample.userHost.at(impostor.origin))
          return

        // The same body at a host with a trusted certificate is verified: the refusal was the certificate's doing.
        const received = trusted.received.length
        const verified = await app.inject({
          method: 'POST',
          url: `${BASE}/${sample.kind}/verify`,
          headers: owner,
          payload: { ...body, [sample.userHost.field]: sample.userHost.at(trusted.origin) },
        })
        t.equal(verified.statusCode, 200, verified.body)
        t.match(verified.json(), { verdict: /^(VALID|INVALID|EXPIRED)$/ })
        t.ok(trusted.received.length > received, 'the trusted host was asked')
      })
    }
  })

  t.test('with no extra CA configured', async (t) => {
    const h = await startApp(t, db, { OUTBOUND_ALLOWED_HOSTS: allowed, VERIFY_TIMEOUT_MS: '3000', ...apisAt(impostor.origin) })
    const { tenantId, ownerId } = await h.tenant()
    const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
    for (const { name, s: sample, body } of drafts(tenantId, impostor.origin)) {
      t.test(`${name}: a self-signed certificate is refused before any request`, async (t) => {
        await refusedByTls(t, h.app, owner, sample.kind, body, String(body[sample.secret]))
      })
    }
  })
})
