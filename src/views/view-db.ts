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

  get size (): number {
    return this.writes.size
  }

  async commit (): Promise<void> {
    if (this.writes.size === 0) return
    const w = this.rocks.write({ capacity: this.writes.size, autoDestroy: true })
    for (const [h, value] of this.writes) {
      const key = this.writeKeys.get(h) as Uint8Array
      if (value === null) w.tryDelete(key)
      else w.tryPut(key, value)
    }
    await w.flush()
    this.writes.clear()
    this.writeKeys.clear()
    this.cache.clear()
  }
}
