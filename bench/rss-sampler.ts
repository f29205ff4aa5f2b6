/** Samples process memory on a timer and keeps the peak of each figure. */

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
