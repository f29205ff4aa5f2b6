/**
 * The views database: a RocksDB folder that holds only derived, local data. It is never
 * replicated, so private plaintext may live here (and nowhere the swarm can serve from).
 *
 * Because everything in it is derived, damage is repaired by starting over: a folder that does
 * not open (CURRENT, MANIFEST or a table file truncated, corrupted or missing; a file in its
 * place) is moved aside and a fresh database opened (`repaired` says why), and a read that hits
 * corruption marks it `damaged` so the next wipeDerived() starts a fresh one the same way.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import RocksDB from 'rocksdb-native'
import { ShoalError } from '../errors.js'
import { FIRST_DERIVED_TAG, LAST_DERIVED_TAG, prefixEnd } from './keys.js'
import { ReactionKinds } from './reaction-kinds.js'

/** rocksdb-native constants.bottommostLevelCompaction.FORCE: rewrite the last level as well. */
const FORCE_BOTTOMMOST = 2

/**
 * Memory of the views database, bounded by configuration rather than by data: RocksDB's default
 * memtable (64 MiB, two of them) dominated the peak of a large first index.
 */
export const ROCKS_OPTIONS = { writeBufferSize: 8 * 1024 * 1024, maxWriteBufferNumber: 2 }

export interface ScanRange {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse?: boolean
  limit?: number
  /** Entries read per native call (default: limit + 1; at most SCAN_CAPACITY). */
  capacity?: number
  /** false: keys only (each entry's value is null; no buffer per value). Default true. */
  values?: boolean
}

/** The rows of a scan, in its order: `keys[i]` and `values[i]` (`values` empty for a keys-only scan). */
export interface Rows { keys: Uint8Array[], values: Uint8Array[] }

/** Counters of native calls (see ViewDb.stats); `scans` counts iterators opened (each an open and one or more reads). */
export interface RocksStats { gets: number, readBatches: number, puts: number, deletes: number, rangeDeletes: number, writeBatches: number, scans: number }

/** How ViewDb touches the file system (given by the Node side: the views code stays portable). */
export interface ViewDbFiles {
  /** Moves a damaged database folder (or whatever is at its path) out of the way. */
  quarantine (path: string): Promise<void>
}

export class ViewDb extends ReadyResource {
  readonly path: string
  private db: RocksDB | null = null
  private readonly files: ViewDbFiles | null
  /** Why the database was found damaged and started afresh (null when it opened cleanly). */
  repaired: string | null = null
  /** A read or write hit corruption: the next wipeDerived() starts a fresh database. */
  damaged: string | null = null
  /** Iterators opened since open (rocksdb-native counts batches, not iterators). */
  private scans = 0
  /** The kinds of reaction of posts past their summary row's kinds, as this database's batches wrote them. */
  readonly reactionKinds: ReactionKinds

  private readonly readOnly: boolean

  /**
   * With `readOnly` the database is opened read-only: no file changes, every write fails.
   * `reactionKinds`: the most reaction kinds held in memory (ReactionKinds; 0 holds none).
   */
  constructor (path: string, opts: { files?: ViewDbFiles, readOnly?: boolean, reactionKinds?: number } = {}) {
    super()
    this.path = path
    this.files = opts.files ?? null
    this.readOnly = opts.readOnly === true
    this.reactionKinds = new ReactionKinds(opts.reactionKinds)
  }

  protected override async _open (): Promise<void> {
    try {
      this.db = await this.openRocks()
    } catch (err) {
      if (this.files === null || isLockError(err) || isNoSpaceError(err)) throw err
      this.repaired = errorText(err)
      this.db = await this.fresh()
    }
  }

  protected override async _close (): Promise<void> {
    if (this.db) await this.db.close()
  }

