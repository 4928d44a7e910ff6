import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface Delivery {
  id: string
  /** The verified payload. */
  event: { type: string; timestamp: string; data: Record<string, unknown> }
  status: number
}

export interface WebhookReceiver {
  url: string
  /** Every attempt whose signature verified, answered or refused, in arrival order. */
  attempts: Delivery[]
  /** Attempts whose signature did not verify. */
  forged: number
  /** The status to answer a verified event with (204 by default). */
  answer: (delivery: Omit<Delivery, 'status'>) => number
  /** Resolves once `done` holds for the attempts so far (checked after each attempt). */
  until(done: (attempts: Delivery[]) => boolean): Promise<void>
  /** Accepted deliveries after dedupe by webhook-id, in the order first accepted. */
  accepted(): Delivery[]
}

/** A receiver of change events on loopback that verifies every signature with the standardwebhooks library. */
export async function startWebhookReceiver(t: Teardown, secret: string): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret)
  const waiters: { done: (a: Delivery[]) => boolean; resolve: () => void }[] = []
  const receiver: WebhookReceiver = {
    url: '',
    attempts: [],
    forged: 0,
    answer: () => 204,
    until(done) {
      if (done(receiver.attempts)) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ done, resolve }))
    },
    accepted() {
      const seen = new Set<string>()
      return receiver.attempts.filter((d) => d.status < 300 && !seen.has(d.id) && seen.add(d.id))
    },
  }
  const headersOf = (h: IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]))
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let event: Delivery['event']
      try {
        event = verifier.verify(body, headersOf(req.headers)) as Delivery['event']
      } catch {
        receiver.forged++
        res.writeHead(401).end()
        return
      }
      const delivery = { id: String(req.headers['webhook-id']), event }
      const status = receiver.answer(delivery)
      receiver.attempts.push({ ...delivery, status })
      res.writeHead(status).end()
      for (const waiter of [...waiters]) {
        if (waiter.done(receiver.attempts)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve()
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => (server.close(resolve), server.closeAllConnections())))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  return receiver
}
