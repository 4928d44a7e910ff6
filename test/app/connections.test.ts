import net from 'node:net'
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { mintToken } from '../../src/auth/tokens.js'
import { createTestDatabase } from '../helpers/databases.js'
import { startServer, within, type ServerProcess } from '../helpers/processes.js'
import { listening, rawExchange } from '../helpers/raw-http.js'

const REQUEST_TIMEOUT_MS = 1000

async function stop(t: Test, server: ServerProcess) {
  server.child.kill('SIGTERM')
  t.equal((await within(server.exited, 30_000, 'SIGTERM shutdown')).code, 0, 'stops cleanly')
  t.same(
    server.logs().filter((l) => l.level >= 50),
    [],
    'logged nothing as an error',
  )
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket))
    socket.on('error', reject)
  })
}

t.test('a body trickled a byte at a time is cut off within REQUEST_TIMEOUT_MS and a second or two', async (t) => {
  const secret = randomBytes(32).toString('hex')
  const server = await startServer(t, await createTestDatabase(t, 'sqlite'), {
    AUTH_JWT_SECRET: secret,
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  })
  await listening(server)
  const token = await mintToken({ algorithms: ['HS256'], secret }, { sub: 'trickler' })
  const head = [
    'POST /api/v1/integrations/scm HTTP/1.1',
    'Host: x',
    `Authorization: Bearer ${token}`,
    'Content-Type: application/json',
    'Content-Length: 100',
    '',
    '',
  ].join('\r\n')
  const trickle = [head, ...Array.from({ length: 20 }, () => [2000, ' ']).flat()]
  // Started 1.5 s apart: whatever the phase of the server's timeout checks, each must be cut
  // off near its own deadline, not at the next of some slow periodic sweep.
  const answers = await within(
    Promise.all(
      [0, 1500, 3000].map(async (delay) => {
        await new Promise((r) => setTimeout(r, delay))
        return rawExchange(server.port, trickle)
      }),
    ),
    60_000,
    'the trickled requests',
  )
  for (const [i, answer] of answers.entries()) {
    t.ok(answer.closedAfterMs <= REQUEST_TIMEOUT_MS + 2000, `connection ${i} closed after ${answer.closedAfterMs} ms`)
    t.equal(answer.status, 408, answer.text.slice(0, 120))
    t.match(answer.body, { statusCode: 408, code: 'REQUEST_TIMEOUT' })
  }
  await stop(t, server)
})

t.test('MAX_CONNECTIONS bounds the open connections; those beyond are closed unanswered', async (t) => {
  const server = await startServer(t, await createTestDatabase(t, 'sqlite'), { MAX_CONNECTIONS: '2' })
  await listening(server)
  const request = 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

  const held = [await connect(server.port), await connect(server.port)]
  const beyond = await within(rawExchange(server.port, [request]), 10_000, 'the third connection')
  t.equal(beyond.text, '', 'the third connection is closed without an answer')

  held[0]!.destroy()
  await new Promise((r) => setTimeout(r, 200))
  const freed = await within(rawExchange(server.port, [request]), 10_000, 'a connection after one closed')
  t.equal(freed.status, 200, 'once one closes, a new connection is served')
  held[1]!.destroy()
  await stop(t, server)
})