  private async openRocks (): Promise<RocksDB> {
    const db = new RocksDB(this.path, { ...ROCKS_OPTIONS, readOnly: this.readOnly, createIfMissing: !this.readOnly })
    try {
      await db.ready()
    } catch (err) {
      await db.close().catch(() => {}) // the failed handle; the open error is what matters
      throw err
    }
    return db
  }

  private async fresh (): Promise<RocksDB> {
    if (this.files === null) throw ShoalError.STORAGE_ERROR(`views database ${this.path} is damaged`)
    await this.files.quarantine(this.path)
    return this.openRocks()
  }

  /** Notes a failure of a read or write: corruption marks the database damaged. */
  private check (err: unknown): unknown {
    if (isCorruption(err) && this.damaged === null) {
      this.damaged = errorText(err)
      this.emit('damaged', err)
    }
    return err
  }

  /** Native calls since open (rocksdb-native's counters: gets and puts, read and write batches), for benchmarks. */
  get stats (): RocksStats {
    const s = this.rocks.stats
    return { gets: s.gets, readBatches: s.readBatches, puts: s.puts, deletes: s.deletes, rangeDeletes: s.rangeDeletes, writeBatches: s.writeBatches, scans: this.scans }
  }

  /**
   * RocksDB's background work now (running compactions and flushes, and whether a compaction is
   * due), for benchmarks: a page timed while it runs shares the cores with it.
   */
  async background (): Promise<{ compactions: number, flushes: number, pending: boolean }> {
    const [compactions, flushes, pending] = await Promise.all(['num-running-compactions', 'num-running-flushes', 'compaction-pending'].map((p) => this.rocks.getProperty(`rocksdb.${p}`)))
    return { compactions: Number(compactions), flushes: Number(flushes), pending: Number(pending) > 0 }
  }

  private get rocks (): RocksDB {
    if (this.db === null) throw ShoalError.CLOSED('views database is not open')
    return this.db
  }

  async get (key: Uint8Array): Promise<Uint8Array | null> {
    try {
      return await this.rocks.get(key)
    } catch (err) {
      throw this.check(err)
    }
  }

  /** Reads many keys in one native call. */
  async getMany (keys: Uint8Array[]): Promise<Array<Uint8Array | null>> {
    if (keys.length === 0) return []
    const batch = this.rocks.read({ capacity: keys.length, autoDestroy: true })
    const all = keys.map((k) => batch.get(k))
    batch.tryFlush()
    // The batch settles its reads in order, in one pass: awaiting each in turn costs no closure
    // per read (Promise.all's), which a chunk of reactions made a thousand of.
    const out: Array<Uint8Array | null> = new Array(all.length)
    for (let i = 0; i < all.length; i++) {
      try {
        out[i] = await all[i]
      } catch (err) {
        for (let j = i + 1; j < all.length; j++) all[j].catch(noop) // settled with the same failure: this throw reports it
        throw this.check(err)
      }
    }
    return out
  }

  async * scan (range: ScanRange): AsyncGenerator<{ key: Uint8Array, value: Uint8Array }> {
    this.scans++
    try {
      yield * this.rocks.iterator({ ...range, capacity: capacityOf(range) })
    } catch (err) {
      throw this.check(err)
    }
  }

  /**
   * The rows in `range`, in one pass: unlike scan(), no promise per row, and it resolves at the
   * range's end, not after the iterator's native close. With covering rows (the post in the
   * value), a page's posts come in this one scan. Keys and values come in two arrays: the
   * iterator's entry objects are dropped as they arrive (see SCAN_CAPACITY for why).
   */
  entriesIn (range: ScanRange): Promise<Rows> {
    return new Promise((resolve, reject) => {
      const rows: Rows = { keys: [], values: [] }
      const values = range.values !== false
      this.scans++
      const it = this.rocks.iterator({ ...range, capacity: capacityOf(range) })
      it.on('data', (e: { key: Uint8Array, value: Uint8Array }) => {
        rows.keys.push(e.key)
        if (values) rows.values.push(e.value)
      })
      it.on('end', () => resolve(rows))
      it.on('error', (err) => reject(this.check(err)))
    })
  }

