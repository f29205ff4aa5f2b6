/**
 * V8 garbage collections seen by a `perf_hooks` `gc` observer, and which of them fell inside a
 * timed run: a page that holds a GC pause is that pause's length slower.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks'

export interface GcCounts { minor: number, major: number, incremental: number, other: number, ms: number }

export class GcWatch {
  private readonly entries: PerformanceEntry[] = []
  private readonly observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) this.entries.push(e) })

  constructor () {
    this.observer.observe({ entryTypes: ['gc'] })
  }

  /** Whether a GC started or ran during [start, start + ms) (performance.now() times). */
  inside (start: number, ms: number): boolean {
    return this.entries.some((g) => g.startTime < start + ms && g.startTime + g.duration > start)
  }

  /** GC time that fell inside [start, start + ms) (ms). */
  timeInside (start: number, ms: number): number {
    let t = 0
    for (const g of this.entries) t += Math.max(0, Math.min(g.startTime + g.duration, start + ms) - Math.max(g.startTime, start))
    return t
  }

  /** GCs by kind (and their total time) since `from` (a performance.now() time). */
  since (from: number): GcCounts {
    const out: GcCounts = { minor: 0, major: 0, incremental: 0, other: 0, ms: 0 }
    for (const g of this.entries) {
      if (g.startTime < from) continue
      const kind = (g as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) out.minor++
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) out.major++
      else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) out.incremental++
      else out.other++
      out.ms += g.duration
    }
    return out
  }

  stop (): void {
    this.observer.disconnect()
  }
}
