import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { Role } from '../../src/db/models/reference-models.js'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { githubRepository } from '../helpers/github-api.js'
import { startProviderDouble, testToken } from '../helpers/provider-double.js'

const SCM = '/api/v1/integrations/scm'

type Row = [Role, string | null]

// README: the role comes from the collaborators row for that account and tenant with appId IS NULL (Viewer reads,
// Editor also re-verifies, Owner also writes). An account may hold several such rows: the highest one counts, and a
// row for one app of the tenant (appId set) is no role in the tenant at all.
eachDatabase(t, async (t, db) => {
  const github = await startProviderDouble(t)
  github
    .on('GET', '/repos/acme/app-0', { body: githubRepository('app-0') })
    .on('GET', '/repos/acme/app-0/branches/main', { body: { name: 'main' } })
  const h = await startApp(t, db, { GITHUB_API_URL: github.origin })
  const { app } = h
  const { Account, Collaborator } = app.db.models
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
  let repo = 0
  const body = () => ({
    tenantId,
    scmType: 'GITHUB',
    displayName: 'App',
    repositoryUrl: `https://github.com/acme/app-${repo++}`,
    accessToken: testToken('ghp_'),
  })
  const created = await app.inject({ method: 'POST', url: SCM, headers: owner, payload: body() })
  t.equal(created.statusCode, 201, created.body)
  const integration = created.json().id as string

  /** An account holding these collaborator rows in this tenant, inserted in this order; its headers. */
  async function member(rows: Row[]) {
    const id = `acct-${randomUUID()}`
    const email = `${id}@example.test`
    await Account.create({ id, email, name: 'Member', picture: null, createdTime: null })
    for (const [permission, appId] of rows) await Collaborator.create({ email, accountId: id, tenantId, appId, permission })
    return { authorization: `Bearer ${await h.userToken(id)}` }
  }
  const describe = (rows: Row[]) => rows.map(([role, appId]) => (appId ? `${role} of app ${appId}` : role)).join(' + ')

  const can = {
    read: async (headers: Record<string, string>) => (await app.inject({ url: `${SCM}?tenantId=${tenantId}`, headers })).statusCode,
    verify: async (headers: Record<string, string>) =>
      (await app.inject({ method: 'POST', url: `${SCM}/${integration}/verify`, headers })).statusCode,
    create: async (headers: Record<string, string>) =>
      (await app.inject({ method: 'POST', url: SCM, headers, payload: body() })).statusCode,
  }

  const cases: Array<[Row[], { read: number; verify: number; create: number }]> = [
    [
      [
        ['Viewer', null],
        ['Owner', null],
      ],
      { read: 200, verify: 200, create: 201 },
    ],
    [
      [
        ['Owner', null],
        ['Viewer', null],
      ],
      { read: 200, verify: 200, create: 201 },
    ],
    [
      [
        ['Viewer', null],
        ['Editor', null],
      ],
      { read: 200, verify: 200, create: 403 },
    ],
    [
      [
        ['Editor', null],
        ['Viewer', null],
      ],
      { read: 200, verify: 200, create: 403 },
    ],
    [
      [
        ['Viewer', null],
        ['Owner', 'app-1'],
      ],
      { read: 200, verify: 403, create: 403 },
    ],
    [
      [
        ['Owner', 'app-1'],
        ['Editor', null],
      ],
      { read: 200, verify: 200, create: 403 },
    ],
    [[['Owner', 'app-1']], { read: 404, verify: 404, create: 404 }],
  ]

  for (const [rows, expected] of cases) {
    t.test(`${describe(rows)}: reads ${expected.read}, re-verifies ${expected.verify}, creates ${expected.create}`, async (t) => {
      const headers = await member(rows)
      t.same({ read: await can.read(headers), verify: await can.verify(headers), create: await can.create(headers) }, expected)
    })
  }
})