  /**
   * Every row whose key starts with `prefix`, in one pass (entriesIn): for lists of thousands,
   * where scanPrefix's promise per row costs most.
   */
  entriesWithPrefix (prefix: Uint8Array): Promise<Rows> {
    return this.entriesIn({ gte: prefix, lt: prefixEnd(prefix) })
  }

  /**
   * Calls `visit` with each key (and value, unless `values` is false) that starts with `prefix`,
   * as entriesWithPrefix reads them, keeping no list: a scan of thousands leaves no array to
   * outlive it. A throw from `visit` ends the scan and rejects with it.
   */
  eachWithPrefix (prefix: Uint8Array, values: boolean, visit: (key: Uint8Array, value: Uint8Array | null) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.scans++
      const it = this.rocks.iterator({ gte: prefix, lt: prefixEnd(prefix), capacity: SCAN_CAPACITY, values })
      let failed = false
      it.on('data', (e: { key: Uint8Array, value: Uint8Array | null }) => {
        if (failed) return
        try {
          visit(e.key, e.value)
        } catch (err) {
          failed = true
          it.destroy()
          reject(err)
        }
      })
      it.on('end', () => resolve())
      it.on('error', (err) => reject(this.check(err)))
    })
  }

  /** Writes one batch (used by ViewTxn); a corruption error marks the database damaged. */
  async flushWrite (w: RocksDB.WriteBatch): Promise<void> {
    try {
      await w.flush()
    } catch (err) {
      throw this.check(err)
    }
  }

  /** Every entry whose key starts with `prefix`, in key order (or reverse). */
  scanPrefix (prefix: Uint8Array, opts: { reverse?: boolean, limit?: number } = {}): AsyncGenerator<{ key: Uint8Array, value: Uint8Array }> {
    return this.scan({ gte: prefix, lt: prefixEnd(prefix), ...opts })
  }

  txn (): ViewTxn {
    return new ViewTxn(this, this.rocks)
  }

  /**
   * Compacts the keys in [start, end) down to the last level, so rows deleted there (and their
   * tombstones) stop costing every scan that crosses them. Unlike compactDerived, files already in
   * the last level are not rewritten.
   */
  async compact (start: Uint8Array, end: Uint8Array): Promise<void> {
    await this.rocks.flush()
    await this.rocks.compactRange(start, end)
  }

  /**
   * Rewrites the derived key range on disk so deleted rows are gone from the files too, not only
   * hidden behind tombstones (after a block, or a reindex).
   */
  async compactDerived (): Promise<void> {
    await this.rocks.flush()
    await this.rocks.compactRange(b4a.from([FIRST_DERIVED_TAG]), b4a.from([LAST_DERIVED_TAG + 1]), { bottommostLevelCompaction: FORCE_BOTTOMMOST })
  }

  /**
   * Removes every derived view (node state below FIRST_DERIVED_TAG is kept). A database marked
   * damaged is instead closed, moved aside and replaced by an empty one.
   */
  async wipeDerived (): Promise<void> {
    this.reactionKinds.clear()
    if (this.damaged !== null && this.files !== null) {
      const old = this.rocks
      this.db = null
      await old.close().catch(() => {}) // a damaged database may fail to close cleanly; it is discarded
      this.repaired = this.damaged
      this.damaged = null
      this.db = await this.fresh()
      return
    }
    const w = this.rocks.write({ autoDestroy: true })
    w.tryDeleteRange(b4a.from([FIRST_DERIVED_TAG]), b4a.from([LAST_DERIVED_TAG + 1]))
    await this.flushWrite(w)
  }
}

