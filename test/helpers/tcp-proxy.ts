import net from 'node:net'

/** How a cut looks from the client: a stopped server (closed at once) or an unreachable one (never answers). */
export type CutMode = 'refuse' | 'silent'

export interface TcpProxy {
  port: number
  /** Ends every open connection and treats new ones per `mode` until `restore`. */
  cut(mode: CutMode): void
  restore(): void
  close(): Promise<void>
}

/** A loopback TCP forwarder to `target` that a test can cut and restore, standing in for a database outage. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: CutMode | undefined
  const open = new Set<net.Socket>()
  const held = new Set<net.Socket>()

  const server = net.createServer((client) => {
    client.on('error', () => client.destroy())
    if (mode === 'refuse') return client.destroy()
    if (mode === 'silent') {
      held.add(client)
      client.on('close', () => held.delete(client))
      return
    }
    const upstream = net.connect(target.port, target.host)
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    for (const socket of [client, upstream]) {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

  const destroyAll = (sockets: Set<net.Socket>) => {
    for (const socket of sockets) socket.destroy()
  }
  return {
    port: (server.address() as net.AddressInfo).port,
    cut(next) {
      mode = next
      destroyAll(open)
    },
    restore() {
      mode = undefined
      destroyAll(held)
    },
    close() {
      destroyAll(open)
      destroyAll(held)
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
