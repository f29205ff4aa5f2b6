/**
 * "Did you mean": the closest known word to a mistyped one, by edit distance (insertions,
 * deletions, substitutions and swaps of neighbours each count one).
 */

/** Optimal-string-alignment distance between `a` and `b`. */
export function editDistance (a: string, b: string): number {
  const d: number[][] = []
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)])
  for (let j = 0; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/**
 * The candidate nearest to `word` when it is near enough to be a typo (a third of the word's
 * length, at least one edit), else the only candidate `word` is a prefix of, else null.
 */
export function closest (word: string, candidates: string[]): string | null {
  const w = word.toLowerCase().slice(0, 64) // a long argument is no typo; this also bounds the work
  let best: string | null = null
  let bestD = Math.max(1, Math.floor(w.length / 3)) + 1
  for (const c of candidates) {
    const d = editDistance(w, c)
    if (d < bestD) { best = c; bestD = d }
  }
  if (best !== null) return best
  const prefixed = w.length >= 2 ? candidates.filter((c) => c.startsWith(w)) : []
  return prefixed.length === 1 ? prefixed[0] : null
}
