/**
 * Bounds the tracked feeds a node keeps open once they are idle (ShoalOptions.openFeeds). A feed
 * indexed to its whole length is noted as a candidate; while more feeds are open than the bound,
 * the candidates idle for at least IDLE_GRACE_MS, oldest first, are handed to the node's
 * `closeIfIdle`, which closes each one that is still idle (as a clean close leaves it: closed,
 * with its checkpoint). The grace leaves whoever just opened or used a feed time to attach to it.
 * A closed feed opens again when something replicates or reads it.
 */
import safetyCatch from 'safety-catch'

/** Idle tracked feeds kept open at most (ShoalOptions.openFeeds): about 24 KB of memory each. */
export const DEFAULT_OPEN_FEEDS = 64

/** How long (ms) a feed stays idle before it may be closed. */
export const IDLE_GRACE_MS = 2000

/**
 * What closeIfIdle did: `closed`; `active`: not idle, and something notes it again once it is
 * (an index, its last peer leaving, its waiter or opener done); `busy`: idle but not closable now,
 * with nothing to say when it is (tried again after the grace).
 */
export type IdleVerdict = 'closed' | 'active' | 'busy'

export interface IdleFeedsHost {
  /** How many tracked feeds are open now. */
  openCount: () => number
  /** Closes the open feed `hex` if it is still idle (see IdleVerdict). */
  closeIfIdle: (hex: string) => Promise<IdleVerdict>
}

export class IdleFeeds {
  /** Candidates (hex) with when each was last noted idle (ms), oldest first. */
  private readonly since = new Map<string, number>()
  private sweeping: Promise<void> | null = null
  /** A candidate was noted while a sweep ran: sweep again once it ends. */
  private again = false
  private timer: ReturnType<typeof setTimeout> | null = null
  private closed = false

  /**
   * `bound`: idle feeds kept open, a whole number of at least 0; `now`: the clock (ms). The grace
   * is waited for with real timers.
   */
  constructor (private readonly bound: number, private readonly host: IdleFeedsHost, private readonly now: () => number = Date.now) {}

  /** The open feed `hex` is indexed to its whole length now (or noted again): closes the oldest idle feeds past the bound. */
  idle (hex: string): void {
    if (this.closed) return
    this.since.delete(hex)
    this.since.set(hex, this.now())
    this.sweep()
  }

  /** Forgets every candidate (the node is closing or reopening its storage) and waits for a sweep in progress. */
  async clear (): Promise<void> {
    this.since.clear()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.sweeping
  }

  /** Stops for good: no sweep starts from here on. */
  async close (): Promise<void> {
    this.closed = true
    await this.clear()
  }

  private sweep (): void {
    if (this.sweeping !== null) { this.again = true; return }
    if (this.closed || this.host.openCount() <= this.bound) return
    this.again = false
    this.sweeping = this.run().catch((err) => {
      safetyCatch(err)
      this.later(IDLE_GRACE_MS) // the candidates left are tried again
    }).finally(() => {
      this.sweeping = null
      if (this.again) this.sweep()
    })
  }

  private async run (): Promise<void> {
    for (const [hex, at] of this.since) {
      if (this.closed || this.host.openCount() <= this.bound) return
      const wait = at + IDLE_GRACE_MS - this.now()
      if (wait > 0) { this.later(wait); return } // the rest were noted later still
      this.since.delete(hex)
      // A busy one goes to the back with a fresh grace; the loop stops when it reaches it again.
      if (await this.host.closeIfIdle(hex) === 'busy' && !this.closed) this.since.set(hex, this.now())
    }
  }

  /** Sweeps again in `ms` (one timer at a time; it keeps no process alive). */
  private later (ms: number): void {
    if (this.timer !== null || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.sweep()
    }, ms)
    ;(this.timer as { unref?: () => void }).unref?.()
  }
}