/**
 * Most entries per native read of any scan. Every rocksdb-native iterator in the process (the
 * views', the node state's, hypercore's) makes its entries at one object literal, and V8 decides
 * from it whether to make them in the old generation: at a young collection, once 100 or more
 * were made since the one before, it does when 85% of those are still alive, and a decision to
 * make them old stays. When it did (a reader that held its 3,000 contact entries at once on its
 * first page), every entry was made old and held its young buffers there: a page's rows, about
 * 22 KiB, became old garbage that only a full collection frees (a major GC every 200-300 pages).
 * So no scan keeps the iterator's entries (rows are two arrays of buffers), and no read queues
 * more than 80 of them: those alive at a collection are never 85% of 100 made.
 */
const SCAN_CAPACITY = 80

/**
 * Entries read per native call: one more than the limit (a read that returns fewer entries than
 * the capacity ends the iterator: a scan of `limit` rows is one read call, not two), at most
 * SCAN_CAPACITY.
 */
function capacityOf (range: ScanRange): number {
  return Math.min(range.capacity ?? (range.limit !== undefined ? Math.max(range.limit + 1, 8) : SCAN_CAPACITY), SCAN_CAPACITY)
}

function errorText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function isLockError (err: unknown): boolean {
  return /lock/i.test(errorText(err))
}

function isNoSpaceError (err: unknown): boolean {
  return /no space left|ENOSPC/i.test(errorText(err))
}

/** RocksDB's words for a damaged database (checksum mismatch, bad block, missing table file). */
function isCorruption (err: unknown): boolean {
  return /corrupt|checksum|bad (block|magic|table)|truncated|No such file|\.sst|MANIFEST|CURRENT/i.test(errorText(err))
}

function noop (): void {}

/**
 * A key's slot in a batch's maps: its bytes as a latin1 string (one char per byte, so distinct keys
 * stay distinct), half the size of hex and cheaper to make; a chunk makes several per message.
 */
function slot (key: Uint8Array): string {
  return b4a.toString(key, 'latin1')
}

/**
 * A row this batch knows: what it read of the committed row (`written` false; `value` null when
 * absent), or its last write (`value` null: deleted) with the key buffer to write it under.
 */
class Row {
  /**
   * `fresh`: the committed row is known absent (read absent, or assumeAbsent) and this batch wrote
   * it: a final delete of it needs no write (a rank row put and taken back within one chunk).
   */
  constructor (public key: Uint8Array | null, public value: Uint8Array | null, public written: boolean, public fresh = false) {}
}

/** The index rows of one tag that a batch holds (ViewTxn.putIndex), in put order. */
class IndexRun {
  keys: Uint8Array[] = []
  values: Uint8Array[] = []

  /** Drops the rows in [gte, lt); returns how many. */
  drop (gte: Uint8Array, lt: Uint8Array): number {
    const keys: Uint8Array[] = []
    const values: Uint8Array[] = []
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]
      if (b4a.compare(k, gte) >= 0 && b4a.compare(k, lt) < 0) continue
      keys.push(k)
      values.push(this.values[i])
    }
    const dropped = this.keys.length - keys.length
    this.keys = keys
    this.values = values
    return dropped
  }
}

/** Read and absent (shared: a write replaces it, never changes it). */
const ABSENT = new Row(null, null, false)
/** A prefetch in flight has claimed the slot, so a key given twice is read once (shared likewise). */
const READING = new Row(null, null, false)

/**
 * A read-your-writes batch: reads see this batch's pending writes, and all writes land in one
 * atomic RocksDB write on commit (so a view and its checkpoint never disagree after a crash).
 *
 * What a batch holds lives until its commit, so it is what the young-generation collector copies
 * on every pass while a chunk is indexed: the batch keeps one map entry per row it reads or may
 * read back, and index rows that nothing reads back (putIndex) in plain arrays, a pair per index,
 * without a slot each.
 */
