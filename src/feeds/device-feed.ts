/**
 * This device's own feed: a Hypercore in the Corestore whose block 0 is the attested header.
 * Only this device ever appends to it (a restore makes a new one), so it never forks.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { DEVICE_FEED_NAME } from '../caps.js'
import { ShoalError } from '../errors.js'
import type { FeedKey, MessageRef } from '../ids.js'
import { createHeader, readHeader } from './header.js'
import type { IdentityKeyPair } from './identity.js'
import { encodeRecord, type DmRecord, type MessageRecord } from './schema.js'

export interface DeviceFeedOptions {
  device?: string
  now?: () => number
  /** Write the header when the feed is empty (default true; false when the feed lost its blocks). */
  create?: boolean
}

/** How many appended blocks are kept for the indexer at most (see `takeWritten`). */
const WRITTEN_KEPT = 64

export class DeviceFeed extends ReadyResource {
  readonly core: Hypercore
  private readonly now: () => number
  private readonly device: string
  private readonly create: boolean
  /** The last append, which the next one waits for: appends run one at a time. */
  private tail: Promise<unknown> = Promise.resolve()
  /** Blocks appended here (by seq) that the indexer has not taken yet; at most WRITTEN_KEPT. */
  private readonly written = new Map<number, Uint8Array>()

  constructor (store: Corestore, private readonly identity: IdentityKeyPair, opts: DeviceFeedOptions = {}) {
    super()
    this.core = store.get({ name: DEVICE_FEED_NAME })
    this.now = opts.now ?? Date.now
    this.device = opts.device ?? ''
    this.create = opts.create ?? true
  }

  get key (): FeedKey {
    return this.core.key as FeedKey
  }

  get length (): number {
    return this.core.length
  }

  protected override async _open (): Promise<void> {
    await this.core.ready()
    if (this.core.length === 0) {
      if (!this.create) return
      await this.core.append(encodeRecord(createHeader(this.identity, this.key, this.device, this.now())))
      return
    }
    const block = await this.core.get(0)
    if (block === null) throw ShoalError.STORAGE_ERROR('device feed has no block 0')
    const header = readHeader(block, this.key)
    if (!b4a.equals(header.identity, this.identity.publicKey)) {
      throw ShoalError.STORAGE_ERROR('this storage\'s device feed belongs to a different identity')
    }
  }

  protected override async _close (): Promise<void> {
    await this.core.close()
  }

  /** Validates, encodes and appends one message; resolves to its ref. */
  append (rec: MessageRecord | DmRecord): Promise<MessageRef> {
    return this.appendWith(async () => rec)
  }

  /**
   * Appends the record `build` makes for the seq it will get, and resolves to its ref. Appends
   * run one at a time, so nothing else is appended between `build` and its append. A failed one
   * (a throw from `build`, an invalid record, a storage error) rejects and the next still runs.
   */
  appendWith (build: (seq: number) => Promise<MessageRecord | DmRecord>): Promise<MessageRef> {
    const run = this.tail.then(async () => {
      const seq = this.core.length
      const block = encodeRecord(await build(seq))
      // Nothing else appends to my feed; were something to (a bug), the record built for `seq` is
      // refused here, before the indexer could take it as the block stored there.
      if (this.core.length !== seq) throw ShoalError.STORAGE_ERROR(`my feed grew to ${this.core.length} blocks while a record for block ${seq} was built`)
      // Kept before the append: the indexer may start on it before append() resolves.
      this.written.set(seq, block)
      try {
        const { length } = await this.core.append(block)
        if (length !== seq + 1) throw ShoalError.STORAGE_ERROR(`appended at ${length - 1}, expected ${seq}`)
      } catch (err) {
        this.written.delete(seq)
        throw err
      }
      for (const s of this.written.keys()) {
        if (this.written.size <= WRITTEN_KEPT) break
        this.written.delete(s) // the oldest first (a Map keeps insertion order); the indexer reads those back
      }
      return { feed: this.key, seq }
    })
    this.tail = run.catch(() => {}) // the caller handles its own failure
    return run
  }

  /**
   * Blocks `start` to `end - 1` as appended by this process, or null unless every one of them
   * still is in memory (then the caller reads them from storage). Forgets every block before
   * `end` either way: each is taken once, by the indexer (Indexer `add`'s `written`).
   */
  takeWritten (start: number, end: number): Uint8Array[] | null {
    let out: Uint8Array[] | null = []
    for (let seq = start; seq < end; seq++) {
      const block = this.written.get(seq)
      if (block === undefined) { out = null; break }
      out.push(block)
    }
    for (const s of this.written.keys()) if (s < end) this.written.delete(s)
    return out
  }

  timestamp (): number {
    return this.now()
  }
}
