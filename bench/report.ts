/** The results table printed at the end of a run. */

export interface Row {
  metric: string
  shoal: string
  baseline: string
  ratio: string
  target: string
  met: boolean | null
}

export function formatTable (rows: Row[]): string {
  const head = ['metric', 'Shoal', 'baseline (same run)', 'ratio', 'target', 'met']
  const cells = rows.map((r) => [r.metric, r.shoal, r.baseline, r.ratio, r.target, r.met === null ? '-' : (r.met ? 'yes' : 'NO')])
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c: string[]): string => '| ' + c.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |'
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n')
}

export function fmt (n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}
