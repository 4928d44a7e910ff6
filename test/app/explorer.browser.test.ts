import { randomBytes, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js'
import { chromiumMissing, Explorer, EXPLORER_HOST, launchChromium, watchProblems } from '../helpers/explorer.js'
import { startServer, waitReady, within, type ServerProcess } from '../helpers/processes.js'
import { filledExample, slackWorkspaceDouble } from '../helpers/samples.js'
import { mintToken } from '../../src/auth/tokens.js'
import { DEMO } from '../../src/db/dev-seed.js'
import { EXAMPLE_TENANT_ID } from '../../src/integrations/examples.js'
import { KINDS } from '../../src/kinds/index.js'

type Json = Record<string, any>

/** The service as a process, stopped with SIGTERM when `t` ends (a SIGKILL would reach tsx, not the server it runs). */
async function ready(t: Test, db: TestDatabase, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer(t, db, env)
  t.teardown(async () => {
    server.child.kill('SIGTERM')
    await within(server.exited, 30_000, 'SIGTERM shutdown')
  })
  const status = await waitReady(server, 90_000)
  if (status !== 200) throw new Error(`the service did not become ready (${status}):\n${server.stdout()}`)
  return server
}

/** The page as a person on another machine reaches it: plain http, a name that is not loopback. */
const explorerUrl = (server: ServerProcess) => `http://${EXPLORER_HOST}:${server.port}/documentation`

/** Delivr's own tables, as the main server fills them: an account that owns a tenant. */
async function ownerOfNewTenant(db: TestDatabase): Promise<{ accountId: string; tenantId: string }> {
  const accountId = `acct-${randomBytes(4).toString('hex')}`
  const tenantId = randomUUID()
  const now = "datetime('now')"
  await db.query(
    `INSERT INTO accounts (id, email, name, createdAt, updatedAt) VALUES ('${accountId}', '${accountId}@acme.test', 'Owner', ${now}, ${now})`,
  )
  await db.query(
    `INSERT INTO tenants (id, displayName, createdBy, createdAt, updatedAt) VALUES ('${tenantId}', 'Acme', '${accountId}', ${now}, ${now})`,
  )
  await db.query(
    'INSERT INTO collaborators (email, accountId, appId, tenantId, permission, isCreator, createdAt, updatedAt) ' +
      `VALUES ('${accountId}@acme.test', '${accountId}', NULL, '${tenantId}', 'Owner', 1, ${now}, ${now})`,
  )
  return { accountId, tenantId }
}

const missing = chromiumMissing()
if (missing) {
  t.plan(0, missing)
} else {
  t.test('a person with a browser and the printed token uses every kind from /documentation', async (t) => {
    const slack = await slackWorkspaceDouble(t)
    const server = await ready(t, await createTestDatabase(t, 'sqlite'), { DEV_SEED: 'true', SLACK_API_URL: slack.origin })
    const printed = server.logs().find((l) => l.msg.includes('curl '))
    const token = /authorization: Bearer ([^']+)'/.exec(printed?.msg ?? '')?.[1]
    t.ok(token, 'development prints a token')

    const page = await (await launchChromium(t)).newPage()
    page.setDefaultTimeout(30_000)
    const problems = await watchProblems(page)
    const explorer = new Explorer(page)
    await explorer.open(explorerUrl(server))
    await explorer.authorize(token!)

    t.test('the Schema tab names the providers, and error examples carry their own status', async (t) => {
      const create = explorer.operation('scm', 'createScmIntegration')
      const schema = await create.bodySchema()
      await schema.getByText('One of', { exact: true }).click()
      for (const provider of KINDS.find((k) => k.segment === 'scm')!.providers) {
        await schema.getByText(provider.label).first().waitFor()
        t.pass(`names ${provider.label}`)
      }
      for (const code of [400, 401, 403, 404, 409, 503]) {
        t.match(await create.root.locator(`tr.response[data-code="${code}"]`).innerText(), `"statusCode": ${code}`, `${code}`)
      }
      await create.collapse()
    })

    for (const kind of KINDS) {
      const provider = kind.providers[0]!
      t.test(`${kind.segment}: create from the ${provider.label} example, list, read and delete`, async (t) => {
        const create = explorer.operation(kind.segment, `create${kind.name}Integration`)
        await create.tryItOut()
        await create.chooseExample(provider.label)
        const example = await create.body()
        t.match(
          example,
          { tenantId: DEMO.tenantId, [kind.providerField]: provider.id },
          'the example names the demo tenant and the provider',
        )
        await create.setBody(filledExample(example, kind.segment))
        const created = await create.execute()
        t.equal(created.status, 201, created.body)
        const id = String((JSON.parse(created.body) as Json).id)
        await create.collapse()

        const list = explorer.operation(kind.segment, `list${kind.name}Integrations`)
        await list.tryItOut()
        t.equal(await list.parameter('tenantId').inputValue(), DEMO.tenantId, 'the tenant is filled in')
        const listed = await list.execute()
        t.equal(listed.status, 200, listed.body)
        t.ok(
          (JSON.parse(listed.body) as { items: Json[] }).items.some((i) => i.id === id),
          'lists the new integration',
        )
        await list.collapse()

        const read = explorer.operation(kind.segment, `get${kind.name}Integration`)
        await read.tryItOut()
        await read.parameter('id').fill(id)
        const got = await read.execute()
        t.equal(got.status, 200, got.body)
        t.match(JSON.parse(got.body), { id, [kind.providerField]: provider.id })
        await read.collapse()

        const remove = explorer.operation(kind.segment, `delete${kind.name}Integration`)
        await remove.tryItOut()
        await remove.parameter('id').fill(id)
        t.equal((await remove.execute()).status, 204)
        await remove.collapse()
      })
    }

    t.test('no console error, warning or CSP violation', async (t) => {
      t.same(problems(), [])
    })
  })

  t.test('in production the examples need the tenant and the secret filled in', async (t) => {
    const secret = randomBytes(32).toString('hex')
    const db = await createTestDatabase(t, 'sqlite')
    const server = await ready(t, db, { NODE_ENV: 'production', AUTH_JWT_SECRET: secret })
    const { accountId, tenantId } = await ownerOfNewTenant(db)
    const token = await mintToken({ secret }, { sub: accountId })

    const page = await (await launchChromium(t)).newPage()
    page.setDefaultTimeout(30_000)
    const problems = await watchProblems(page)
    const explorer = new Explorer(page)
    await explorer.open(explorerUrl(server))
    await explorer.authorize(token)

    const create = explorer.operation('scm', 'createScmIntegration')
    await create.tryItOut()
    await create.chooseExample('GitLab')
    const example = await create.body()
    t.equal(example.tenantId, EXAMPLE_TENANT_ID, 'an example tenant, to be replaced')
    await create.setBody(filledExample(example, 'scm', tenantId))
    const created = await create.execute()
    t.equal(created.status, 201, created.body)
    await create.collapse()

    const list = explorer.operation('scm', 'listScmIntegrations')
    await list.tryItOut()
    await list.parameter('tenantId').fill(tenantId)
    const listed = await list.execute()
    t.equal(listed.status, 200, listed.body)
    t.same(
      (JSON.parse(listed.body) as { items: Json[] }).items.map((i) => i.id),
      [(JSON.parse(created.body) as Json).id],
    )
    t.same(problems(), [], 'no console error, warning or CSP violation')
  })
}
