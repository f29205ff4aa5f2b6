/**
 * Keeps the views up to date with every tracked feed: reads new contiguous blocks in chunks,
 * decodes and validates them, applies them, and commits each chunk together with the feed's
 * checkpoint `{ position }` in one atomic write. Malformed records are counted and skipped.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import type Hypercore from 'hypercore'
import { ShoalError } from '../errors.js'
import { readUint64BE, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import { readHeader } from '../feeds/header.js'
import { decodeRecord, type MessageRecord } from '../feeds/schema.js'
import { applyMessage, readsOf, type Applied } from './apply.js'
import { keys, u64 } from './keys.js'
import { checkpoint as checkpointEnc, decode, encode, feedIdentity, type Checkpoint, type FeedIdentity } from './records.js'
import type { ViewDb, ViewTxn } from './view-db.js'

const CHUNK = 512
const CONTACT_TYPES = new Set(['follow', 'unfollow', 'block', 'unblock'])

interface TrackedFeed {
  key: FeedKey
  hex: string
  core: Hypercore
  checkpoint: Checkpoint
  identity: FeedIdentity | null
  dirty: boolean
  onData: () => void
}

export interface IndexTotals { messages: number, malformed: number, unknown: number }

/** Where first-receipt times live when they are kept outside the views (primary node state). */
export interface ReceiptStore {
  get (refs: MessageRef[]): Promise<Array<number | null>>
  put (entries: Array<{ ref: MessageRef, at: number }>): Promise<void>
}

export interface IndexerOptions { now?: () => number, receipts?: ReceiptStore }

export class Indexer extends ReadyResource {
  private readonly feeds = new Map<string, TrackedFeed>()
  private running: Promise<void> | null = null
  private paused = false
  private waiters: Array<() => void> = []
  private readonly now: () => number
  private readonly receipts: ReceiptStore | null

  constructor (private readonly db: ViewDb, opts: IndexerOptions = {}) {
    super()
    this.now = opts.now ?? Date.now
    this.receipts = opts.receipts ?? null
  }

  protected override async _close (): Promise<void> {
    this.paused = true
    while (this.running) await this.running
    for (const f of this.feeds.values()) {
      f.core.off('append', f.onData)
      f.core.off('download', f.onData)
    }
    this.feeds.clear()
    this.wake()
  }

  /** Starts indexing a feed (idempotent). The core stays owned by the caller. */
  async add (core: Hypercore): Promise<void> {
    await core.ready()
    const key = core.key as FeedKey
    const hex = b4a.toString(key, 'hex')
    if (this.feeds.has(hex)) return
    const [ckRaw, idRaw] = await this.db.getMany([keys.checkpoint(key), keys.feedIdentity(key)])
    const f: TrackedFeed = {
      key,
      hex,
      core,
      checkpoint: ckRaw === null ? emptyCheckpoint() : decode(checkpointEnc, ckRaw),
      identity: idRaw === null ? null : decode(feedIdentity, idRaw),
      dirty: true,
      onData: () => this.markDirty(f)
    }
    this.feeds.set(hex, f)
    core.on('append', f.onData)
    core.on('download', f.onData)
    this.kick()
  }

  /** Stops indexing a feed; what it contributed to the views stays. */
  remove (feed: Uint8Array): void {
    const hex = b4a.toString(feed, 'hex')
    const f = this.feeds.get(hex)
    if (f === undefined) return
    f.core.off('append', f.onData)
    f.core.off('download', f.onData)
    f.dirty = false
    this.feeds.delete(hex)
  }

  position (feed: Uint8Array): number {
    return this.feeds.get(b4a.toString(feed, 'hex'))?.checkpoint.position ?? 0
  }

  totals (): IndexTotals {
    const t = { messages: 0, malformed: 0, unknown: 0 }
    for (const f of this.feeds.values()) {
      t.messages += f.checkpoint.messages
      t.malformed += f.checkpoint.malformed
      t.unknown += f.checkpoint.unknown
    }
    return t
  }

