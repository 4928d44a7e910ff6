import type { ChildProcess } from 'node:child_process'

type Task = () => Promise<void>

const tasks: Task[] = []
const children = new Set<ChildProcess>()

/** Runs at the end, on failure, on SIGINT/SIGTERM and at the deadline, last registered first. */
export function onCleanup(task: Task): void {
  tasks.push(task)
}

/** A child that must not outlive the bench, even when the bench dies without cleaning up. */
export function track(child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => children.delete(child))
}

let running: Promise<void> | undefined

export function cleanup(): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const task = tasks.pop()!
      await task().catch((err: unknown) => console.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`))
    }
  })()
  return running
}

/** Signals and an overall deadline end the run the same way: clean up, then exit non-zero. */
export function guard(deadlineMs: number): void {
  const stop = (why: string, code: number) => {
    console.error(`\n${why}: stopping and cleaning up`)
    void cleanup().finally(() => process.exit(code))
  }
  process.once('SIGINT', () => stop('interrupted', 130))
  process.once('SIGTERM', () => stop('terminated', 143))
  setTimeout(() => stop(`deadline of ${Math.round(deadlineMs / 1000)} s passed`, 1), deadlineMs).unref()
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL')
  })
}
