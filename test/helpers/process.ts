import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs')

export interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Only what a person's shell would surely have: no test runner variables leak into the child. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // Children run tsx-compiled sources; their coverage would not line up with tap's and
  // would blank out lines other tests cover, so tap's coverage hook is off for them.
  return { PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir(), _TAPJS_PROCESSINFO_COVERAGE_: '0', ...extra }
}

export interface Service {
  child: ChildProcess
  /** Everything the process wrote so far. */
  output(): string
  /** Resolves when the process has exited. */
  exited: Promise<Run>
}

/** Runs a TypeScript entry (`src/server.ts`, a CLI) as a real process; killed at teardown if still running. */
export function runTs(t: Test, script: string, args: string[], env: Record<string, string>, timeoutMs = 90_000): Service {
  const child = spawn(process.execPath, [TSX, script, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += String(d)))
  child.stderr!.on('data', (d) => (stderr += String(d)))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const exited = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, output: () => stdout + stderr, exited }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Polls until `GET url` answers `status`, within `ms`; throws with what it last saw otherwise. */
export async function waitFor(url: string, status = 200, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  let last = 'nothing'
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url)
      if (res.status === status) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not answer ${status} within ${ms} ms (last: ${last})`)
}
