/** Samples process memory on a timer and keeps the peak of each figure. */
import fs from 'node:fs'

export interface MemoryPeaks { rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number }

export class RssSampler {
  readonly peak: MemoryPeaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 }
  samples = 0
  /** performance.now() when the RSS peak was sampled. */
  rssPeakAt = 0
  private timer: NodeJS.Timeout | null = null

  start (everyMs = 5): void {
    this.sample()
    this.timer = setInterval(() => this.sample(), everyMs)
  }

  /** Takes one sample now; returns the current RSS. */
  sample (): number {
    const m = process.memoryUsage()
    this.samples++
    if (m.rss > this.peak.rss) this.rssPeakAt = performance.now()
    for (const k of Object.keys(this.peak) as Array<keyof MemoryPeaks>) if (m[k] > this.peak[k]) this.peak[k] = m[k]
    return m.rss
  }

  stop (): number {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    return this.sample()
  }
}

export const MiB = 1024 * 1024

/**
 * This process's own peak RSS in bytes: `VmHWM` of /proc/self/status on Linux (the high-water mark
 * of the memory map exec made), else getrusage's `ru_maxrss`. Not `ru_maxrss` on Linux: the kernel
 * carries it over from the map before exec, and node's fork execs from the parent's map, so a
 * child's `ru_maxrss` is at least its parent's RSS at the fork (proc(5), getrusage(2)).
 */
export function peakRss (): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (m !== null) return Number(m[1]) * 1024
  } catch {
    // no procfs (not Linux): getrusage below
  }
  return process.resourceUsage().maxRSS * 1024
}
