import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { mintToken } from '../../src/auth/tokens.js'
import { DEMO } from '../../src/db/dev-seed.js'
import { createTestDatabase } from '../helpers/databases.js'
import { startServer, waitReady } from '../helpers/processes.js'

t.test('SIGTERM lets a slow request in flight finish, closes the pool and exits 0', async (t) => {
  // A GitHub double that holds its answer until the test lets it go.
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  let arrived: () => void = () => {}
  const requestArrived = new Promise<void>((resolve) => (arrived = resolve))
  const github = createServer((_req, res) => {
    arrived()
    void released.then(() => {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ message: 'Not Found' }))
    })
  })
  await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => github.close(() => resolve())))

  const secret = randomBytes(32).toString('hex')
  const server = await startServer(t, await createTestDatabase(t, 'sqlite'), {
    AUTH_JWT_SECRET: secret,
    DEV_SEED: 'true',
    GITHUB_API_URL: `http://127.0.0.1:${(github.address() as AddressInfo).port}`,
    SHUTDOWN_GRACE_MS: '15000',
  })
  t.equal(await waitReady(server), 200, 'ready')
  const port = server.port

  const token = await mintToken({ algorithms: ['HS256'], secret }, { sub: DEMO.accountId })
  const inFlight = fetch(`http://127.0.0.1:${port}/api/v1/integrations/scm/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      tenantId: DEMO.tenantId,
      scmType: 'GITHUB',
      displayName: 'Slow',
      repositoryUrl: 'https://github.com/acme/slow',
      accessToken: 'ghp_shutdown_test',
    }),
  })
  await requestArrived
  server.child.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(server.child.exitCode, null, 'still running while the request is in flight')
  release()

  const answer = await inFlight
  t.equal(answer.status, 200, 'the in-flight request was answered')
  t.match(await answer.json(), { verdict: 'INVALID' })
  const run = await server.exited
  t.equal(run.code, 0, 'exit code 0', { output: run.stdout.slice(-3000) + run.stderr.slice(-2000) })
  const lines = run.stdout.split('\n').filter(Boolean)
  t.ok(
    lines.some((l) => l.includes('"msg":"shutting down"') && l.includes('SIGTERM')),
    'logged the shutdown',
  )
  t.ok(
    lines.some((l) => l.includes('"msg":"database pool closed"')),
    'closed the pool',
  )
  t.notOk(run.stdout.includes('ghp_shutdown_test'), 'no token in the logs')
})
