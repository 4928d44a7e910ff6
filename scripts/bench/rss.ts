import fs from 'node:fs'

/** Resident set size of a process in bytes, from /proc (Linux); undefined when unreadable. */
export function readRss(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) * 1024
  } catch {
    return undefined
  }
}

/** Samples VmRSS every `everyMs` until stopped; answers the peak seen. */
export function sampleRss(pid: number, everyMs = 250) {
  let peak = readRss(pid) ?? 0
  const timer = setInterval(() => {
    peak = Math.max(peak, readRss(pid) ?? 0)
  }, everyMs)
  return {
    stop(): number | null {
      clearInterval(timer)
      peak = Math.max(peak, readRss(pid) ?? 0)
      return peak > 0 ? peak : null
    },
  }
}
