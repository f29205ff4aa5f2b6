/**
 * Where a process's resident memory sits at its peak (Linux only; for the memory row): every
 * `everyMs` it reads /proc/self/smaps and, when RSS is the highest seen, keeps the breakdown:
 * V8's heap spaces, file-backed pages (code), and anonymous memory split into the main malloc
 * heap ([heap]), glibc's per-thread arenas (64 MiB reserved regions) and other anonymous mappings
 * (V8's pages, RocksDB's and libuv's mmaps).
 */
import fs from 'node:fs'
import v8 from 'node:v8'

export interface MemoryBreakdown {
  rss: number
  file: number
  brkHeap: number
  /** glibc thread arenas: anonymous mappings that are part of a 64 MiB-aligned 64 MiB region. */
  arenas: number
  arenaCount: number
  otherAnon: number
  /** V8 heap spaces' committed size (bytes) at the same moment. */
  v8Spaces: Record<string, number>
  external: number
  arrayBuffers: number
  atMs: number
}

const ARENA = 64 * 1024 * 1024

/** Reads /proc/self/smaps once and buckets the resident pages. */
export function breakdown (): MemoryBreakdown {
  const text = fs.readFileSync('/proc/self/smaps', 'utf8')
  const out: MemoryBreakdown = { rss: 0, file: 0, brkHeap: 0, arenas: 0, arenaCount: 0, otherAnon: 0, v8Spaces: {}, external: 0, arrayBuffers: 0, atMs: performance.now() }
  let kind: 'file' | 'heap' | 'anon' = 'anon'
  let start = 0
  let end = 0
  const arenaBases = new Set<number>()
  const anon: Array<{ start: number, end: number, rss: number }> = []
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (head !== null) {
      start = parseInt(head[1], 16)
      end = parseInt(head[2], 16)
      const name = head[3]
      kind = name === '[heap]' ? 'heap' : name === '' ? 'anon' : name.startsWith('[') ? 'anon' : 'file'
      continue
    }
    if (!line.startsWith('Rss:')) continue
    const rss = Number(line.split(/\s+/)[1]) * 1024
    out.rss += rss
    if (kind === 'file') out.file += rss
    else if (kind === 'heap') out.brkHeap += rss
    else anon.push({ start, end, rss })
  }
  // A thread arena is a 64 MiB-aligned region whose mappings (used rw part + reserved ---p part) total 64 MiB.
  const regions = new Map<number, number>()
  for (const a of anon) {
    const base = Math.floor(a.start / ARENA) * ARENA
    if (Math.floor((a.end - 1) / ARENA) * ARENA !== base) continue
    regions.set(base, (regions.get(base) ?? 0) + (a.end - a.start))
  }
  for (const [base, size] of regions) if (size === ARENA) arenaBases.add(base)
  for (const a of anon) {
    const base = Math.floor(a.start / ARENA) * ARENA
    if (arenaBases.has(base) && a.start === base) { out.arenas += a.rss; out.arenaCount++ } else if (arenaBases.has(base)) out.arenas += a.rss
    else out.otherAnon += a.rss
  }
  for (const s of v8.getHeapSpaceStatistics()) out.v8Spaces[s.space_name] = s.physical_space_size
  const m = process.memoryUsage()
  out.external = m.external
  out.arrayBuffers = m.arrayBuffers
  return out
}

/** Samples the breakdown on a timer and keeps the one with the highest RSS. */
export class MemoryProbe {
  peak: MemoryBreakdown | null = null
  /** Every 20th sample (5 s at the default rate): which term grows over a run. */
  readonly series: MemoryBreakdown[] = []
  private timer: NodeJS.Timeout | null = null
  private n = 0

  start (everyMs = 250): void {
    this.timer = setInterval(() => {
      const b = breakdown()
      if (this.peak === null || b.rss > this.peak.rss) this.peak = b
      if (this.n++ % 20 === 19) this.series.push(b)
    }, everyMs)
  }

  stop (): MemoryBreakdown | null {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    return this.peak
  }
}
