/**
 * Raw baseline for a timeline page: a plain RocksDB holding a 100k-entry time index and the
 * records it points at; one page is a reverse index scan of 51 keys plus one batched read of 50
 * values — the fewest native calls such a page can take.
 */
import b4a from 'b4a'
import RocksDB from 'rocksdb-native'

const INDEX = 0x01
const VALUE = 0x02

export class RawPageRead {
  private readonly db: RocksDB

  constructor (dir: string) {
    this.db = new RocksDB(dir)
  }

  async open (entries: number, valueBytes: number): Promise<void> {
    await this.db.ready()
    const value = b4a.alloc(valueBytes, 0x61)
    for (let at = 0; at < entries; at += 10_000) {
      const w = this.db.write({ capacity: 20_000, autoDestroy: true })
      for (let i = at; i < Math.min(entries, at + 10_000); i++) {
        const id = idOf(i)
        w.tryPut(b4a.concat([b4a.from([INDEX]), id]), id)
        w.tryPut(b4a.concat([b4a.from([VALUE]), id]), value)
      }
      await w.flush()
    }
  }

  /**
   * Flushes and compacts what open() wrote, so the control is timed at rest: right after its
   * 200,000 writes (2,000,000 at scale) its own flushes and compactions ran on the same cores.
   */
  async settle (): Promise<void> {
    await this.db.flush()
    await this.db.compactRange(b4a.from([INDEX]), b4a.from([VALUE + 1]))
  }

  /** RocksDB's background work now (running compactions and flushes). */
  async background (): Promise<{ compactions: number, flushes: number }> {
    const [compactions, flushes] = await Promise.all(['num-running-compactions', 'num-running-flushes'].map((p) => this.db.getProperty(`rocksdb.${p}`)))
    return { compactions: Number(compactions), flushes: Number(flushes) }
  }

  /** Reads one page of `limit` values, newest first. */
  async page (limit: number): Promise<number> {
    const ids: Uint8Array[] = []
    for await (const { value } of this.db.iterator({ gte: b4a.from([INDEX]), lt: b4a.from([INDEX + 1]), reverse: true, limit: limit + 1, capacity: limit + 1 })) ids.push(value)
    const batch = this.db.read({ capacity: limit, autoDestroy: true })
    const reads = ids.slice(0, limit).map((id) => batch.get(b4a.concat([b4a.from([VALUE]), id])))
    batch.tryFlush()
    return (await Promise.all(reads)).length
  }

  close (): Promise<void> {
    return this.db.close()
  }
}

/** 8-byte big-endian sequence then 32 bytes of padding: the shape of a timeline key. */
function idOf (i: number): Uint8Array {
  const out = b4a.alloc(40)
  new DataView(out.buffer, out.byteOffset).setBigUint64(0, BigInt(i))
  return out
}
