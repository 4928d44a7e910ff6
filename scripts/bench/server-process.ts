import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { onCleanup, track } from './cleanup.js'

export interface ServerProcess {
  name: string
  pid: number
  url: string
  logFile: string
  stop(): Promise<void>
}

export interface StartOptions {
  name: string
  args: string[]
  env: NodeJS.ProcessEnv
  readyPath: string
  logFile: string
  timeoutMs?: number
}

export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (exited(child)) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  if (await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) return
  child.kill('SIGKILL')
  await gone
}

/** Starts `node <args>` on a free loopback port and waits until `readyPath` answers 200. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = fs.openSync(options.logFile, 'w')
  const child = spawn(process.execPath, options.args, {
    env: { ...options.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', log, log],
  })
  fs.closeSync(log)
  track(child)
  let stopped: Promise<void> | undefined
  const stop = () => (stopped ??= stopChild(child, 15_000))
  onCleanup(stop)

  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  for (;;) {
    if (exited(child)) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(options.logFile)}`)
    }
    const status = await fetch(url + options.readyPath, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.status)
      .catch(() => 0)
    if (status === 200) break
    if (Date.now() > deadline)
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 60_000} ms:\n${tail(options.logFile)}`)
    await sleep(200)
  }
  return { name: options.name, pid: child.pid!, url, logFile: options.logFile, stop }
}
