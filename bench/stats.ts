/** Small numeric helpers for benchmark samples. */

export interface Summary { n: number, min: number, p50: number, p99: number, max: number, mean: number }

/** Nearest-rank percentile of an ascending-sorted list. */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples')
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export function summarize (samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / s.length
  return { n: s.length, min: s[0], p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1], mean }
}

export function median (samples: number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50)
}

/** Rounds for display and JSON: 3 significant decimals for small numbers, integers for large. */
export function round (n: number): number {
  if (!Number.isFinite(n)) return n
  if (Math.abs(n) >= 100) return Math.round(n)
  return Math.round(n * 1000) / 1000
}