  /** Resolves once `feed` is indexed up to `length` blocks. */
  async waitFor (feed: Uint8Array, length: number): Promise<void> {
    while (this.position(feed) < length) {
      if (this.closing) throw ShoalError.CLOSED('indexer closed while waiting')
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Resolves when every tracked feed is indexed up to what is stored locally. */
  async idle (): Promise<void> {
    while (this.running) await this.running
  }

  /** Wipes all derived views and indexes every tracked feed again from block 0. */
  async reindex (): Promise<IndexTotals> {
    this.paused = true
    try {
      await this.idle()
      await this.db.wipeDerived()
      this.emit('contacts')
      for (const f of this.feeds.values()) {
        f.checkpoint = emptyCheckpoint()
        f.identity = null
        f.dirty = true
      }
    } finally {
      this.paused = false
    }
    this.kick()
    await this.idle()
    return this.totals()
  }

  private markDirty (f: TrackedFeed): void {
    f.dirty = true
    this.kick()
  }

  private kick (): void {
    if (this.running !== null || this.paused || this.closing) return
    this.running = this.drain()
      .catch((err) => { safetyCatch(err); this.emit('error', err) })
      .finally(() => {
        this.running = null
        if (!this.paused && !this.closing && [...this.feeds.values()].some((f) => f.dirty)) this.kick()
      })
  }

  private async drain (): Promise<void> {
    while (!this.paused && !this.closing) {
      let next: TrackedFeed | null = null
      for (const f of this.feeds.values()) if (f.dirty) { next = f; break }
      if (next === null) return
      next.dirty = false
      await this.indexFeed(next)
    }
  }

  private async indexFeed (f: TrackedFeed): Promise<void> {
    while (!this.paused && !this.closing && f.checkpoint.position < f.core.contiguousLength) {
      const start = f.checkpoint.position
      const end = Math.min(f.core.contiguousLength, start + CHUNK)
      const gets: Array<Promise<Uint8Array | null>> = []
      for (let i = start; i < end; i++) gets.push(f.core.get(i, { wait: false }))
      const blocks = await Promise.all(gets)
      await this.indexChunk(f, start, blocks)
      this.emit('indexed', { feed: f.key, position: f.checkpoint.position })
      this.wake()
    }
  }

  private async indexChunk (f: TrackedFeed, start: number, blocks: Array<Uint8Array | null>): Promise<void> {
    const txn = this.db.txn()
    const ck: Checkpoint = { ...f.checkpoint }
    let identity = f.identity
    const pending: Array<{ rec: MessageRecord, at: Applied }> = []
    const receiptRefs: MessageRef[] = []

    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i]
      if (block === null) break
      const seq = start + i
      ck.position = seq + 1
      if (seq === 0) {
        identity = headerIdentity(block, f.key)
        txn.put(keys.feedIdentity(f.key), encode(feedIdentity, identity))
        if (identity.valid && identity.identity !== null) txn.put(keys.device(identity.identity, f.key), b4a.alloc(0))
        else ck.malformed++
        continue
      }
      if (identity === null || !identity.valid || identity.identity === null) { ck.malformed++; continue }
      let rec
      try {
        rec = decodeRecord(block)
      } catch (err) {
        if (!(err instanceof ShoalError)) throw err
        ck.malformed++
        continue
      }
      if (rec.type === 'unknown') { ck.unknown++; continue }
      if (rec.type === 'header') { ck.malformed++; continue }
      const ref: MessageRef = { feed: f.key, seq }
      pending.push({ rec, at: { author: identity.identity as IdentityKey, ref, ts: rec.timestamp } })
      receiptRefs.push(ref)
      ck.messages++
    }

    await this.clampTimestamps(txn, pending)
    const reads: Uint8Array[] = []
    for (const p of pending) reads.push(...readsOf(p.rec, p.at))
    await txn.prefetch(reads)
    let contacts = false
    for (const p of pending) {
      await applyMessage(txn, p.rec, p.at)
      if (CONTACT_TYPES.has(p.rec.type)) contacts = true
    }

    txn.put(keys.checkpoint(f.key), encode(checkpointEnc, ck))
    await txn.commit()
    f.checkpoint = ck
    f.identity = identity
    if (contacts) this.emit('contacts')
  }

  /**
   * A timestamp claimed in the future is clamped to the time we first received the message.
   * That receipt is node state (kept across reindex) so a rebuild gives identical results.
   */
  private async clampTimestamps (txn: ViewTxn, pending: Array<{ rec: MessageRecord, at: Applied }>): Promise<void> {
    const now = this.now()
    const future = pending.filter((p) => p.at.ts > now)
    if (future.length === 0) return
    const refs = future.map((p) => p.at.ref)
    const receipts = this.receipts !== null
      ? await this.receipts.get(refs)
      : (await this.db.getMany(refs.map((r) => keys.receipt(r)))).map((r) => r === null ? null : readUint64BE(r, 0))
    const fresh: Array<{ ref: MessageRef, at: number }> = []
    for (let i = 0; i < future.length; i++) {
      const receivedAt = receipts[i] ?? now
      if (receipts[i] === null) {
        if (this.receipts !== null) fresh.push({ ref: refs[i], at: receivedAt })
        else txn.put(keys.receipt(refs[i]), u64(receivedAt))
      }
      future[i].at.ts = Math.min(future[i].at.ts, receivedAt)
    }
    // Stored before the views commit: a crash in between leaves a receipt a rebuild reuses.
    if (fresh.length > 0 && this.receipts !== null) await this.receipts.put(fresh)
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }
}

function emptyCheckpoint (): Checkpoint {
  return { position: 0, messages: 0, malformed: 0, unknown: 0 }
}

function headerIdentity (block: Uint8Array, feed: FeedKey): FeedIdentity {
  try {
    const h = readHeader(block, feed)
    return { valid: true, identity: h.identity, device: h.device }
  } catch (err) {
    if (!(err instanceof ShoalError)) throw err
    return { valid: false, identity: null, device: '' }
  }
}
