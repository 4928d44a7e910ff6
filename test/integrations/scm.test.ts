import t from 'tap'
import { eachDatabase } from '../helpers/databases.js'
import { startApp, type TestApp } from '../helpers/app.js'

const URL_BASE = '/api/v1/integrations/scm'
const TOKEN = 'ghp_test_token_value_0123456789abcdefABCDEF'

function githubBody(tenantId: string, extra: Record<string, unknown> = {}) {
  return {
    tenantId,
    scmType: 'GITHUB',
    displayName: 'Mobile app',
    repositoryUrl: 'https://github.com/Acme/Mobile-App',
    accessToken: TOKEN,
    ...extra,
  }
}

async function ownerSetup(h: TestApp) {
  const { tenantId, ownerId } = await h.tenant()
  const auth = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  return { tenantId, ownerId, auth }
}

eachDatabase(t, async (t, db) => {
  const h = await startApp(t, db)
  const { app } = h

  t.test('creates a GitHub integration, derives owner and repo, and never returns the token', async (t) => {
    const { tenantId, ownerId, auth } = await ownerSetup(h)
    const res = await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })
    t.equal(res.statusCode, 201, res.body)
    const body = res.json()
    t.match(body, {
      tenantId,
      scmType: 'GITHUB',
      displayName: 'Mobile app',
      repositoryUrl: 'https://github.com/acme/mobile-app',
      githubOrganization: 'Acme',
      githubRepository: 'Mobile-App',
      defaultBranch: 'main',
      isActive: true,
      verificationStatus: 'PENDING',
      lastVerifiedAt: null,
      createdByAccountId: ownerId,
      hasAccessToken: true,
    })
    t.match(body.accessTokenFingerprint, /^[0-9a-f]{16}$/)
    t.notOk('accessToken' in body)
    t.notOk(res.body.includes(TOKEN))
    t.equal(res.headers.location, `${URL_BASE}/${body.id}`)
    t.match(body.createdAt, /^\d{4}-\d\d-\d\dT/)

    const got = await app.inject({ url: `${URL_BASE}/${body.id}`, headers: auth })
    t.equal(got.statusCode, 200)
    t.same(got.json(), body)
  })

  t.test('stores the token as ciphertext bound to its row', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })).json()
    const rows = (await db.query(`SELECT accessToken FROM tenant_scm_integrations WHERE id = '${created.id}'`)) as {
      accessToken: string
    }[]
    const raw = rows[0]!.accessToken
    t.match(raw, /^enc:v2:t1:/)
    t.notOk(raw.includes(TOKEN))
    const location = { tenantId, kind: 'scm', id: created.id, field: 'accessToken' }
    t.equal(app.cipher.decrypt(raw, location), TOKEN)
    t.throws(() => app.cipher.decrypt(raw, { ...location, id: 'another-row' }))
    t.throws(() => app.cipher.decrypt(raw, { ...location, tenantId: 'another-tenant' }))
  })

  t.test('accepts GitLab subgroups and Bitbucket repositories, normalising their URLs', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const gitlab = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: auth,
      payload: {
        tenantId,
        scmType: 'GITLAB',
        displayName: 'GitLab',
        repositoryUrl: 'https://GitLab.Example.com/Group/Sub/Project.git/',
        accessToken: 'glpat-abc',
        defaultBranch: 'release/2.0',
      },
    })
    t.equal(gitlab.statusCode, 201, gitlab.body)
    t.match(gitlab.json(), {
      repositoryUrl: 'https://gitlab.example.com/group/sub/project',
      defaultBranch: 'release/2.0',
      githubOrganization: null,
    })
    const bitbucket = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: auth,
      payload: { tenantId, scmType: 'BITBUCKET', displayName: 'BB', repositoryUrl: 'https://bitbucket.org/ws/app', accessToken: 'x' },
    })
    t.equal(bitbucket.statusCode, 201, bitbucket.body)
  })

  t.test('refuses the same repository twice, under another spelling too', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const first = await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })
    t.equal(first.statusCode, 201)
    for (const repositoryUrl of [
      'https://github.com/acme/mobile-app',
      'https://GITHUB.com/Acme/Mobile-App.git',
      'https://github.com/acme/mobile-app/',
    ]) {
      const again = await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId, { repositoryUrl }) })
      t.equal(again.statusCode, 409, repositoryUrl)
      t.match(again.json(), { statusCode: 409, error: 'Conflict', code: 'DUPLICATE' })
    }
    const other = await ownerSetup(h)
    const elsewhere = await app.inject({ method: 'POST', url: URL_BASE, headers: other.auth, payload: githubBody(other.tenantId) })
    t.equal(elsewhere.statusCode, 201, 'another tenant may connect the same repository')
  })

  t.test('twenty identical creates at once store exactly one row', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })),
    )
    const codes = answers.map((a) => a.statusCode).sort()
    t.same(codes, [201, ...Array(19).fill(409)])
    const rows = await db.query(`SELECT id FROM tenant_scm_integrations WHERE tenantId = '${tenantId}'`)
    t.equal(rows.length, 1)
  })

  t.test('rejects bad input with 400 naming the field, storing nothing', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['missing token', { accessToken: undefined }, /body\/accessToken is required/],
      ['unknown field', { webhookSecret: 'x' }, /body\/webhookSecret is not a known field/],
      ['wrong type', { displayName: 42 }, /body\/displayName must be string/],
      ['boolean as text', { isActive: 'true' }, /body\/isActive must be boolean/],
      ['blank name', { displayName: '   ' }, /body\/displayName/],
      ['over-long name', { displayName: 'x'.repeat(256) }, /body\/displayName must NOT have more than 255 characters/],
      ['bad provider', { scmType: 'SVN' }, /body\/scmType must be one of GITHUB, GITLAB, BITBUCKET/],
      ['GitHub-only field on GitLab', { scmType: 'GITLAB', githubOrganization: 'acme' }, /body\/githubOrganization is not a known field/],
      ['http URL', { repositoryUrl: 'http://github.com/acme/app' }, /body\/repositoryUrl must use https/],
      ['credentials in URL', { repositoryUrl: 'https://user:pw@github.com/acme/app' }, /body\/repositoryUrl must not contain credentials/],
      ['query in URL', { repositoryUrl: 'https://github.com/acme/app?x=1' }, /body\/repositoryUrl must not have a query/],
      ['not a URL', { repositoryUrl: 'github.com/acme/app' }, /body\/repositoryUrl is not a valid URL/],
      [
        'too deep for GitHub',
        { repositoryUrl: 'https://github.com/acme/app/tree/main' },
        /body\/repositoryUrl must name exactly 2 path segments/,
      ],
      [
        'Bitbucket elsewhere',
        { scmType: 'BITBUCKET', repositoryUrl: 'https://example.com/ws/app' },
        /body\/repositoryUrl must be on bitbucket.org/,
      ],
      ['percent escapes', { repositoryUrl: 'https://github.com/acme/%E0%A4' }, /body\/repositoryUrl has a path segment/],
      ['bad branch', { defaultBranch: 'feature..x' }, /body\/defaultBranch must be a valid git branch name/],
      ['branch with space', { defaultBranch: 'my branch' }, /body\/defaultBranch must be a valid git branch name/],
      ['org disagrees with URL', { githubOrganization: 'other' }, /body\/githubOrganization must match the repository URL/],
      ['SQL-looking tenant', { tenantId: "x' OR '1'='1" }, /body\/tenantId must match pattern/],
      [
        'SQL-looking name is fine but long URL is not',
        { repositoryUrl: `https://github.com/a/${'b'.repeat(600)}` },
        /body\/repositoryUrl must NOT have more than 512 characters/,
      ],
    ]
    for (const [name, patch, message] of cases) {
      const payload = { ...githubBody(tenantId), ...patch } as Record<string, unknown>
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete payload[k]
      const res = await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload })
      t.equal(res.statusCode, 400, name)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message }, name)
      t.notOk(res.body.includes(TOKEN), `${name}: no token in the error`)
    }
    const notJson = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: `{"accessToken":"${TOKEN}",`,
    })
    t.equal(notJson.statusCode, 400)
    t.notOk(notJson.body.includes(TOKEN), 'a JSON syntax error does not quote the body')
    const notObject = await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: [1, 2] })
    t.equal(notObject.statusCode, 400)
    const rows = await db.query(`SELECT id FROM tenant_scm_integrations WHERE tenantId = '${tenantId}'`)
    t.equal(rows.length, 0, 'nothing stored')
  })

  t.test('stores SQL-looking text verbatim', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const displayName = "Robert'); DROP TABLE tenant_scm_integrations;--"
    const res = await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId, { displayName }) })
    t.equal(res.statusCode, 201)
    t.equal(res.json().displayName, displayName)
  })

  t.test('lists with filters and stable cursor pagination', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: URL_BASE,
        headers: auth,
        payload: githubBody(tenantId, { repositoryUrl: `https://github.com/acme/app-${i}`, isActive: i % 2 === 0 }),
      })
      ids.push(res.json().id)
    }
    const gitlab = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: auth,
      payload: { tenantId, scmType: 'GITLAB', displayName: 'gl', repositoryUrl: 'https://gitlab.com/a/b', accessToken: 'x' },
    })
    ids.push(gitlab.json().id)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = `tenantId=${tenantId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = await app.inject({ url: `${URL_BASE}?${query}`, headers: auth })
      t.equal(page.statusCode, 200)
      const body = page.json()
      t.ok(body.items.length <= 2)
      t.notOk(page.body.includes(TOKEN))
      seen.push(...body.items.map((i: { id: string }) => i.id))
      cursor = body.nextCursor
    } while (cursor)
    t.same(seen, ids, 'every row once, in creation order')

    const active = await app.inject({ url: `${URL_BASE}?tenantId=${tenantId}&isActive=false`, headers: auth })
    t.same(
      active.json().items.map((i: { id: string }) => i.id),
      [ids[1], ids[3]],
    )
    const onlyGitlab = await app.inject({ url: `${URL_BASE}?tenantId=${tenantId}&scmType=GITLAB`, headers: auth })
    t.same(
      onlyGitlab.json().items.map((i: { id: string }) => i.id),
      [ids[5]],
    )
    const pending = await app.inject({ url: `${URL_BASE}?tenantId=${tenantId}&verificationStatus=VALID`, headers: auth })
    t.same(pending.json().items, [])

    // Every filter at once, a page at a time: each placeholder meets its own value.
    const filtered: string[] = []
    cursor = null
    do {
      const query: string = `tenantId=${tenantId}&scmType=GITHUB&isActive=true&verificationStatus=PENDING&limit=1${cursor ? `&cursor=${cursor}` : ''}`
      const page = await app.inject({ url: `${URL_BASE}?${query}`, headers: auth })
      t.equal(page.statusCode, 200)
      filtered.push(...page.json().items.map((i: { id: string }) => i.id))
      cursor = page.json().nextCursor
    } while (cursor)
    t.same(filtered, [ids[0], ids[2], ids[4]], 'filters and cursor together')

    for (const [query, message] of [
      [`limit=0`, /querystring\/limit must be >= 1/],
      [`limit=101`, /querystring\/limit must be <= 100/],
      [`cursor=bogus`, /querystring\/cursor is not a cursor this service issued/],
      [`verificationStatus=GOOD`, /querystring\/verificationStatus must be one of PENDING, VALID, INVALID, EXPIRED/],
      [`scmType=SVN`, /querystring\/scmType must be one of/],
      [`sort=id`, /querystring has a parameter this route does not take/],
    ] as const) {
      const res = await app.inject({ url: `${URL_BASE}?tenantId=${tenantId}&${query}`, headers: auth })
      t.equal(res.statusCode, 400, query)
      t.match(res.json().message, message, query)
    }
    const noTenant = await app.inject({ url: URL_BASE, headers: auth })
    t.equal(noTenant.statusCode, 400)
    t.match(noTenant.json().message, /querystring\/tenantId is required/)
  })

  t.test('patch changes fields, re-derives GitHub owner and resets verification', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })).json()
    await db.query(`UPDATE tenant_scm_integrations SET verificationStatus = 'VALID' WHERE id = '${created.id}'`)

    const renamed = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${created.id}`,
      headers: auth,
      payload: { displayName: 'Renamed', isActive: false },
    })
    t.equal(renamed.statusCode, 200)
    t.match(renamed.json(), { displayName: 'Renamed', isActive: false, verificationStatus: 'VALID' }, 'a rename keeps the verdict')

    const moved = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${created.id}`,
      headers: auth,
      payload: { repositoryUrl: 'https://github.com/acme/other-app' },
    })
    t.equal(moved.statusCode, 200, moved.body)
    t.match(moved.json(), {
      repositoryUrl: 'https://github.com/acme/other-app',
      githubOrganization: 'acme',
      githubRepository: 'other-app',
      verificationStatus: 'PENDING',
      accessTokenFingerprint: created.accessTokenFingerprint,
    })

    const bad = [
      [{}, /body must set at least 1 field/],
      [{ defaultBranch: '-oops' }, /body\/defaultBranch must be a valid git branch name/],
      [{ tenantId }, /body\/tenantId is not a known field/],
      [{ scmType: 'GITLAB' }, /body\/scmType is not a known field/],
      [{ githubRepository: 'nope' }, /body\/githubRepository must match the repository URL/],
    ] as const
    for (const [payload, message] of bad) {
      const res = await app.inject({ method: 'PATCH', url: `${URL_BASE}/${created.id}`, headers: auth, payload })
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.match(res.json().message, message)
    }
  })

  t.test('patch onto another repository of the tenant is a 409', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })
    const second = (
      await app.inject({
        method: 'POST',
        url: URL_BASE,
        headers: auth,
        payload: githubBody(tenantId, { repositoryUrl: 'https://github.com/acme/b' }),
      })
    ).json()
    const res = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${second.id}`,
      headers: auth,
      payload: { repositoryUrl: 'https://github.com/acme/mobile-app' },
    })
    t.equal(res.statusCode, 409)
  })

  t.test('moving to another host needs the token re-entered', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (
      await app.inject({
        method: 'POST',
        url: URL_BASE,
        headers: auth,
        payload: { tenantId, scmType: 'GITLAB', displayName: 'gl', repositoryUrl: 'https://gitlab.com/a/b', accessToken: TOKEN },
      })
    ).json()
    const refused = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${created.id}`,
      headers: auth,
      payload: { repositoryUrl: 'https://gitlab.attacker.test/a/b' },
    })
    t.equal(refused.statusCode, 422)
    t.match(refused.json(), { code: 'SECRET_REENTRY_REQUIRED', message: /accessToken/ })
    const unchanged = await app.inject({ url: `${URL_BASE}/${created.id}`, headers: auth })
    t.equal(unchanged.json().repositoryUrl, 'https://gitlab.com/a/b', 'nothing changed')

    const moved = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${created.id}`,
      headers: auth,
      payload: { repositoryUrl: 'https://gitlab.example.org/a/b', accessToken: 'glpat-new' },
    })
    t.equal(moved.statusCode, 200)
    t.not(moved.json().accessTokenFingerprint, created.accessTokenFingerprint)
    t.equal(moved.json().verificationStatus, 'PENDING')
  })

  t.test('replaces credentials and only services with the scope read them back', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })).json()
    await db.query(`UPDATE tenant_scm_integrations SET verificationStatus = 'VALID' WHERE id = '${created.id}'`)
    const NEW_TOKEN = 'ghp_rotated_value_9876543210'
    const put = await app.inject({
      method: 'PUT',
      url: `${URL_BASE}/${created.id}/credentials`,
      headers: auth,
      payload: { accessToken: NEW_TOKEN },
    })
    t.equal(put.statusCode, 200)
    t.match(put.json(), { hasAccessToken: true, verificationStatus: 'PENDING' })
    t.not(put.json().accessTokenFingerprint, created.accessTokenFingerprint)
    t.notOk(put.body.includes(NEW_TOKEN))

    for (const [payload, message] of [
      [{}, /body must set at least 1 field/],
      [{ accessToken: '' }, /body\/accessToken must NOT have fewer than 1 characters/],
      [{ password: 'x' }, /body\/password is not a known field/],
    ] as const) {
      const res = await app.inject({ method: 'PUT', url: `${URL_BASE}/${created.id}/credentials`, headers: auth, payload })
      t.equal(res.statusCode, 400)
      t.match(res.json().message, message)
    }

    const reader = await h.serviceToken('release-orchestrator', 'integrations:read integrations:credentials:read')
    const read = await app.inject({ url: `${URL_BASE}/${created.id}/credentials`, headers: { authorization: `Bearer ${reader}` } })
    t.equal(read.statusCode, 200)
    t.same(read.json(), { id: created.id, tenantId, scmType: 'GITHUB', credentials: { accessToken: NEW_TOKEN } })
    t.equal(read.headers['cache-control'], 'no-store')

    const readOnly = await h.serviceToken('dashboard', 'integrations:read')
    const denied = await app.inject({ url: `${URL_BASE}/${created.id}/credentials`, headers: { authorization: `Bearer ${readOnly}` } })
    t.equal(denied.statusCode, 403)
    const owner = await app.inject({ url: `${URL_BASE}/${created.id}/credentials`, headers: auth })
    t.equal(owner.statusCode, 403, 'users never read decrypted credentials, owners included')
    t.notOk(owner.body.includes(NEW_TOKEN))
  })

  t.test('deletes, then the integration is gone', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })).json()
    const del = await app.inject({ method: 'DELETE', url: `${URL_BASE}/${created.id}`, headers: auth })
    t.equal(del.statusCode, 204)
    t.equal(del.body, '')
    t.equal((await app.inject({ url: `${URL_BASE}/${created.id}`, headers: auth })).statusCode, 404)
    t.equal((await app.inject({ method: 'DELETE', url: `${URL_BASE}/${created.id}`, headers: auth })).statusCode, 404)
    const rows = await db.query(`SELECT id FROM tenant_scm_integrations WHERE id = '${created.id}'`)
    t.equal(rows.length, 0)
  })

  t.test('unknown and malformed ids', async (t) => {
    const { auth } = await ownerSetup(h)
    const missing = await app.inject({ url: `${URL_BASE}/01900000-0000-7000-8000-000000000000`, headers: auth })
    t.equal(missing.statusCode, 404)
    t.same(missing.json(), { statusCode: 404, error: 'Not Found', message: 'Integration not found', code: 'NOT_FOUND' })
    const malformed = await app.inject({ url: `${URL_BASE}/not-an-id`, headers: auth })
    t.equal(malformed.statusCode, 400)
    t.match(malformed.json().message, /params\/id must be a UUID/)
  })

  t.test('roles: Viewer reads, Editor reads, only Owner writes', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })).json()
    for (const role of ['Viewer', 'Editor'] as const) {
      const who = { authorization: `Bearer ${await h.userToken(await h.account({ [tenantId]: role }))}` }
      t.equal((await app.inject({ url: `${URL_BASE}/${created.id}`, headers: who })).statusCode, 200, `${role} gets`)
      t.equal((await app.inject({ url: `${URL_BASE}?tenantId=${tenantId}`, headers: who })).statusCode, 200, `${role} lists`)
      const writes = [
        app.inject({
          method: 'POST',
          url: URL_BASE,
          headers: who,
          payload: githubBody(tenantId, { repositoryUrl: 'https://github.com/a/z' }),
        }),
        app.inject({ method: 'PATCH', url: `${URL_BASE}/${created.id}`, headers: who, payload: { displayName: 'x' } }),
        app.inject({ method: 'PUT', url: `${URL_BASE}/${created.id}/credentials`, headers: who, payload: { accessToken: 'x' } }),
        app.inject({ method: 'DELETE', url: `${URL_BASE}/${created.id}`, headers: who }),
      ]
      for (const res of await Promise.all(writes)) {
        t.equal(res.statusCode, 403, role)
        t.match(res.json().message, /needs the Owner role/)
      }
    }
    const still = await app.inject({ url: `${URL_BASE}/${created.id}`, headers: auth })
    t.match(still.json(), { displayName: 'Mobile app', accessTokenFingerprint: created.accessTokenFingerprint })

    const appScoped = await h.account()
    await app.db.models.Collaborator.create({
      email: 'x@example.test',
      accountId: appScoped,
      tenantId,
      appId: 'some-app',
      permission: 'Owner',
    })
    const appOnly = { authorization: `Bearer ${await h.userToken(appScoped)}` }
    t.equal(
      (await app.inject({ url: `${URL_BASE}/${created.id}`, headers: appOnly })).statusCode,
      404,
      'an app-level role is not a tenant role',
    )
  })

  t.test("another tenant's integrations behave as missing", async (t) => {
    const a = await ownerSetup(h)
    const b = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: a.auth, payload: githubBody(a.tenantId) })).json()
    const requests = [
      app.inject({ url: `${URL_BASE}/${created.id}`, headers: b.auth }),
      app.inject({ method: 'PATCH', url: `${URL_BASE}/${created.id}`, headers: b.auth, payload: { displayName: 'x' } }),
      app.inject({ method: 'PUT', url: `${URL_BASE}/${created.id}/credentials`, headers: b.auth, payload: { accessToken: 'x' } }),
      app.inject({ method: 'DELETE', url: `${URL_BASE}/${created.id}`, headers: b.auth }),
      app.inject({ url: `${URL_BASE}?tenantId=${a.tenantId}`, headers: b.auth }),
      app.inject({
        method: 'POST',
        url: URL_BASE,
        headers: b.auth,
        payload: githubBody(a.tenantId, { repositoryUrl: 'https://github.com/b/b' }),
      }),
    ]
    for (const res of await Promise.all(requests)) {
      t.equal(res.statusCode, 404)
      t.match(res.json(), { statusCode: 404, message: /^(Integration|Tenant) not found$/ })
      t.notOk(res.body.includes('mobile-app'), "nothing of the other tenant's integration is shown")
    }
    const unknownTenant = await app.inject({ url: `${URL_BASE}?tenantId=no-such-tenant`, headers: a.auth })
    t.equal(unknownTenant.statusCode, 404)
    t.equal((await app.inject({ url: `${URL_BASE}/${created.id}`, headers: a.auth })).json().displayName, 'Mobile app')
  })

  t.test('service tokens read with integrations:read and never write', async (t) => {
    const { tenantId, auth } = await ownerSetup(h)
    const created = (await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: githubBody(tenantId) })).json()
    const reader = { authorization: `Bearer ${await h.serviceToken('builds', 'integrations:read')}` }
    t.equal((await app.inject({ url: `${URL_BASE}/${created.id}`, headers: reader })).statusCode, 200)
    t.equal((await app.inject({ url: `${URL_BASE}?tenantId=${tenantId}`, headers: reader })).json().items.length, 1)
    t.equal((await app.inject({ url: `${URL_BASE}?tenantId=missing-tenant`, headers: reader })).statusCode, 404)
    const create = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: reader,
      payload: githubBody(tenantId, { repositoryUrl: 'https://github.com/s/s' }),
    })
    t.equal(create.statusCode, 403)
    t.equal((await app.inject({ method: 'DELETE', url: `${URL_BASE}/${created.id}`, headers: reader })).statusCode, 403)
    const noScope = { authorization: `Bearer ${await h.serviceToken('nothing', '')}` }
    t.equal((await app.inject({ url: `${URL_BASE}/${created.id}`, headers: noScope })).statusCode, 403)
  })

  t.test('no token value reaches any log line', async (t) => {
    const secret = 'ghp_log_canary_5f1c2d9e8a7b6c5d4e3f'
    const { tenantId, auth } = await ownerSetup(h)
    const before = h.logs.length
    const created = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: auth,
      payload: githubBody(tenantId, { accessToken: secret, repositoryUrl: 'https://github.com/log/canary' }),
    })
    await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers: auth,
      payload: githubBody(tenantId, { accessToken: secret, repositoryUrl: 'https://github.com/log/canary' }),
    })
    await app.inject({ method: 'POST', url: URL_BASE, headers: auth, payload: `{"accessToken":"${secret}"` })
    await app.inject({
      method: 'PUT',
      url: `${URL_BASE}/${created.json().id}/credentials`,
      headers: auth,
      payload: { accessToken: secret },
    })
    const bearer = auth.authorization.slice('Bearer '.length)
    const lines = h.logs.slice(before)
    t.ok(lines.length > 0, 'requests were logged')
    t.notOk(
      lines.some((l) => l.includes(secret)),
      'no secret in logs',
    )
    t.notOk(
      lines.some((l) => l.includes(bearer)),
      'no bearer token in logs',
    )
  })

  t.test('echoes the gateway request id, or makes one', async (t) => {
    const given = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'gw-1234' } })
    t.equal(given.headers['x-request-id'], 'gw-1234')
    const made = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'bad id\nwith newline' } })
    t.match(made.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  })
})
