import net from 'node:net'
import type { ServerProcess } from './processes.js'

/** Waits for the process to log that it listens; no HTTP client connection is left open. */
export async function listening(server: ServerProcess): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!server.logs().some((l) => l.msg.startsWith('Server listening'))) {
    if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`the server did not start: ${server.stdout()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export interface RawAnswer {
  /** Everything the server sent before it closed the connection. */
  text: string
  status?: number
  headers: Record<string, string>
  body?: unknown
  /** ms from the first byte written to the connection closing. */
  closedAfterMs: number
}

/** Parses what a server wrote on a raw connection: status line, headers and a JSON body. */
function parseAnswer(text: string, closedAfterMs: number): RawAnswer {
  const [head = '', body] = text.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  let parsed: unknown = body
  try {
    parsed = body ? JSON.parse(body) : undefined
  } catch {
    // not JSON: kept as text
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]) || undefined
  return { text, status, headers, body: parsed, closedAfterMs }
}

/**
 * Opens a raw connection, writes `chunks` (text, or a pause in ms between writes) and resolves
 * with what the server sent once it closes the connection. Writing stops when it closes.
 */
export function rawExchange(port: number, chunks: (string | number)[]): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    let started = Date.now()
    let pause: NodeJS.Timeout | undefined
    let wake: (() => void) | undefined
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (text += d))
    // A reset after the answer is how some refusals end; what was sent is still what counts.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(pause)
      wake?.()
      resolve(parseAnswer(text, Date.now() - started))
    })
    socket.on('connect', () => {
      started = Date.now()
      void (async () => {
        for (const chunk of chunks) {
          if (socket.destroyed) return
          if (typeof chunk === 'string') socket.write(chunk)
          else await new Promise<void>((r) => ((wake = r), (pause = setTimeout(r, chunk))))
        }
      })()
    })
  })
}
