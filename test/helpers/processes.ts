import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Test } from 'tap'
import type { TestDatabase } from './databases.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/**
 * Node's arguments that run a TypeScript entry: tsx as Node's loader. Not `npx tsx` (npm exec does not pass SIGTERM
 * on) nor tsx's CLI (it runs the program in a child process of its own, which a SIGKILL of the CLI orphans): the
 * process a test starts is the program itself, so every signal, SIGKILL included, reaches it.
 */
const tsxFile = (file: string) => path.join(ROOT, 'node_modules', 'tsx', 'dist', file)
// preflight is what tsx's CLI preloads too: by it, @fastify/autoload knows it may load the routes' .ts files.
export const TSX = ['--require', tsxFile('preflight.cjs'), '--import', pathToFileURL(tsxFile('loader.mjs')).href]

export interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export function tempDir(t: Test, prefix = 'delivr-proc-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Only what a person's shell would surely have. Children run tsx-compiled sources; their
 * coverage would not line up with tap's, so tap's coverage hook is off for them.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir(), _TAPJS_PROCESSINFO_COVERAGE_: '0', ...extra }
}

/** Collects a child's output; kills it if the test ends first. */
export function track(t: Test, child: ChildProcess): Promise<Run> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d) => (stdout += String(d)))
  child.stderr?.on('data', (d) => (stderr += String(d)))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Runs a TypeScript entry (a CLI, the server) under tsx as a real process with a clean environment. */
export function runTs(t: Test, args: string[], env: Record<string, string>, timeoutMs = 60_000, cwd = ROOT): Promise<Run> {
  const child = spawn(process.execPath, [...TSX, ...args], { cwd, env: childEnv(env), timeout: timeoutMs, killSignal: 'SIGKILL' })
  return track(t, child)
}

/** `npm run schema -- <command>` as an operator would run it, against one database. */
export function schemaCli(t: Test, db: TestDatabase, command: 'plan' | 'check' | 'apply', timeoutMs = 60_000): Promise<Run> {
  return runTs(t, ['src/cli/schema.ts', command], { DATABASE_URL: db.url, DATA_DIR: tempDir(t) }, timeoutMs)
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

export interface ServerProcess {
  port: number
  child: ChildProcess
  exited: Promise<Run>
  /** Output so far. */
  stdout(): string
  /** Every JSON log line so far. */
  logs(): { level: number; msg: string; [key: string]: unknown }[]
}

/** A real server process (`src/server.ts` under tsx) on a free loopback port. */
export async function startServer(t: Test, db: TestDatabase, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, [...TSX, 'src/server.ts'], {
    cwd: ROOT,
    env: childEnv({
      DATABASE_URL: db.url,
      DATA_DIR: tempDir(t),
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
      CREDENTIAL_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LOG_FORMAT: 'json',
      DEV_SEED: 'false',
      // Load shedding reacts to event-loop delay, which several processes starting on two cores cause by themselves.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      // Scheduled re-verification would ask providers on its own; the files that test it turn it on.
      SCHEDULER: 'off',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    }),
  })
  let out = ''
  child.stdout.on('data', (d) => (out += String(d)))
  const exited = track(t, child)
  return {
    port,
    child,
    exited,
    stdout: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string }),
  }
}

/**
 * Polls /health/ready until an answer satisfies `done` (by default: 200), the process exits,
 * or `timeoutMs` passes; returns the last status, undefined if nothing answered.
 */
export async function waitReady(
  server: ServerProcess,
  timeoutMs = 60_000,
  done: (status: number) => boolean = (status) => status === 200,
): Promise<number | undefined> {
  let exited = false
  void server.exited.finally(() => (exited = true))
  let status: number | undefined
  const deadline = Date.now() + timeoutMs
  while (!exited && Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${server.port}/health/ready`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
    status = res?.status
    await res?.body?.cancel()
    if (status !== undefined && done(status)) return status
    await new Promise((r) => setTimeout(r, 250))
  }
  return status
}

/** Resolves with `promise`, or rejects once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
