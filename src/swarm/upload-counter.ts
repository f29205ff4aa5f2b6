/** Counts blocks uploaded from a set of cores (their `upload` events) until stopped. */
import type Hypercore from 'hypercore'

export class UploadCounter {
  count = 0
  private readonly cores = new Set<Hypercore>()
  private readonly onUpload = (): void => { this.count++ }

  /** Starts counting on the cores not yet watched. */
  watch (cores: Iterable<Hypercore>): void {
    for (const core of cores) {
      if (this.cores.has(core)) continue
      this.cores.add(core)
      core.on('upload', this.onUpload)
    }
  }

  stop (): void {
    for (const core of this.cores) core.off('upload', this.onUpload)
    this.cores.clear()
  }
}
