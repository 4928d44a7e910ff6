/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  const n = points.length
  if (n < 2) return null
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  if (sxx === 0) return null
  return points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx
}
