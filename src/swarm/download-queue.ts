/**
 * First downloads of newly tracked feeds, a few at a time. Starting every feed at once makes
 * Hypercore spread requests over all of them: blocks land in random order, every feed completes at
 * the very end and the indexer has nothing contiguous to do until then. A few at a time, feeds
 * complete one after another and are indexed while the rest download. Once a feed has caught up
 * (or its turn took too long, or no peer has it), it downloads live like every other feed.
 */
import type Hypercore from 'hypercore'
import safetyCatch from 'safety-catch'

export const DEFAULT_CONCURRENCY = 8
/** A turn never blocks the queue longer than this; the feed then goes on downloading live. */
const TURN_MS = 15_000

export class DownloadQueue {
  private readonly waiting: Hypercore[] = []
  private active = 0
  private closed = false

  constructor (private readonly concurrency = DEFAULT_CONCURRENCY) {}

  add (core: Hypercore): void {
    if (this.closed) return
    this.waiting.push(core)
    this.pump()
  }

  /** Drops a core that has not had its turn yet (it is being closed). */
  remove (core: Hypercore): void {
    const i = this.waiting.indexOf(core)
    if (i !== -1) this.waiting.splice(i, 1)
  }

  close (): void {
    this.closed = true
    this.waiting.length = 0
  }

  private pump (): void {
    while (!this.closed && this.active < this.concurrency && this.waiting.length > 0) {
      const core = this.waiting.shift() as Hypercore
      this.active++
      this.turn(core).catch(safetyCatch).finally(() => {
        this.active--
        if (!core.closing && !core.closed) core.download({ start: 0, end: -1 })
        this.pump()
      })
    }
  }

  private async turn (core: Hypercore): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | null = null
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, TURN_MS) })
    try {
      await Promise.race([this.catchUp(core), timeout])
    } finally {
      if (timer !== null) clearTimeout(timer)
    }
  }

  private async catchUp (core: Hypercore): Promise<void> {
    await core.update({ wait: true })
    if (core.closing || core.contiguousLength >= core.length) return
    await core.download({ start: core.contiguousLength, end: core.length }).done()
  }
}
