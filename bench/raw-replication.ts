/**
 * Baseline: a fresh Corestore downloads every source core in full over in-process replication,
 * either all cores at once (as Shoal does) or one core after another.
 */
import Corestore from 'corestore'
import { connect } from './replicate.js'
import type { SourceFeed, SourceSet } from './source-feeds.js'

export type ReplicationMode = 'concurrent' | 'sequential'

export interface RawReplication { mode: ReplicationMode, ms: number, blocks: number, blocksPerSec: number }

export async function rawReplication (dir: string, source: SourceSet, mode: ReplicationMode): Promise<RawReplication> {
  const store = new Corestore(dir)
  await store.ready()
  const disconnect = connect(source.store, store)
  const fetch = async (f: SourceFeed): Promise<void> => {
    const core = store.get({ key: f.key })
    await core.ready()
    await core.download({ start: 0, end: source.length }).done()
    if (core.contiguousLength !== source.length) throw new Error('raw replication: core not complete')
    await core.close()
  }
  try {
    const start = performance.now()
    if (mode === 'concurrent') await Promise.all(source.feeds.map(fetch))
    else for (const f of source.feeds) await fetch(f)
    const ms = performance.now() - start
    const blocks = source.feeds.length * source.length
    return { mode, ms, blocks, blocksPerSec: blocks / (ms / 1000) }
  } finally {
    disconnect()
    await store.close()
  }
}
