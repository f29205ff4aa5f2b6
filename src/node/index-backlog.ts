/**
 * Indexes closed tracked feeds a bounded number at a time. Each turn opens one feed, indexes what
 * it stores and closes it again (the node's `turn`), so indexing a backlog of thousands of feeds
 * holds at most `limit` of them open: memory follows the bound, not the number of feeds.
 */
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import type { FeedKey } from '../ids.js'

/** Tracked feeds open at once while indexing a backlog of closed feeds (ShoalOptions.indexingFeeds). */
export const DEFAULT_INDEXING_FEEDS = 16

export class IndexBacklog extends ReadyResource {
  private readonly waiting: FeedKey[]
  private workers: Promise<void> | null = null
  private stop: () => void = () => {}
  /** Resolves when the backlog closes: a turn waiting on indexing gives up then. */
  private readonly stopped = new Promise<void>((resolve) => { this.stop = resolve })

  /**
   * `turn(feed, stopped)` opens, indexes and closes one feed, and stops waiting once `stopped`
   * resolves; a failure is emitted as `error` and the other feeds go on.
   */
  constructor (feeds: FeedKey[], private readonly limit: number, private readonly turn: (feed: FeedKey, stopped: Promise<void>) => Promise<void>) {
    super()
    this.waiting = [...feeds]
  }

  /** Feeds that have not had their turn yet. */
  get pending (): number {
    return this.waiting.length
  }

  /** Resolves when every feed has had its turn (or the backlog closed). */
  async done (): Promise<void> {
    await this.ready()
    await this.workers
  }

  protected override async _open (): Promise<void> {
    const n = Math.min(this.limit, this.waiting.length)
    this.workers = Promise.all(Array.from({ length: n }, () => this.work())).then(() => {})
  }

  protected override async _close (): Promise<void> {
    this.waiting.length = 0
    this.stop()
    await this.workers
  }

  private async work (): Promise<void> {
    while (!this.closing) {
      const feed = this.waiting.shift()
      if (feed === undefined) return
      try {
        await this.turn(feed, this.stopped)
      } catch (err) {
        safetyCatch(err)
        if (!this.closing) this.emit('error', err)
      }
    }
  }
}
