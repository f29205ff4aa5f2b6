/**
 * Child process of the index phase: opens a Shoal whose Corestore already holds every feed in
 * full, tracks them all and times indexing until each is indexed to its end. It owns its process,
 * so its peak RSS is the indexing footprint alone.
 */
import b4a from 'b4a'
import { Shoal } from '../src/node/shoal.js'
import { decodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import { childMain } from './child.js'
import { RssSampler, type MemoryPeaks } from './rss-sampler.js'

/**
 * `rebuild`: the storage was indexed before and its views/ removed (scale mode reuses one cached
 * storage; a copied storage refuses to open). Then indexing starts inside `ready()`, so the time
 * runs from the open and the count is everything but my own records.
 */
export interface IndexInput { dir: string, feeds: string[], length: number, rebuild?: boolean }

export interface IndexOutput {
  ms: number
  messages: number
  rssBeforeIndex: number
  /** Peaks of each process.memoryUsage() figure, sampled every 5 ms. */
  sampled: MemoryPeaks
  /** The kernel's high-water mark of the whole child process (getrusage ru_maxrss). */
  maxRss: number
  samples: number
}

childMain<IndexInput, IndexOutput>(async ({ dir, feeds, length, rebuild }) => {
  const rss = new RssSampler()
  rss.start(5)
  const opened = performance.now()
  const shoal = new Shoal(dir)
  await shoal.ready()
  const rssBeforeIndex = rss.sample()
  const keys = feeds.map((hex) => b4a.from(hex, 'hex') as FeedKey)
  const before = rebuild === true ? 0 : shoal.totals().messages
  const start = rebuild === true ? opened : performance.now()
  for (const k of keys) await shoal.addFeed(k)
  await Promise.all(keys.map((k) => shoal.waitForIndexed(k, length)))
  const ms = performance.now() - start
  // A rebuild indexed my own feed too: its messages are not the source's (its DM keys records never count).
  const mine = rebuild === true ? await ownMessages(shoal) : 0
  const messages = shoal.totals().messages - before - mine
  rss.stop()
  await shoal.close()
  return { ms, messages, rssBeforeIndex, sampled: rss.peak, maxRss: process.resourceUsage().maxRSS * 1024, samples: rss.samples }
})

/** Records of my own feed that the views count as messages (not its header, DM boxes or keys). */
async function ownMessages (shoal: Shoal): Promise<number> {
  const core = shoal.core(shoal.feedKey)
  if (core === null) return 0
  let n = 0
  for (let i = 1; i < core.length; i++) {
    const block = await core.get(i)
    const type = block === null ? 'unknown' : decodeRecord(block).type
    if (type !== 'box' && type !== 'keys' && type !== 'unknown' && type !== 'header') n++
  }
  return n
}
