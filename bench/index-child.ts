/**
 * Child process of the index phase: opens a Shoal whose Corestore already holds every feed in
 * full, tracks them all and times indexing until each is indexed to its end. It owns its process,
 * so its peak RSS is the indexing footprint alone.
 */
import b4a from 'b4a'
import { Shoal } from '../src/node/shoal.js'
import type { FeedKey } from '../src/ids.js'
import { decodeRecord } from '../src/feeds/schema.js'
import { childMain } from './child.js'
import { RssSampler, peakRss, type MemoryPeaks } from './rss-sampler.js'
import { MemoryProbe, type MemoryBreakdown } from './memory-probe.js'

/**
 * `rebuild`: the storage was indexed before and its views/ removed (scale mode reuses one cached
 * storage; a copied storage refuses to open). Then indexing starts inside `ready()`, so the time
 * runs from the open and the count is everything but my own records (DM records of mine are no
 * messages: a `keys` record appended at an open made the count one short). `probe`: also read
 * /proc/self/smaps every 250 ms and report where RSS sat at its peak (Linux; bench/memory-probe.ts).
 */
export interface IndexInput { dir: string, feeds: string[], length: number, rebuild?: boolean, probe?: boolean }

export interface IndexOutput {
  ms: number
  messages: number
  rssBeforeIndex: number
  /** Peaks of each process.memoryUsage() figure, sampled every 5 ms. */
  sampled: MemoryPeaks
  /** The kernel's high-water mark of the child's own RSS (peakRss: VmHWM, not ru_maxrss, which counts the parent's). */
  maxRss: number
  samples: number
  /** RSS every 5 s from the open (bytes): whether the peak is a plateau or still growing. */
  rssEvery5s: number[]
  /** With `probe`: the memory breakdown at the highest RSS the probe saw. */
  breakdown?: MemoryBreakdown | null
  /** With `probe`: the breakdown every 5 s. */
  breakdownEvery5s?: MemoryBreakdown[]
}

/** Records of my own feed that count as view messages (not the header, DM keys or boxes). */
async function ownMessages (shoal: Shoal): Promise<number> {
  const core = shoal.core(shoal.feedKey)
  if (core === null) return 0
  let n = 0
  for (let i = 1; i < core.length; i++) {
    const block = await core.get(i, { wait: false })
    if (block === null) continue
    const type = decodeRecord(block).type
    if (type !== 'box' && type !== 'keys' && type !== 'unknown' && type !== 'header') n++
  }
  return n
}

childMain<IndexInput, IndexOutput>(async ({ dir, feeds, length, rebuild, probe }) => {
  const rss = new RssSampler()
  rss.start(5)
  const prober = probe === true ? new MemoryProbe() : null
  prober?.start()
  const rssEvery5s: number[] = []
  const coarse = setInterval(() => rssEvery5s.push(process.memoryUsage().rss), 5000)
  const opened = performance.now()
  const shoal = new Shoal(dir)
  await shoal.ready()
  const rssBeforeIndex = rss.sample()
  const keys = feeds.map((hex) => b4a.from(hex, 'hex') as FeedKey)
  const before = rebuild === true ? await ownMessages(shoal) : shoal.totals().messages
  const start = rebuild === true ? opened : performance.now()
  // A rebuild's feeds are tracked already: they are indexed from the open, a bounded number open at a time.
  if (rebuild === true) await shoal.indexed()
  else for (const k of keys) await shoal.addFeed(k)
  await Promise.all(keys.map((k) => shoal.waitForIndexed(k, length)))
  const ms = performance.now() - start
  const messages = shoal.totals().messages - before
  rss.stop()
  const breakdown = prober?.stop() ?? null
  clearInterval(coarse)
  await shoal.close()
  return { ms, messages, rssBeforeIndex, sampled: rss.peak, maxRss: peakRss(), samples: rss.samples, rssEvery5s, breakdown, breakdownEvery5s: prober?.series ?? [] }
})
