import { execFileSync } from 'node:child_process'
import os from 'node:os'

function git(...args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

/** Where the figures came from; the load average shows whether something else was running. */
export function machineInfo(mariadbVersion: string) {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? null,
    memTotalGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    mariadb: mariadbVersion,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedChanges: (git('--no-optional-locks', 'status', '--porcelain') ?? '') !== '',
  }
}
