/**
 * Index: a Shoal whose Corestore already holds every source feed in full (replicated in, untimed)
 * and which follows every source identity. Indexing itself is timed in a child process
 * (index-child.ts) so that its peak RSS is measured alone.
 */
import b4a from 'b4a'
import fs from 'node:fs/promises'
import { NODE_FLAGS } from '../src/cli/node-flags.js'
import { NodeState } from '../src/node/node-state.js'
import { Shoal } from '../src/node/shoal.js'
import { storagePaths } from '../src/node/storage.js'
import { runChild } from './child.js'
import type { IndexInput, IndexOutput } from './index-child.js'
import { connect } from './replicate.js'
import type { SourceSet } from './source-feeds.js'

/** Source cores copied into the reader at once while preparing it. */
const PREPARE_CONCURRENCY = 8

/** Creates the Shoal at `dir`, follows every source identity and copies the feeds in, unindexed. */
export async function prepareIndexedShoal (dir: string, source: SourceSet): Promise<void> {
  const { shoal } = await Shoal.init(dir, { name: 'reader' })
  try {
    for (const f of source.feeds) await shoal.follow(f.identity)
    const disconnect = connect(source.store, shoal.store)
    try {
      // A few cores at a time: 3,000 one after another took most of a scale run.
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < source.feeds.length) {
          const f = source.feeds[next++]
          const core = shoal.store.get({ key: f.key })
          await core.ready()
          await core.download({ start: 0, end: source.length }).done()
          await core.close()
        }
      }
      await Promise.all(Array.from({ length: PREPARE_CONCURRENCY }, worker))
    } finally {
      disconnect()
    }
  } finally {
    await shoal.close()
  }
}

export interface IndexRun extends IndexOutput { perSec: number }

/** Indexes every source feed in a child process; `rebuild`: see IndexInput. */
export async function indexInChild (dir: string, source: SourceSet, rebuild = false): Promise<IndexRun> {
  const input: IndexInput = { dir, feeds: source.feeds.map((f) => b4a.toString(f.key, 'hex')), length: source.length, rebuild }
  const { result } = await runChild<IndexOutput>('index-child', input, NODE_FLAGS) // launched as bin/shoal.js launches the node
  if (result.messages !== source.messages) throw new Error(`index: ${result.messages} messages indexed, expected ${source.messages}`)
  return { ...result, perSec: result.messages / (result.ms / 1000) }
}

/**
 * Makes a closed, indexed reader ready to be indexed again by one of the two paths
 * (IndexInput.rebuild): removes its views and, unless `tracked`, untracks every feed, as in a
 * freshly prepared reader (each feed is then added with addFeed; a tracked feed is indexed at
 * open, a few open at a time). Either index leaves every feed tracked and indexed again. (A copy
 * would not do: Shoal refuses to open a copied storage, see storage-checks.ts.)
 */
export async function resetReader (dir: string, tracked: boolean): Promise<void> {
  await fs.rm(storagePaths(dir).views, { recursive: true, force: true })
  if (tracked) return
  const state = new NodeState(storagePaths(dir).state, { create: false })
  await state.ready()
  try {
    for (const feed of await state.trackedFeeds()) await state.untrack(feed)
    await state.setOpenRecord(null)
  } finally {
    await state.close()
  }
}