export class ViewTxn {
  /** What this batch knows of each row, by slot. */
  private readonly rows = new Map<string, Row>()
  /** Entries of `rows` that are writes. */
  private writes = 0
  /**
   * Rows put with putIndex, by tag (their first byte), each tag's in put order. They are committed
   * tag by tag: a chunk's rows of one index (a thread's, my mentions') mostly ascend, and RocksDB's
   * memtable inserts a row next to the one before it cheaply, where rows that jump between indexes
   * row by row make each insert search again. Replies' author, thread and mention rows took
   * 1.15–1.28x the RocksDB write time interleaved (bench/commit-order.ts).
   */
  private index: Array<IndexRun | undefined> = []
  private indexCount = 0
  /** Key ranges deleted by this batch, [gte, lt); writes made after a range delete win. */
  private readonly ranges: Array<[Uint8Array, Uint8Array]> = []

  /**
   * The last few key buffers given and their slots: a handler reads its rows and then writes them
   * with the same key buffers, and a chunk's records share some (a post's summary row). A key
   * buffer is never changed once made.
   */
  private readonly recentKeys: Array<Uint8Array | null> = [null, null, null, null]
  private readonly recentSlots = ['', '', '', '']
  private recentNext = 0

  constructor (private readonly views: ViewDb, private readonly rocks: RocksDB) {}

  private slot (key: Uint8Array): string {
    const keys = this.recentKeys
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.recentSlots[i]
    const h = slot(key)
    const i = this.recentNext
    keys[i] = key
    this.recentSlots[i] = h
    this.recentNext = (i + 1) & 3
    return h
  }

  /** Loads many keys at once so later get() calls resolve without a native round trip each. */
  async prefetch (keys: Uint8Array[]): Promise<void> {
    const want: Uint8Array[] = []
    const slots: string[] = []
    for (const k of keys) {
      const h = this.slot(k)
      if (this.rows.has(h)) continue
      this.rows.set(h, READING)
      want.push(k)
      slots.push(h)
    }
    if (want.length === 0) return
    let values: Array<Uint8Array | null>
    try {
      values = await this.views.getMany(want)
    } catch (err) {
      for (const h of slots) if (this.rows.get(h) === READING) this.rows.delete(h)
      throw err
    }
    for (let i = 0; i < slots.length; i++) {
      if (this.rows.get(slots[i]) !== READING) continue // written (or read) meanwhile: that stands
      const v = values[i]
      this.rows.set(slots[i], v === null ? ABSENT : new Row(null, v, false))
    }
  }

  /** Records that the committed row `key` is absent, known without a read (by an invariant of the caller's rows). */
  assumeAbsent (key: Uint8Array): void {
    const h = this.slot(key)
    if (!this.rows.has(h)) this.rows.set(h, ABSENT)
  }

  /** Whether the views' kind set holds the post whose summary row is `summaryKey` and not `emoji` (ReactionKinds.absent). */
  kindAbsent (summaryKey: Uint8Array, emoji: string): boolean {
    return this.views.reactionKinds.absent(this.slot(summaryKey), emoji)
  }

  /** The summary row `summaryKey` overflowed listing `kinds` (ReactionKinds.admit). */
  kindsOverflowed (summaryKey: Uint8Array, kinds: string[]): void {
    this.views.reactionKinds.admit(this.slot(summaryKey), kinds)
  }

  /** This batch writes a count row for `emoji` on the post whose summary row is `summaryKey` (ReactionKinds.added). */
  kindAdded (summaryKey: Uint8Array, emoji: string): void {
    this.views.reactionKinds.added(this.slot(summaryKey), emoji)
  }

  /** A row's value when this batch knows it (written, or read before): no native call; else undefined. */
  peek (key: Uint8Array): Uint8Array | null | undefined {
    const r = this.rows.get(this.slot(key))
    if (r !== undefined && r.written) return r.value
    if (this.ranges.length > 0 && this.inDeletedRange(key)) return null
    return r === undefined || r === READING ? undefined : r.value
  }

