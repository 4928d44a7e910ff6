import fs from 'node:fs'
import createClient from 'openapi-fetch'
import { Validator } from '@seriousme/openapi-schema-validator'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { startProviderDouble, testToken } from '../helpers/provider-double.js'
import { typeCheck, writeTypedClient } from './typed-client.js'

const BASE = '/api/v1/integrations/scm'
const REPO = '/repos/acme/mobile-app'

eachDatabase(t, async (t, db) => {
  const github = await startProviderDouble(t)
  github
    .on('GET', REPO, {
      body: {
        full_name: 'acme/mobile-app',
        private: true,
        visibility: 'private',
        default_branch: 'main',
        archived: false,
        permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      },
    })
    .on('GET', `${REPO}/branches/main`, { body: { name: 'main' } })
  const h = await startApp(t, db, { GITHUB_API_URL: github.origin })
  const baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 })

  const res = await fetch(`${baseUrl}/documentation/json`, { signal: AbortSignal.timeout(5000) })
  t.equal(res.status, 200)
  const doc: unknown = await res.json()

  t.test('the served document is valid OpenAPI 3.1', async (t) => {
    const validator = new Validator()
    const result = await validator.validate(doc as Record<string, unknown>)
    t.ok(result.valid, 'valid', { errors: result.errors })
    t.equal(validator.version, '3.1')
  })

  t.test('a client generated from it type-checks, typed bodies and responses included', async (t) => {
    const dir = await writeTypedClient(doc)
    // Kept for a look when the check fails.
    t.teardown(() => t.passing() && fs.rmSync(dir, { recursive: true, force: true }))
    const diagnostics = await typeCheck(dir)
    t.same(diagnostics, [], diagnostics.length ? `diagnostics in ${dir}:\n${diagnostics.join('\n')}` : 'no diagnostics')
  })

  t.test('the client creates, reads, lists, renames, verifies and deletes a GitHub integration', async (t) => {
    const { tenantId, ownerId } = await h.tenant()
    const token = testToken('ghp_')
    // Typing is what the type-check above proves; here the generated client's runtime meets the server.
    const client = createClient<any>({
      baseUrl,
      headers: { authorization: `Bearer ${await h.userToken(ownerId)}` },
      signal: AbortSignal.timeout(10_000),
    })

    const created = await client.POST(BASE, {
      body: { tenantId, scmType: 'GITHUB', displayName: 'Mobile', repositoryUrl: 'https://github.com/acme/mobile-app', accessToken: token },
    })
    t.equal(created.response.status, 201, JSON.stringify(created.error))
    const id: string = created.data.id
    t.match(created.data, {
      tenantId,
      scmType: 'GITHUB',
      displayName: 'Mobile',
      repositoryUrl: 'https://github.com/acme/mobile-app',
      githubOrganization: 'acme',
      githubRepository: 'mobile-app',
      defaultBranch: 'main',
      hasAccessToken: true,
      isActive: true,
      verificationStatus: 'PENDING',
    })
    t.equal(created.response.headers.get('location'), `${BASE}/${id}`)
    t.notOk(JSON.stringify(created.data).includes(token), 'the token is never returned')

    const got = await client.GET(`${BASE}/{id}`, { params: { path: { id } } })
    t.equal(got.response.status, 200)
    t.same(got.data, created.data)

    const list = await client.GET(BASE, { params: { query: { tenantId } } })
    t.equal(list.response.status, 200)
    t.same(
      list.data.items.map((i: { id: string }) => i.id),
      [id],
    )
    t.equal(list.data.nextCursor, null)

    const patched = await client.PATCH(`${BASE}/{id}`, { params: { path: { id } }, body: { displayName: 'Mobile (iOS)' } })
    t.equal(patched.response.status, 200, JSON.stringify(patched.error))
    t.match(patched.data, { id, displayName: 'Mobile (iOS)', verificationStatus: 'PENDING' })

    const verified = await client.POST(`${BASE}/{id}/verify`, { params: { path: { id } } })
    t.equal(verified.response.status, 200, JSON.stringify(verified.error))
    t.match(verified.data.result, { verdict: 'VALID', facts: { defaultBranch: 'main' } })
    t.match(verified.data.integration, { id, displayName: 'Mobile (iOS)', verificationStatus: 'VALID', verificationError: null })
    t.same(
      github.received.map((r) => `${r.method} ${r.path}`),
      [`GET ${REPO}`, `GET ${REPO}/branches/main`],
    )
    t.ok(
      github.received.every((r) => r.headers.authorization === `Bearer ${token}`),
      'GitHub received the stored token',
    )

    const deleted = await client.DELETE(`${BASE}/{id}`, { params: { path: { id } } })
    t.equal(deleted.response.status, 204)

    const gone = await client.GET(`${BASE}/{id}`, { params: { path: { id } } })
    t.equal(gone.response.status, 404)
    t.match(gone.error, { statusCode: 404, message: String })
  })
})
