/** Prometheus text exposition → value by series (`name` or `name{labels}` as printed). */
export function parsePrometheus(text: string): Map<string, number> {
  const series = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    const value = Number(line.slice(space + 1))
    if (space > 0 && !Number.isNaN(value)) series.set(line.slice(0, space), value)
  }
  return series
}

export async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`)
  return parsePrometheus(await response.text())
}
