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
import { readUint64BE, toHex, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import { readHeader } from '../feeds/header.js'
import { decodeRecord, type DmRecord, type MessageRecord } from '../feeds/schema.js'
import { applyMessage, deleterReadsOf, firstReadsOf, reactionReadsOf, readsOf, type Applied, type ContactChange } from './apply.js'
import { setHome } from './home.js'
import { readBlocks } from './read-blocks.js'
import { TAG, key, keys, u64 } from './keys.js'
import { purgeIdentity } from './purge.js'
import { checkpoint as checkpointEnc, decode, encode, feedIdentity, storedContact, type Checkpoint, type FeedIdentity } from './records.js'
import type { ViewDb, ViewTxn } from './view-db.js'

/** Records per chunk: the most one feed is indexed before the others (and my own feed) get a turn. */
const CHUNK = 512
/** Records of a chunk decoded and applied at a time (one batch and one commit for the whole chunk). */
const GROUP = 64
const CONTACT_TYPES = new Set(['follow', 'unfollow', 'block', 'unblock'])
/**
 * Home rows deleted (by unfollows) before the home range is compacted. Deleted rows stay in the
 * files as tombstones until a compaction, and a home page scans across them: after unfollowing
 * 2,999 of 3,000 authors a page of the one left crossed ~150,000 of them (0.5 s).
 */
const HOME_COMPACT_ROWS = 1000
/** A home compaction waits this many times its last duration after it (at most a fifth of the time). */
const HOME_COMPACT_SPACING = 4

interface TrackedFeed {
  key: FeedKey
  hex: string
  core: Hypercore
  checkpoint: Checkpoint
  /** What block 0 said; kept in memory across a reindex and a block (a header never changes). */
  identity: FeedIdentity | null
  /** Written by an identity I block: nothing of it is indexed until I unblock it. */
  blocked: boolean
  /** Whether a first-receipt time is recorded for any of its messages (null: not looked up yet). */
  receipts: boolean | null
  /** Blocks appended by this process, when the feed is mine (see AddOptions). */
  written: AddOptions['written']
  onData: () => void
}

export interface AddOptions {
  /**
   * For my device feed: blocks `start` to `end - 1` exactly as appended, or null when not all are
   * at hand (DeviceFeed `takeWritten`). A chunk they cover is not read back from storage.
   */
  written?: (start: number, end: number) => Uint8Array[] | null
}

/** A record to apply, with the keys it reads (readsOf). */
interface Pending { rec: MessageRecord, at: Applied, reads: Uint8Array[] }

/** What a chunk's groups found so far, applied together at its commit. */
interface ChunkRun {
  /** Whether the feed's posts go to my home, once a group with posts has read it. */
  home: boolean | null
  /** The last record applied (readsOf shares a reaction's summary key with the record before). */
  prev: Pending | null
  contacts: boolean
  /** Whether the author's follows are written unread (Applied.soleWriter), once a group with contacts has read it. */
  soleWriter: boolean | null
  profiles: boolean
  changes: ContactChange[]
  purged: number
  homeDeleted: number
  purgedNow: Set<string>
}

export interface IndexTotals { messages: number, malformed: number, unknown: number }

/** Where first-receipt times live when they are kept outside the views (primary node state). */
export interface ReceiptStore {
  get (refs: MessageRef[]): Promise<Array<number | null>>
  put (entries: Array<{ ref: MessageRef, at: number }>): Promise<void>
  /** Whether any receipt is recorded for a message of `feed`. */
  hasReceipts (feed: FeedKey): Promise<boolean>
}

/** A `box` or `keys` record for the DM service, with its place and the identity its feed names. */
export interface DmItem { feed: FeedKey, seq: number, author: IdentityKey, rec: DmRecord }

/** Receives the DM records of each chunk before the chunk's views commit (so none is lost in a crash). */
export interface DmSink { receive (items: DmItem[]): Promise<void> }

export interface IndexerOptions {
  /** Where `box` and `keys` records go (primary state; views skip them). */
  dm?: DmSink
  /** The local identity: its feeds are indexed first, and its blocks decide what is indexed at all. */
  me: IdentityKey
  now?: () => number
  receipts?: ReceiptStore
}

/**
 * Events: `indexed` (a chunk of a feed committed), `contacts` (follows or blocks changed, or a
 * reindex began), `profiles` (an about record was indexed: cached names are stale),
 * `block-change` ({ target, blocking }: a block or unblock of mine, from any of my devices, was
 * committed; the feeds of `target` tracked here are reset, and those not open here need opening).
 *
 * Scheduling: one chunk at a time, my own identity's feeds first, the others in turn (round robin),
 * so my own appends are indexed within one chunk of work however large a remote backlog is.
 */
export class Indexer extends ReadyResource {
  private readonly feeds = new Map<string, TrackedFeed>()
  /** Feeds that may have unindexed blocks, other than my own, in turn order. */
  private readonly queue = new Set<TrackedFeed>()
  /** Feeds whose header names me: indexed before any other feed gets a turn. */
  private readonly own = new Set<TrackedFeed>()
  /**
   * Whether I block each identity asked about so far (hex): one view row read when first needed
   * (isBlocked), then kept current by my contact records as they are indexed. Not every contact
   * row at once: with thousands of follows that scan held up the first feed a sync opened.
   */
  private readonly blocked = new Map<string, boolean>()
  /**
   * Whether the views hold my deleter row (`keys.deleter`): false only as last read there, true
   * once a delete of mine is applied, null when not read yet or since a reindex. While false, my
   * posts skip the row's read each: only applying a delete of mine writes it (purge never touches
   * my rows).
   */
  private meDeleted: boolean | null = null
  private running: Promise<void> | null = null
  /** Home rows deleted since the home range was last compacted, and when the next compaction may run (ms). */
  private homeDeleted = 0
  private homeCompactAfter = 0
  private paused = false
  private waiters: Array<() => void> = []
  private readonly now: () => number
  private readonly receipts: ReceiptStore | null
  private readonly me: IdentityKey
  private readonly dm: DmSink | null

  constructor (private readonly db: ViewDb, opts: IndexerOptions) {
    super()
    this.me = opts.me
    this.now = opts.now ?? Date.now
    this.receipts = opts.receipts ?? null
    this.dm = opts.dm ?? null
    this.setMaxListeners(0) // one 'error' listener per write in flight (watchIndexer), however many
  }

  protected override async _open (): Promise<void> {
    // My blocks are read when first needed (a chunk to index, or a feed of someone else added),
    // not here: a node whose feeds are all indexed opens without reading its contact rows.
  }

  protected override async _close (): Promise<void> {
    this.paused = true
    while (this.running) await this.running
    await this.compactHome(true).catch(safetyCatch) // tombstones left only slow pages down until a later compaction
    for (const f of this.feeds.values()) {
      f.core.off('append', f.onData)
      f.core.off('download', f.onData)
    }
    this.feeds.clear()
    this.queue.clear()
    this.own.clear()
    this.wake()
  }

  /** Starts indexing a feed (idempotent). The core stays owned by the caller. */
  async add (core: Hypercore, opts: AddOptions = {}): Promise<void> {
    await this.ready()
    await core.ready()
    const key = core.key as FeedKey
    const hex = b4a.toString(key, 'hex')
    if (this.feeds.has(hex)) return
    const [ckRaw, idRaw] = await this.db.getMany([keys.checkpoint(key), keys.feedIdentity(key)])
    if (this.feeds.has(hex)) return
    const identity = idRaw === null ? null : decode(feedIdentity, idRaw)
    const blocked = await this.isBlocked(identity)
    if (this.feeds.has(hex)) return
    const f: TrackedFeed = {
      key,
      hex,
      core,
      checkpoint: ckRaw === null ? emptyCheckpoint() : decode(checkpointEnc, ckRaw),
      identity,
      blocked,
      receipts: null,
      written: opts.written,
      onData: () => this.markDirty(f)
    }
    this.feeds.set(hex, f)
    if (this.isMine(f)) this.own.add(f)
    core.on('append', f.onData)
    core.on('download', f.onData)
    this.markDirty(f)
    this.wake() // a waitFor that came before the add reads this feed's checkpoint now, indexed or not
  }

  /** Stops indexing a feed; what it contributed to the views stays. */
  remove (feed: Uint8Array): void {
    const hex = b4a.toString(feed, 'hex')
    const f = this.feeds.get(hex)
    if (f === undefined) return
    f.core.off('append', f.onData)
    f.core.off('download', f.onData)
    this.queue.delete(f)
    this.own.delete(f)
    this.feeds.delete(hex)
    this.wake() // a waitFor on it resolves: nothing more of it is indexed here
  }

  /** The checkpoint of a feed being indexed (a copy), or null when it is not tracked here. */
  checkpointOf (feed: Uint8Array): Checkpoint | null {
    const f = this.feeds.get(b4a.toString(feed, 'hex'))
    return f === undefined ? null : { ...f.checkpoint }
  }

  position (feed: Uint8Array): number {
    return this.feeds.get(b4a.toString(feed, 'hex'))?.checkpoint.position ?? 0
  }

  /** Tracked device feeds whose header names `identity` (blocked ones included). */
  feedsOf (identity: Uint8Array): FeedKey[] {
    const out: FeedKey[] = []
    for (const f of this.feeds.values()) {
      const id = f.identity?.identity
      if (id != null && b4a.equals(id, identity)) out.push(f.key)
    }
    return out
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

  /**
   * Resolves once `feed` is indexed up to `length` blocks, or is known to be written by someone I
   * block, or is removed after being tracked (a feed not tracked yet is waited for until added).
   */
  async waitFor (feed: Uint8Array, length: number): Promise<void> {
    const hex = b4a.toString(feed, 'hex')
    let seen = false
    for (;;) {
      const f = this.feeds.get(hex)
      if (f === undefined && seen) return
      if (f !== undefined && (f.checkpoint.position >= length || f.blocked)) return
      if (this.closing) throw ShoalError.CLOSED('indexer closed while waiting')
      seen = seen || f !== undefined
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Resolves once every tracked feed of `identity` is indexed up to what is stored locally (or blocked). */
  async waitForIdentity (identity: Uint8Array): Promise<void> {
    for (const f of this.feedsOf(identity)) {
      const core = this.feeds.get(toHex(f))?.core
      if (core !== undefined) await this.waitFor(f, core.contiguousLength)
    }
  }

  /** Resolves when every tracked feed is indexed up to what is stored locally. */
  async idle (): Promise<void> {
    while (this.running) await this.running
  }

  /**
   * Wipes all derived views and indexes every tracked feed again from block 0, then compacts
   * them (`compact: false` leaves that to a caller that indexes more feeds after).
   */
  async reindex (opts: { compact?: boolean } = {}): Promise<IndexTotals> {
    this.paused = true
    try {
      await this.idle()
      await this.db.wipeDerived()
      this.blocked.clear() // nothing is blocked in empty views: read again (absent) when asked
      this.meDeleted = null
      this.emit('contacts')
      for (const f of this.feeds.values()) {
        f.checkpoint = emptyCheckpoint()
        f.blocked = false
        if (!this.own.has(f)) this.queue.add(f)
      }
    } finally {
      this.paused = false
    }
    this.kick()
    await this.idle()
    if (opts.compact !== false) await this.db.compactDerived()
    return this.totals()
  }

  /** Whether I block the identity a feed header names (one view row, read once; see `blocked`). */
  private async isBlocked (identity: FeedIdentity | null): Promise<boolean> {
    const id = identity?.identity
    return id != null && await this.blocks(id)
  }

  /**
   * Whether I block `identity` as the contact records of mine applied so far say (one view row
   * read when first asked; see `blocked`). blockedNow answers the same with no wait, once asked.
   */
  async blocks (id: Uint8Array): Promise<boolean> {
    if (b4a.equals(id, this.me)) return false
    const hex = toHex(id)
    const known = this.blocked.get(hex)
    if (known !== undefined) return known
    const raw = await this.db.get(keys.contact(this.me, id))
    // A contact record of mine indexed while this read ran has set the answer: it wins.
    if (!this.blocked.has(hex)) this.blocked.set(hex, raw !== null && decode(storedContact, raw).blocking)
    return this.blocked.get(hex) === true
  }

  /** Whether I block `identity`, known with no wait: true only if `blocks` was asked and says so now. */
  blockedNow (identity: Uint8Array): boolean {
    return this.blocked.get(toHex(identity)) === true
  }

  private isMine (f: TrackedFeed): boolean {
    const id = f.identity?.identity
    return id != null && b4a.equals(id, this.me)
  }

  private hasWork (f: TrackedFeed): boolean {
    return !f.blocked && f.checkpoint.position < f.core.contiguousLength
  }

  private markDirty (f: TrackedFeed): void {
    if (!this.own.has(f)) this.queue.add(f)
    this.kick()
  }

  /** My own feeds with work first, else the next remote feed in turn (taken off the queue). */
  private next (): TrackedFeed | null {
    for (const f of this.own) if (this.hasWork(f)) return f
    for (const f of this.queue) {
      this.queue.delete(f)
      if (this.hasWork(f) && this.feeds.get(f.hex) === f) return f
    }
    return null
  }

  private anyWork (): boolean {
    for (const f of this.own) if (this.hasWork(f)) return true
    for (const f of this.queue) if (this.hasWork(f)) return true
    return false
  }

  private kick (): void {
    if (this.running !== null || this.paused || this.closing) return
    this.running = this.drain()
      .catch((err) => { safetyCatch(err); this.emit('error', err) })
      .finally(() => {
        this.running = null
        if (!this.paused && !this.closing && this.anyWork()) this.kick()
      })
  }

  private async drain (): Promise<void> {
    while (!this.paused && !this.closing) {
      const f = this.next()
      if (f === null) return
      const start = f.checkpoint.position
      const end = Math.min(f.core.contiguousLength, start + CHUNK)
      const blocks = f.written?.(start, end) ?? await readBlocks(f.core, start, end)
      if (this.feeds.get(f.hex) !== f) continue // removed meanwhile
      await this.indexChunk(f, start, blocks)
      if (this.isMine(f)) { this.own.add(f); this.queue.delete(f) } else if (this.hasWork(f)) this.queue.add(f) // to the back of the turn
      this.emit('indexed', { feed: f.key, position: f.checkpoint.position })
      this.wake()
    }
  }

  private async indexChunk (f: TrackedFeed, start: number, blocks: Array<Uint8Array | null>): Promise<void> {
    if (await this.isBlocked(f.identity)) { f.blocked = true; return }
    const txn = this.db.txn()
    const ck: Checkpoint = { ...f.checkpoint }
    let identity = f.identity
    const dmItems: DmItem[] = []
    const run: ChunkRun = { home: null, prev: null, contacts: false, soleWriter: null, profiles: false, changes: [], purged: 0, homeDeleted: 0, purgedNow: new Set() }
    let i = 0
    let done = false
    while (!done && i < blocks.length) {
      // Decoded and applied a group at a time, all in the chunk's one batch: a decoded record is held
      // only until its group is applied, not through the whole chunk's young collections.
      const pending: Pending[] = []
      for (; i < blocks.length && pending.length < GROUP; i++) {
        const block = blocks[i]
        if (block === null) { done = true; break }
        blocks[i] = null // decoded: not kept (with the records below) through the chunk's collections
        const seq = start + i
        if (seq === 0) {
          identity = headerIdentity(block, f.key)
          if (await this.isBlocked(identity)) {
            // Someone I block: nothing of this feed is written, not even that it is theirs.
            f.identity = identity
            f.blocked = true
            return
          }
          ck.position = 1
          txn.put(keys.feedIdentity(f.key), encode(feedIdentity, identity))
          if (identity.valid && identity.identity !== null) txn.put(keys.device(identity.identity, f.key), b4a.alloc(0))
          else ck.malformed++
          continue
        }
        ck.position = seq + 1
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
        if (rec.type === 'box' || rec.type === 'keys') {
          dmItems.push({ feed: f.key, seq, author: identity.identity as IdentityKey, rec })
          continue // not a view message: the DM service counts what it opens
        }
        const ref: MessageRef = { feed: f.key, seq }
        pending.push({ rec, at: { author: identity.identity as IdentityKey, ref, ts: rec.timestamp, home: false, soleWriter: false }, reads: [] })
        ck.messages++
      }
      if (pending.length > 0) await this.applyGroup(txn, f, ck, identity?.identity ?? null, pending, run)
    }

    txn.put(keys.checkpoint(f.key), encode(checkpointEnc, ck))
    // The DM service commits (exactly once per (feed, seq), by its own checkpoint) before the views do.
    if (this.dm !== null && dmItems.length > 0) await this.dm.receive(dmItems)
    await txn.commit()
    f.checkpoint = ck
    f.identity = identity
    for (const change of run.changes) {
      this.applyBlockChange(change)
      this.emit('block-change', { target: change.target, blocking: change.blocking })
    }
    if (run.contacts) this.emit('contacts')
    if (run.profiles) this.emit('profiles')
    this.homeDeleted += run.homeDeleted
    if (run.purged > 0) {
      await this.db.compactDerived()
      this.homeDeleted = 0
    }
    await this.compactHome(false)
  }

  /** Applies one group of a chunk's records (in feed order) to the chunk's batch; what it changed goes in `run`. */
  private async applyGroup (txn: ViewTxn, f: TrackedFeed, ck: Checkpoint, author: IdentityKey | null, pending: Pending[], run: ChunkRun): Promise<void> {
    await this.clampTimestamps(txn, f, pending)
    // Within one feed time never goes backwards: the later record is the later one.
    for (const p of pending) {
      if (p.at.ts < ck.clock) p.at.ts = ck.clock
      else ck.clock = p.at.ts
    }
    const mine = author !== null && b4a.equals(author, this.me)
    if (author !== null && !mine) await this.markSoleWriters(txn, f.key, author, pending, run)
    const reads: Uint8Array[] = []
    // Whether this feed's posts go to my home: my follow of its author (a chunk is one author's;
    // only my own records write that row, and then the posts are mine: the same for every group).
    const posts = author !== null && pending.some((p) => p.rec.type === 'post')
    const homeKey = posts && !mine && run.home === null ? keys.contact(this.me, author) : null
    if (homeKey !== null) reads.push(homeKey)
    if (posts && author !== null) {
      if (mine && this.meDeleted === false) txn.assumeAbsent(keys.deleter(author)) // read neither here nor by applyPost
      else reads.push(keys.deleter(author))
    }
    const reactions = author !== null && pending.some((p) => p.rec.type === 'reaction')
    const removerKey = reactions && author !== null ? keys.reactionRemover(author) : null
    if (removerKey !== null) reads.push(removerKey)
    let prev = run.prev
    for (const p of pending) {
      p.reads = readsOf(p.rec, p.at, prev)
      for (const k of firstReadsOf(p.rec, p.reads)) reads.push(k)
      prev = p
    }
    run.prev = prev
    await txn.prefetch(reads)
    reads.length = 0
    // Count and reactor rows: read only where one may exist (most reactions are of a kind new to their post).
    // The batch holds the groups applied before: their rows are seen as written.
    if (removerKey !== null) {
      const removed = txn.peek(removerKey) !== null
      const more: Uint8Array[] = []
      for (const p of pending) reactionReadsOf(txn, p.rec, p.reads, removed, more)
      await txn.prefetch(more)
    }
    // Most authors never delete: then their posts need no lookup of a deletion marker each.
    if (posts && await this.deleterRow(txn, author, mine)) {
      const more: Uint8Array[] = []
      for (const p of pending) for (const k of deleterReadsOf(p.rec, p.at)) more.push(k)
      await txn.prefetch(more)
    }
    if (run.home === null && (mine || homeKey !== null)) run.home = mine || inHome(await txn.get(homeKey as Uint8Array))
    const home = run.home === true
    for (const p of pending) p.at.home = home
    // What a group holds until the chunk's commit is copied by each young collection meanwhile: a
    // record applied is let go (its rows are in the batch).
    const applied = pending as Array<Pending | null>
    for (let i = 0; i < applied.length; i++) {
      const p = applied[i] as Pending
      applied[i] = null
      if (mine && p.rec.type === 'delete') this.meDeleted = true
      const applying = applyMessage(txn, p.rec, p.at, p.reads)
      const change = applying === null ? null : await applying
      if (CONTACT_TYPES.has(p.rec.type)) run.contacts = true
      else if (p.rec.type === 'about') run.profiles = true
      if (change === null || !mine) continue
      // A block purges the home rows with the rest; otherwise a follow adds them, an unfollow removes them.
      if (change.homeChanged && !(change.blockChanged && change.blocking)) {
        const n = await setHome(txn, change.target, change.home)
        if (!change.home) run.homeDeleted += n
      }
      if (!change.blockChanged) continue
      run.changes.push(change)
      if (change.blocking) {
        const hex = toHex(change.target)
        this.blocked.set(hex, true)
        // A second block in one chunk finds nothing new (their feeds are not indexed in between).
        if (!run.purgedNow.has(hex)) run.purged += await purgeIdentity(txn, change.target, this.feedsOf(change.target))
        run.purgedNow.add(hex)
      } else {
        this.blocked.set(toHex(change.target), false)
      }
    }
  }

  /**
   * Marks the follows and unfollows of a group that are written unread (Applied.soleWriter): those
   * of an author (not me: my records drive home rows and blocks) with no other device feed indexed
   * and no block or unblock indexed before them (read once per chunk, then this chunk's records).
   */
  private async markSoleWriters (txn: ViewTxn, feed: FeedKey, author: IdentityKey, pending: Pending[], run: ChunkRun): Promise<void> {
    if (run.soleWriter === false || !pending.some((p) => CONTACT_TYPES.has(p.rec.type))) return
    if (run.soleWriter === null) {
      const [blocker, sole] = await Promise.all([txn.get(keys.blocker(author)), this.soleDevice(author, feed)])
      run.soleWriter = blocker === null && sole
    }
    for (const p of pending) {
      if (!run.soleWriter) return
      const type = p.rec.type
      if (type === 'block' || type === 'unblock') run.soleWriter = false // it writes their blocker row
      else if (type === 'follow' || type === 'unfollow') p.at.soleWriter = true
    }
  }

  /**
   * Whether `feed` is the only device feed of `identity` with rows here (committed device rows, at
   * most two read). Chunks are indexed one at a time, and every row a feed wrote goes with its
   * device row: a purge (my block) deletes both, a reindex wipes both.
   */
  private async soleDevice (identity: IdentityKey, feed: FeedKey): Promise<boolean> {
    for await (const { key: k } of this.db.scanPrefix(key(TAG.device, identity), { limit: 2 })) {
      if (!b4a.equals(k.subarray(1 + identity.byteLength), feed)) return false
    }
    return true
  }

  /** Compacts the home range once enough of its rows were deleted (`force`: whenever any were). */
  private async compactHome (force: boolean): Promise<void> {
    if (this.homeDeleted === 0) return
    if (!force && (this.homeDeleted < HOME_COMPACT_ROWS || Date.now() < this.homeCompactAfter)) return
    const start = Date.now()
    this.homeDeleted = 0
    await this.db.compact(key(TAG.home), key(TAG.home + 1))
    this.homeCompactAfter = Date.now() + HOME_COMPACT_SPACING * (Date.now() - start)
  }

  /** After a block or unblock of mine is committed: stop or restart indexing that identity's feeds. */
  private applyBlockChange ({ target, blocking }: ContactChange): void {
    for (const g of this.feeds.values()) {
      const id = g.identity?.identity
      if (id == null || !b4a.equals(id, target)) continue
      g.blocked = blocking
      g.checkpoint = emptyCheckpoint() // purged on block; indexed again from block 0 on unblock
      if (blocking) this.queue.delete(g)
      else this.queue.add(g)
    }
  }

  /**
   * A timestamp claimed in the future is clamped to the time we first received the message.
   * That receipt is node state (kept across reindex) so a rebuild gives identical results: once a
   * feed has any receipt, every message of it is looked up, since a rebuild runs later, when a
   * message clamped then may no longer claim the future.
   */
  private async clampTimestamps (txn: ViewTxn, f: TrackedFeed, pending: Pending[]): Promise<void> {
    if (pending.length === 0) return
    const now = this.now()
    if (f.receipts === null) f.receipts = await this.hasReceipts(f.key)
    const asked = f.receipts ? pending : pending.filter((p) => p.at.ts > now)
    if (asked.length === 0) return
    const refs = asked.map((p) => p.at.ref)
    const receipts = this.receipts !== null
      ? await this.receipts.get(refs)
      : (await this.db.getMany(refs.map((r) => keys.receipt(r)))).map((r) => r === null ? null : readUint64BE(r, 0))
    const fresh: Array<{ ref: MessageRef, at: number }> = []
    for (let i = 0; i < asked.length; i++) {
      let receivedAt = receipts[i]
      if (receivedAt === null) {
        if (asked[i].at.ts <= now) continue // never claimed the future when it arrived
        receivedAt = now
        if (this.receipts !== null) fresh.push({ ref: refs[i], at: receivedAt })
        else txn.put(keys.receipt(refs[i]), u64(receivedAt))
        f.receipts = true
      }
      asked[i].at.ts = Math.min(asked[i].at.ts, receivedAt)
    }
    // Stored before the views commit: a crash in between leaves a receipt a rebuild reuses.
    if (fresh.length > 0 && this.receipts !== null) await this.receipts.put(fresh)
  }

  /** Whether `author` has a deleter row (in the chunk's batch or the views); remembered when mine (`meDeleted`). */
  private async deleterRow (txn: ViewTxn, author: IdentityKey, mine: boolean): Promise<boolean> {
    const found = await txn.get(keys.deleter(author)) !== null
    if (mine && this.meDeleted !== true) this.meDeleted = found
    return found
  }

  /** Whether a receipt is recorded for any message of `feed` (node state, or the views' own rows). */
  private async hasReceipts (feed: FeedKey): Promise<boolean> {
    if (this.receipts !== null) return await this.receipts.hasReceipts(feed)
    for await (const _ of this.db.scanPrefix(keys.receiptsOf(feed), { limit: 1 })) return true
    return false
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }
}

/** Whether a contact row of mine puts its target in my home (followed and not blocked). */
function inHome (raw: Uint8Array | null): boolean {
  if (raw === null) return false
  const c = decode(storedContact, raw)
  return c.following && !c.blocking
}

function emptyCheckpoint (): Checkpoint {
  return { position: 0, messages: 0, malformed: 0, unknown: 0, clock: 0 }
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
