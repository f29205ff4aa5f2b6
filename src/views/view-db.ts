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

/** rocksdb-native constants.bottommostLevelCompaction.FORCE: rewrite the last level as well. */
const FORCE_BOTTOMMOST = 2

/**
 * Memory of the views database, bounded by configuration rather than by data: RocksDB's default
 * memtable (64 MiB, two of them) dominated the peak of a large first index.
 */
const ROCKS_OPTIONS = { writeBufferSize: 8 * 1024 * 1024, maxWriteBufferNumber: 2 }

export interface ScanRange {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse?: boolean
  limit?: number
  /** Entries read per native call (default: limit + 1, at most 256). */
  capacity?: number
}

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

  constructor (path: string, opts: { files?: ViewDbFiles } = {}) {
    super()
    this.path = path
    this.files = opts.files ?? null
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
    const db = new RocksDB(this.path, ROCKS_OPTIONS)
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
    try {
      return await Promise.all(all)
    } catch (err) {
      throw this.check(err)
    }
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
   * The entries in `range`, in one pass: unlike scan(), no promise per row, and it resolves at the
   * range's end, not after the iterator's native close. With covering rows (the post in the
   * value), a page's posts come in this one scan.
   */
  entriesIn (range: ScanRange): Promise<Array<{ key: Uint8Array, value: Uint8Array }>> {
    return new Promise((resolve, reject) => {
      const out: Array<{ key: Uint8Array, value: Uint8Array }> = []
      this.scans++
      const it = this.rocks.iterator({ ...range, capacity: capacityOf(range) })
      it.on('data', (e) => { out.push(e) })
      it.on('end', () => resolve(out))
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
 * Entries read per native call: one more than the limit, because a read that returns fewer
 * entries than the capacity ends the iterator (a scan of `limit` rows is one read call, not two).
 */
function capacityOf (range: ScanRange): number {
  return range.capacity ?? (range.limit !== undefined ? Math.min(Math.max(range.limit + 1, 8), 256) : 128)
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

/**
 * A key's slot in a batch's maps: its bytes as a latin1 string (one char per byte, so distinct keys
 * stay distinct), half the size of hex and cheaper to make; a chunk makes several per message.
 */
function slot (key: Uint8Array): string {
  return b4a.toString(key, 'latin1')
}

/**
 * A read-your-writes batch: reads see this batch's pending writes, and all writes land in one
 * atomic RocksDB write on commit (so a view and its checkpoint never disagree after a crash).
 */
export class ViewTxn {
  private readonly writes = new Map<string, Uint8Array | null>()
  private readonly writeKeys = new Map<string, Uint8Array>()
  private readonly cache = new Map<string, Uint8Array | null>()
  /** Key ranges deleted by this batch, [gte, lt); writes made after a range delete win. */
  private readonly ranges: Array<[Uint8Array, Uint8Array]> = []

  constructor (private readonly views: ViewDb, private readonly rocks: RocksDB) {}

  /** Loads many keys at once so later get() calls resolve without a native round trip each. */
  async prefetch (keys: Uint8Array[]): Promise<void> {
    const missing = new Map<string, Uint8Array>()
    for (const k of keys) {
      const h = slot(k)
      if (!this.cache.has(h) && !this.writes.has(h)) missing.set(h, k)
    }
    const values = await this.views.getMany([...missing.values()])
    let i = 0
    for (const h of missing.keys()) this.cache.set(h, values[i++])
  }

  async get (key: Uint8Array): Promise<Uint8Array | null> {
    const h = slot(key)
    const w = this.writes.get(h)
    if (w !== undefined) return w
    if (this.inDeletedRange(key)) return null
    const cached = this.cache.get(h)
    if (cached !== undefined) return cached
    const v = await this.views.get(key)
    this.cache.set(h, v)
    return v
  }

  put (key: Uint8Array, value: Uint8Array): void {
    const h = slot(key)
    this.writes.set(h, value)
    this.writeKeys.set(h, key)
  }

  del (key: Uint8Array): void {
    const h = slot(key)
    this.writes.set(h, null)
    this.writeKeys.set(h, key)
  }

  /** Deletes every key that starts with `prefix`, including this batch's earlier writes. */
  delPrefix (prefix: Uint8Array): void {
    const end = prefixEnd(prefix)
    for (const [h, k] of this.writeKeys) {
      if (b4a.compare(k, prefix) >= 0 && b4a.compare(k, end) < 0) { this.writes.delete(h); this.writeKeys.delete(h) }
    }
    this.ranges.push([prefix, end])
  }

  /** Committed entries under `prefix` (this batch's own pending writes are not seen). */
  scanCommitted (prefix: Uint8Array): AsyncGenerator<{ key: Uint8Array, value: Uint8Array }> {
    return this.views.scanPrefix(prefix)
  }

  /** Whether this batch deletes `key` (by del() or a deleted range, and writes it no more). */
  deletes (key: Uint8Array): boolean {
    const w = this.writes.get(slot(key))
    if (w !== undefined) return w === null
    return this.inDeletedRange(key)
  }

  private inDeletedRange (key: Uint8Array): boolean {
    for (const [gte, lt] of this.ranges) if (b4a.compare(key, gte) >= 0 && b4a.compare(key, lt) < 0) return true
    return false
  }

  get size (): number {
    return this.writes.size + this.ranges.length
  }

  async commit (): Promise<void> {
    if (this.size === 0) return
    const w = this.rocks.write({ capacity: this.writes.size + this.ranges.length, autoDestroy: true })
    // Ranges first: every pending write inside a range was made after it (delPrefix drops earlier ones).
    for (const [gte, lt] of this.ranges) w.tryDeleteRange(gte, lt)
    for (const [h, value] of this.writes) {
      const key = this.writeKeys.get(h) as Uint8Array
      if (value === null) w.tryDelete(key)
      else w.tryPut(key, value)
    }
    await this.views.flushWrite(w)
    this.writes.clear()
    this.writeKeys.clear()
    this.cache.clear()
    this.ranges.length = 0
  }
}