  async get (key: Uint8Array): Promise<Uint8Array | null> {
    const known = this.peek(key)
    if (known !== undefined) return known
    const v = await this.views.get(key)
    const h = this.slot(key)
    if (this.rows.get(h) === undefined) this.rows.set(h, v === null ? ABSENT : new Row(null, v, false))
    return v
  }

  put (key: Uint8Array, value: Uint8Array): void {
    this.write(key, value)
  }

  /**
   * Puts an index row that this batch never reads back (get() and deletes() do not see it), and
   * that it writes no other way before this put: a post's home, author, thread and mention rows.
   * A later del() of the same key still wins.
   */
  putIndex (key: Uint8Array, value: Uint8Array): void {
    const run = this.index[key[0]] ?? (this.index[key[0]] = new IndexRun())
    run.keys.push(key)
    run.values.push(value)
    this.indexCount++
  }

  del (key: Uint8Array): void {
    this.write(key, null)
  }

  private write (key: Uint8Array, value: Uint8Array | null): void {
    const h = this.slot(key)
    const r = this.rows.get(h)
    if (r !== undefined && r.written) {
      r.value = value
      return
    }
    this.writes++
    if (r === undefined || r === ABSENT || r === READING) {
      this.rows.set(h, new Row(key, value, true, r === ABSENT))
    } else {
      r.key = key
      r.value = value
      r.written = true
    }
  }

  /** Deletes every key that starts with `prefix`, including this batch's earlier writes. */
  delPrefix (prefix: Uint8Array): void {
    const end = prefixEnd(prefix)
    const lo = slot(prefix)
    const hi = slot(end)
    // A slot orders as its key does (one char per byte). What was read in the range is gone too.
    for (const [h, r] of this.rows) {
      if (h < lo || h >= hi || r === READING) continue
      if (r.written) this.writes--
      this.rows.delete(h)
    }
    for (const run of this.index) if (run !== undefined) this.indexCount -= run.drop(prefix, end)
    this.ranges.push([prefix, end])
  }

  /** Committed entries under `prefix` (this batch's own pending writes are not seen). */
  scanCommitted (prefix: Uint8Array): AsyncGenerator<{ key: Uint8Array, value: Uint8Array }> {
    return this.views.scanPrefix(prefix)
  }

  /** Whether this batch deletes `key` (by del() or a deleted range, and writes it no more). */
  deletes (key: Uint8Array): boolean {
    const r = this.rows.get(this.slot(key))
    if (r !== undefined && r.written) return r.value === null
    return this.inDeletedRange(key)
  }

  private inDeletedRange (key: Uint8Array): boolean {
    for (const [gte, lt] of this.ranges) if (b4a.compare(key, gte) >= 0 && b4a.compare(key, lt) < 0) return true
    return false
  }

  get size (): number {
    return this.writes + this.indexCount + this.ranges.length
  }

  async commit (): Promise<void> {
    if (this.size === 0) return
    const w = this.rocks.write({ capacity: this.size, autoDestroy: true })
    // Ranges first: every pending write inside a range was made after it (delPrefix drops earlier
    // ones); then index rows, so a del() of one of them (a post deleted in its own chunk) wins.
    for (const [gte, lt] of this.ranges) w.tryDeleteRange(gte, lt)
    for (const run of this.index) {
      if (run === undefined) continue
      for (let i = 0; i < run.keys.length; i++) w.tryPut(run.keys[i], run.values[i])
    }
    for (const r of this.rows.values()) {
      if (!r.written) continue
      if (r.value !== null) w.tryPut(r.key as Uint8Array, r.value)
      else if (!r.fresh) w.tryDelete(r.key as Uint8Array) // a fresh row deleted again was never there
    }
    await this.views.flushWrite(w)
    this.rows.clear()
    this.writes = 0
    this.index = []
    this.indexCount = 0
    this.ranges.length = 0
  }
}
