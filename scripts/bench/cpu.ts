import fs from 'node:fs'

const TICKS_PER_SECOND = 100

/** User + system CPU time of a process in ms, from /proc (Linux); undefined when unreadable. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** The local MariaDB/MySQL server process, to see how much of the work lands on the database. */
export function databasePid(): number | undefined {
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim()
      if (comm === 'mariadbd' || comm === 'mysqld') return Number(entry)
    }
  } catch {
    // not Linux, or /proc unreadable: no database figures
  }
  return undefined
}

/** CPU ms spent by each pid between start and stop. */
export function cpuMeter(pids: (number | undefined)[]) {
  const before = pids.map((pid) => (pid === undefined ? undefined : cpuTimeMs(pid)))
  return () =>
    pids.map((pid, i) => {
      const after = pid === undefined ? undefined : cpuTimeMs(pid)
      return after === undefined || before[i] === undefined ? null : after - before[i]
    })
}
