import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { startApp } from '../helpers/app.js'
import { providerEnv } from '../helpers/provider-env.js'
import { eachDatabase } from '../helpers/databases.js'
import { bodyAt, SAMPLES, slackWorkspaceDouble } from '../helpers/samples.js'
import { localhostCertificate } from '../helpers/tls.js'

const BASE = '/api/v1/integrations'
// Providers called at the host the integration names, rather than at a configured API.
const AT_THEIR_HOST = new Set(['GITLAB', 'JENKINS', 'JIRA', 'CHECKMATE'])
// What many HTTP clients send on every request, a DELETE or a body-less POST included.
const JSON_TYPES = ['application/json', 'application/json; charset=utf-8']

/** A provider that refuses every credential (401), so each verifier reaches a verdict: INVALID. */
async function refusingProvider(t: Test, tls?: { key: string; cert: string }): Promise<{ origin: string; port: number }> {
  const refuse: RequestListener = (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ message: 'Bad credentials', error: 'invalid_client' }))
    })
  }
  const server: Server = tls ? createHttpsServer(tls, refuse) : createHttpServer(refuse)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  return { origin: `${tls ? 'https://localhost' : 'http://127.0.0.1'}:${port}`, port }
}

eachDatabase(t, async (t, db) => {
  const slack = await slackWorkspaceDouble(t)
  const api = await refusingProvider(t)
  const host = await refusingProvider(t, await localhostCertificate())
  const h = await startApp(t, db, {
    ...(await providerEnv(t, { api, slack, host })),
  })
  const { app } = h
  const { tenantId, ownerId } = await h.tenant()
  const owner = { authorization: `Bearer ${await h.userToken(ownerId)}` }

  for (const sample of SAMPLES) {
    const url = `${BASE}/${sample.kind}`
    const body = (n: number) => (AT_THEIR_HOST.has(sample.provider) ? bodyAt(sample, tenantId, host.origin, n) : sample.body(tenantId, n))
    const create = async (n: number): Promise<string> => {
      const res = await app.inject({ method: 'POST', url, headers: owner, payload: body(n) })
      if (res.statusCode !== 201) throw new Error(`create ${sample.kind} ${sample.provider}: ${res.statusCode} ${res.body}`)
      return res.json().id
    }

    t.test(`${sample.kind} ${sample.provider}: a body-less request sent as JSON with an empty body works`, async (t) => {
      const id = await create(0)
      for (const type of JSON_TYPES) {
        const headers = { ...owner, 'content-type': type }
        const verified = await app.inject({ method: 'POST', url: `${url}/${id}/verify`, headers, payload: '' })
        t.equal(verified.statusCode, 200, `re-verify with ${type}: ${verified.body}`)
        t.match(verified.json(), { result: { verdict: /^(VALID|INVALID|EXPIRED)$/ }, integration: { id } })
      }
      for (const type of JSON_TYPES) {
        const doomed = type === JSON_TYPES[0] ? id : await create(1)
        const headers = { ...owner, 'content-type': type }
        const deleted = await app.inject({ method: 'DELETE', url: `${url}/${doomed}`, headers, payload: '' })
        t.equal(deleted.statusCode, 204, `delete with ${type}: ${deleted.body}`)
        t.equal(deleted.body, '')
        t.equal((await app.inject({ url: `${url}/${doomed}`, headers: owner })).statusCode, 404, 'gone')
      }
    })

    t.test(`${sample.kind} ${sample.provider}: a route that takes a body still says it is required`, async (t) => {
      const id = await create(2)
      const routes: [string, string][] = [
        ['POST', url],
        ['POST', `${url}/verify`],
        ['PATCH', `${url}/${id}`],
        ['PUT', `${url}/${id}/credentials`],
      ]
      for (const [method, path] of routes) {
        for (const headers of [{ ...owner, 'content-type': 'application/json' }, owner] as Record<string, string>[]) {
          const res = await app.inject({ method: method as 'POST', url: path, headers, payload: '' })
          const how = `${method} ${path.replace(id, ':id')} ${headers['content-type'] ?? 'without a content type'}`
          t.equal(res.statusCode, 400, how)
          t.match(res.json(), { statusCode: 400, message: 'body is required', code: 'INVALID_FIELD' }, how)
        }
      }
      const poisoned = await app.inject({
        method: 'DELETE',
        url: `${url}/${id}`,
        headers: { ...owner, 'content-type': 'application/json' },
        payload: '{"__proto__":{"isAdmin":true}}',
      })
      t.equal(poisoned.statusCode, 400, 'a non-empty body is parsed as before, prototype checks included')
      const garbled = await app.inject({
        method: 'POST',
        url: `${url}/${id}/verify`,
        headers: { ...owner, 'content-type': 'application/json' },
        payload: '{',
      })
      t.equal(garbled.statusCode, 400)
      t.match(garbled.json(), { message: 'Body is not valid JSON' })
      const text = await app.inject({
        method: 'DELETE',
        url: `${url}/${id}`,
        headers: { ...owner, 'content-type': 'text/plain' },
        payload: '',
      })
      t.equal(text.statusCode, 415, 'another media type is still refused')
      t.equal((await app.inject({ url: `${url}/${id}`, headers: owner })).statusCode, 200, 'nothing was deleted')
    })
  }
})
