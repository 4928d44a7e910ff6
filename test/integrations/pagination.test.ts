import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'
const KINDS = ['scm', 'targets', 'ci-cd', 'communication', 'project-management', 'test-management']

// README: list pages are `{ items, nextCursor }`; "pass nextCursor back as &cursor=… for the next page", and the
// last page says so with `nextCursor: null`, including a last page that is exactly full.
eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)
  const h = await startApp(t, db, { SLACK_API_URL: slack.origin })
  const { app } = h

  for (const kind of KINDS) {
    const samples = SAMPLES.filter((s) => s.kind === kind)

    t.test(`${kind}: a last page that is exactly full has no cursor, and one more row makes a second page`, async (t) => {
      const { tenantId, ownerId } = await h.tenant()
      const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }
      const ids: string[] = []
      /** Adds a row of this kind, taking its providers in turn. */
      const add = async () => {
        const n = ids.length
        const res = await app.inject({
          method: 'POST',
          url: `${BASE}/${kind}`,
          headers: owner,
          payload: samples[n % samples.length]!.body(tenantId, n),
        })
        t.equal(res.statusCode, 201, res.body)
        ids.push(res.json().id)
      }
      const page = async (limit: number, cursor?: string) => {
        const res = await app.inject({
          url: `${BASE}/${kind}?tenantId=${tenantId}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
          headers: owner,
        })
        t.equal(res.statusCode, 200, res.body)
        const { items, nextCursor } = res.json<{ items: { id: string }[]; nextCursor: string | null }>()
        return { ids: items.map((i) => i.id), nextCursor }
      }

      await add()
      await add()
      t.same(await page(2), { ids, nextCursor: null }, 'two rows, limit 2: one page, no cursor')

      await add()
      t.same(await page(3), { ids, nextCursor: null }, 'three rows, limit 3: one page, no cursor')
      const first = await page(2)
      t.same(first.ids, ids.slice(0, 2), 'three rows, limit 2: the first two')
      t.type(first.nextCursor, 'string', 'and a cursor')
      t.same(await page(2, first.nextCursor!), { ids: ids.slice(2), nextCursor: null }, 'then the last one, and no cursor')

      await add()
      const full = await page(2, first.nextCursor!)
      t.same(full, { ids: ids.slice(2), nextCursor: null }, 'four rows, limit 2: the second page is exactly full and has no cursor')
    })
  }
})
