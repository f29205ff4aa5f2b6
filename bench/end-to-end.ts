/** End to end: a fresh Shoal tracks every source feed while replicating in-process, until all are indexed. */
import { Shoal } from '../src/node/shoal.js'
import { connect } from './replicate.js'
import type { SourceSet } from './source-feeds.js'

export interface EndToEndRun { ms: number, messages: number, perSec: number, blocksPerSec: number }

export async function endToEnd (dir: string, source: SourceSet): Promise<EndToEndRun> {
  const { shoal } = await Shoal.init(dir, { name: 'e2e' })
  const disconnect = connect(source.store, shoal.store)
  try {
    const before = shoal.totals().messages
    const start = performance.now()
    for (const f of source.feeds) await shoal.addFeed(f.key)
    await Promise.all(source.feeds.map((f) => shoal.waitForIndexed(f.key, source.length)))
    const ms = performance.now() - start
    const messages = shoal.totals().messages - before
    if (messages !== source.messages) throw new Error(`end-to-end: ${messages} messages indexed, expected ${source.messages}`)
    const blocks = source.feeds.length * source.length
    return { ms, messages, perSec: messages / (ms / 1000), blocksPerSec: blocks / (ms / 1000) }
  } finally {
    disconnect()
    await shoal.close()
  }
}
