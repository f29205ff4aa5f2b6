/**
 * Reads a chunk of a feed's stored blocks for the indexer in one native call. `core.get()` makes
 * a RocksDB read batch per block, which was most of the indexer's CPU during a first sync (see
 * docs/BENCHMARKS.md, "Indexing I/O per message"); hypercore 11's session state hands out its
 * storage reader, which reads any number of blocks in one batch. Where that is not there (another
 * hypercore, an encrypted core), blocks are read one `get` each as before.
 */
import type Hypercore from 'hypercore'

interface BlockBatch { getBlock (index: number): Promise<Uint8Array | null>, tryFlush (): void }
interface SessionStorage { read (): BlockBatch }

function batchReader (core: Hypercore): SessionStorage | null {
  const c = core as unknown as { encryption?: unknown, state?: { storage?: Partial<SessionStorage> } }
  const storage = c.state?.storage
  if (c.encryption != null || storage === undefined || typeof storage.read !== 'function') return null
  return storage as SessionStorage
}

/** Blocks `start` to `end - 1` as stored (null where a block is not held), without waiting for peers. */
export async function readBlocks (core: Hypercore, start: number, end: number): Promise<Array<Uint8Array | null>> {
  const reads: Array<Promise<Uint8Array | null>> = []
  const storage = batchReader(core)
  if (storage === null) {
    for (let i = start; i < end; i++) reads.push(core.get(i, { wait: false }))
    return Promise.all(reads)
  }
  const rx = storage.read()
  for (let i = start; i < end; i++) reads.push(rx.getBlock(i))
  rx.tryFlush()
  return Promise.all(reads)
}
