/**
 * Bounds the tracked feeds a node keeps open once they are idle (ShoalOptions.openFeeds). A feed
 * indexed to its whole length becomes a candidate; while more feeds are open than the bound, the
 * oldest candidates are handed to the node's `closeIfIdle`, which closes each one that is still
 * idle (as a clean close leaves it: closed, with its checkpoint) and leaves the others open. A
 * closed feed opens again when something replicates or reads it.
 */
import safetyCatch from 'safety-catch'

/** Idle tracked feeds kept open at most (ShoalOptions.openFeeds): about 24 KB of memory each. */
export const DEFAULT_OPEN_FEEDS = 64

export interface IdleFeedsHost {
  /** How many tracked feeds are open now. */
  openCount: () => number
  /** Closes the open feed `hex` if it is still idle; leaves it open otherwise. */
  closeIfIdle: (hex: string) => Promise<void>
}

export class IdleFeeds {
  /** Candidates (hex), oldest first: a feed indexed to its length again moves to the end. */
  private readonly order = new Set<string>()
  private sweeping: Promise<void> | null = null
  private closed = false

  /** `bound`: idle feeds kept open, a whole number of at least 0. */
  constructor (private readonly bound: number, private readonly host: IdleFeedsHost) {}

  /** The open feed `hex` is indexed to its whole length now: closes the oldest idle feeds past the bound. */
  idle (hex: string): void {
    if (this.closed) return
    this.order.delete(hex)
    this.order.add(hex)
    this.sweep()
  }

  /** Forgets every candidate (the node is closing or reopening its storage) and waits for a sweep in progress. */
  async clear (): Promise<void> {
    this.order.clear()
    await this.sweeping
  }

  /** Stops for good: no sweep starts from here on. */
  async close (): Promise<void> {
    this.closed = true
    await this.clear()
  }

  private sweep (): void {
    if (this.sweeping !== null || this.closed || this.host.openCount() <= this.bound) return
    this.sweeping = this.run().catch(safetyCatch).finally(() => {
      this.sweeping = null
      if (this.order.size > 0) this.sweep() // candidates that came while the last one closed
    })
  }

  private async run (): Promise<void> {
    for (const hex of this.order) {
      if (this.closed || this.host.openCount() <= this.bound) return
      this.order.delete(hex) // not idle now: it comes back once indexed to its length again
      await this.host.closeIfIdle(hex)
    }
  }
}
