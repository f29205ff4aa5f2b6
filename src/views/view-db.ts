/**
 * The views database: a RocksDB folder that holds only derived, local data. It is never
 * replicated, so private plaintext may live here (and nowhere the swarm can serve from).
 */
import b4a from 'b4a'
import { toHex } from '../ids.js'
import ReadyResource from 'ready-resource'
import RocksDB from 'rocksdb-native'
import { ShoalError } from '../errors.js'
import { FIRST_DERIVED_TAG, LAST_DERIVED_TAG, prefixEnd } from './keys.js'

/** rocksdb-native constants.bottommostLevelCompaction.FORCE: rewrite the last level as well. */
const FORCE_BOTTOMMOST = 2

export interface ScanRange {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse?: boolean
  limit?: number
}

export class ViewDb extends ReadyResource {
  readonly path: string
  private db: RocksDB | null = null

  constructor (path: string) {
    super()
    this.path = path
  }

  protected override async _open (): Promise<void> {
    this.db = new RocksDB(this.path)
    await this.db.ready()
  }

  protected override async _close (): Promise<void> {
    if (this.db) await this.db.close()
  }

  private get rocks (): RocksDB {
    if (this.db === null) throw ShoalError.CLOSED('views database is not open')
    return this.db
  }

  get (key: Uint8Array): Promise<Uint8Array | null> {
    return this.rocks.get(key)
  }

  /** Reads many keys in one native call. */
  async getMany (keys: Uint8Array[]): Promise<Array<Uint8Array | null>> {
    if (keys.length === 0) return []
    const batch = this.rocks.read({ capacity: keys.length, autoDestroy: true })
    const all = keys.map((k) => batch.get(k))
    batch.tryFlush()
    return Promise.all(all)
  }

  async * scan (range: ScanRange): AsyncGenerator<{ key: Uint8Array, value: Uint8Array }> {
    const capacity = range.limit !== undefined ? Math.min(Math.max(range.limit, 8), 256) : 128
    yield * this.rocks.iterator({ ...range, capacity })
  }

  /** Every entry whose key starts with `prefix`, in key order (or reverse). */
  scanPrefix (prefix: Uint8Array, opts: { reverse?: boolean, limit?: number } = {}): AsyncGenerator<{ key: Uint8Array, value: Uint8Array }> {
    return this.scan({ gte: prefix, lt: prefixEnd(prefix), ...opts })
  }

  txn (): ViewTxn {
    return new ViewTxn(this, this.rocks)
  }

  /**
   * Rewrites the derived key range on disk so deleted rows are gone from the files too, not only
   * hidden behind tombstones (after a block, or a reindex).
   */
  async compactDerived (): Promise<void> {
    await this.rocks.flush()
    await this.rocks.compactRange(b4a.from([FIRST_DERIVED_TAG]), b4a.from([LAST_DERIVED_TAG + 1]), { bottommostLevelCompaction: FORCE_BOTTOMMOST })
  }

  /** Removes every derived view (node state below FIRST_DERIVED_TAG is kept). */
  async wipeDerived (): Promise<void> {
    const w = this.rocks.write({ autoDestroy: true })
    w.tryDeleteRange(b4a.from([FIRST_DERIVED_TAG]), b4a.from([LAST_DERIVED_TAG + 1]))
    await w.flush()
  }
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
    const missing = keys.filter((k) => !this.cache.has(toHex(k)) && !this.writes.has(toHex(k)))
    const values = await this.views.getMany(missing)
    for (let i = 0; i < missing.length; i++) this.cache.set(toHex(missing[i]), values[i])
  }

  async get (key: Uint8Array): Promise<Uint8Array | null> {
    const h = toHex(key)
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
    const h = toHex(key)
    this.writes.set(h, value)
    this.writeKeys.set(h, key)
  }

  del (key: Uint8Array): void {
    const h = toHex(key)
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
    await w.flush()
    this.writes.clear()
    this.writeKeys.clear()
    this.cache.clear()
    this.ranges.length = 0
  }
}
