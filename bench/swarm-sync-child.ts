/**
 * Child process of the swarm sync phase: the syncing side, alone in its process so that its peak
 * RSS is its own. Mode `shoal` is node B: a fresh Shoal that follows every source identity, joins
 * the local swarm and syncs until its timeline is complete. Mode `raw` is the baseline: a plain
 * Corestore on Hyperswarm that joins one shared topic and downloads every core in full, either all
 * cores at once (as Shoal does) or a few at a time.
 *
 * The DHT node (loopback-dht.ts) is bootstrapped before the clock starts, in both modes.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Shoal } from '../src/node/shoal.js'
import type { FeedKey, IdentityKey } from '../src/ids.js'
import { childMain } from './child.js'
import { loopbackNode, type Bootstrap } from './loopback-dht.js'
import { RssSampler, peakRss, type MemoryPeaks } from './rss-sampler.js'

export interface SwarmChildInput {
  mode: 'shoal' | 'raw'
  dir: string
  bootstrap: Bootstrap
  /** Hex keys of the source feeds (raw) and of their identities (shoal). */
  feeds: string[]
  identities: string[]
  /** Blocks per feed, header included. */
  length: number
  messages: number
  /** Raw mode: the shared topic (hex) the serving store announces. */
  topic?: string
  /** Raw mode: cores downloading at once; 0 means all of them. */
  concurrency?: number
  timeoutMs: number
}

/** Milliseconds since the clock started at which each stage was first seen (null: never). */
export interface SwarmMarks {
  joined: number | null
  firstConnection: number | null
  /** Shoal: every source feed tracked (feed lists exchanged). Raw: every core opened. */
  allFeedsKnown: number | null
  /** Every block of every source feed stored locally. */
  downloaded: number | null
  /** Shoal: every source message indexed. */
  indexed: number | null
  /** Shoal: `sync()` resolved. */
  syncResolved: number | null
  /** Shoal: source messages already indexed when the last block arrived. */
  indexedAtDownloaded: number | null
}

export interface SwarmChildOutput {
  mode: 'shoal' | 'raw'
  /** Raw mode: cores downloading at once (0: all). */
  concurrency: number
  /** From join to complete (Shoal: sync resolved and every message indexed). */
  ms: number
  /** CPU time of the whole process (every thread, user + system) over the same span: less load-dependent than `ms`. */
  cpuMs: number
  /** Garbage collections in the same span (V8's gc performance entries): how many, and their total ms. */
  gc: GcCounts
  /** Set by the parent: its own CPU time while the child ran (the serving side and the testnet). */
  servingCpuMs?: number
  marks: SwarmMarks
  blocks: number
  messages: number
  timelineItems: number
  /** Shoal: the first timeline page, timed after completion. */
  timelineMs: number
  bootstrapMs: number
  rssBeforeJoin: number
  sampled: MemoryPeaks
  /** When the sampled RSS peaked, in ms since the clock started (negative: before joining). */
  rssPeakMs: number
  /** The kernel's high-water mark of the child's own RSS (peakRss: VmHWM, not ru_maxrss, which counts the parent's). */
  maxRss: number
  samples: number
  peers: number
  /** Native RocksDB calls while syncing: the Corestore's and (Shoal) the views database's. */
  io: { cores: IoCounts, views: IoCounts | null }
}

/** rocksdb-native's counters of one database. */
export type IoCounts = ReturnType<Shoal['views']['io']>

/** The counters of a Corestore's RocksDB (hypercore-storage keeps it as `storage.rocks`). */
function coreIo (store: Corestore): IoCounts {
  return { ...(store as unknown as { storage: { rocks: { stats: IoCounts } } }).storage.rocks.stats }
}

/** What happened between two readings of the counters. */
function ioSince (before: IoCounts, after: IoCounts): IoCounts {
  const out = { ...after }
  for (const k of Object.keys(out) as Array<keyof IoCounts>) out[k] -= before[k]
  return out
}

export interface GcCounts { count: number, ms: number }

/** Counts V8's collections from now until stop() (scavenges dominate with a 2 MiB semi-space). */
function gcCounter (): { stop: () => GcCounts } {
  const counts: GcCounts = { count: 0, ms: 0 }
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { counts.count++; counts.ms += e.duration }
  })
  obs.observe({ entryTypes: ['gc'] })
  return { stop: () => { obs.disconnect(); return { ...counts } } }
}

function cpuSince (before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before)
  return (d.user + d.system) / 1000
}

type Stage = Exclude<keyof SwarmMarks, 'indexedAtDownloaded'>

function emptyMarks (): SwarmMarks {
  return { joined: null, firstConnection: null, allFeedsKnown: null, downloaded: null, indexed: null, syncResolved: null, indexedAtDownloaded: null }
}

async function bootstrapNode (bootstrap: SwarmChildInput['bootstrap']): Promise<{ dht: HyperDHT, ms: number }> {
  const start = performance.now()
  const dht = loopbackNode(bootstrap)
  await dht.fullyBootstrapped()
  return { dht, ms: performance.now() - start }
}

/** Polls `probe` every `everyMs` and records the first time each stage is reached. */
function watch (marks: SwarmMarks, start: number, probe: () => Partial<Record<Stage, boolean>>, everyMs = 5): () => void {
  const check = (): void => {
    const now = performance.now() - start
    for (const [k, reached] of Object.entries(probe()) as Array<[Stage, boolean]>) {
      if (reached && marks[k] === null) marks[k] = now
    }
  }
  const timer = setInterval(check, everyMs)
  return () => { check(); clearInterval(timer) }
}

async function shoalSide (input: SwarmChildInput, rss: RssSampler): Promise<SwarmChildOutput> {
  const { shoal: b } = await Shoal.init(input.dir, { name: 'swarm-b' })
  try {
    for (const hex of input.identities) await b.follow(b4a.from(hex, 'hex') as IdentityKey)
    const { dht, ms: bootstrapMs } = await bootstrapNode(input.bootstrap)
    const before = b.totals().messages
    const total = input.feeds.length * input.length
    const wanted = new Set(input.feeds)
    const marks = emptyMarks()
    const rssBeforeJoin = rss.sample()
    const ioBefore = { cores: coreIo(b.store), views: b.views.io() }
    const cpuBefore = process.cpuUsage()
    const gc = gcCounter()
    const start = performance.now()
    // The probe runs every 5 ms in B's own thread: each core's key is looked up once, not hex-encoded each time.
    const isWanted = new Map<Hypercore, boolean>()
    const wantedCore = (c: Hypercore): boolean => {
      let w = isWanted.get(c)
      if (w === undefined) { w = c.key !== null && wanted.has(b4a.toString(c.key, 'hex')); isWanted.set(c, w) }
      return w
    }
    const stop = watch(marks, start, () => {
      const cores = b.trackedCores().filter(wantedCore)
      let local = 0
      for (const c of cores) local += c.contiguousLength
      const indexed = b.totals().messages - before
      if (local === total && marks.indexedAtDownloaded === null) marks.indexedAtDownloaded = indexed
      return {
        firstConnection: (b.replicator?.peers.length ?? 0) > 0,
        allFeedsKnown: cores.length === wanted.size,
        downloaded: local === total,
        indexed: indexed >= input.messages
      }
    })
    let ms: number
    try {
      const replicator = await b.joinNetwork({ dht })
      marks.joined = performance.now() - start
      replicator.once('peer', () => { if (marks.firstConnection === null) marks.firstConnection = performance.now() - start })
      await b.sync({ timeout: input.timeoutMs })
      marks.syncResolved = performance.now() - start
      // sync() resolves once every tracked feed is indexed to its remote length; if that ever
      // leaves messages unindexed, the timeline is not complete yet: wait for it, and say so.
      while (b.totals().messages - before < input.messages) {
        if (performance.now() - start > input.timeoutMs) throw new Error(`swarm sync: ${b.totals().messages - before} of ${input.messages} messages indexed after sync`)
        await new Promise<void>((resolve) => {
          const done = (): void => { clearTimeout(timer); b.off('indexed', done); resolve() }
          const timer = setTimeout(done, 100)
          b.on('indexed', done)
        })
      }
      ms = performance.now() - start
    } finally {
      stop()
    }
    const cpuMs = cpuSince(cpuBefore)
    const gcs = gc.stop()
    const messages = b.totals().messages - before
    const io = { cores: ioSince(ioBefore.cores, coreIo(b.store)), views: ioSince(ioBefore.views, b.views.io()) }
    const t = performance.now()
    const page = await b.timeline({ limit: 50 })
    const timelineMs = performance.now() - t
    if (page.items.length !== 50) throw new Error(`swarm sync: timeline returned ${page.items.length} items`)
    let blocks = 0
    for (const c of b.trackedCores()) blocks += c.contiguousLength
    const peers = b.replicator?.peers.length ?? 0
    rss.stop()
    return { mode: 'shoal', concurrency: 0, ms, cpuMs, gc: gcs, marks, blocks, messages, timelineItems: page.items.length, timelineMs, bootstrapMs, rssBeforeJoin, sampled: rss.peak, rssPeakMs: rss.rssPeakAt - start, maxRss: 0, samples: rss.samples, peers, io }
  } finally {
    await b.close()
  }
}

async function rawSide (input: SwarmChildInput, rss: RssSampler): Promise<SwarmChildOutput> {
  if (input.topic === undefined) throw new Error('raw swarm sync needs a topic')
  const concurrency = input.concurrency ?? 0
  const store = new Corestore(input.dir)
  await store.ready()
  const { dht, ms: bootstrapMs } = await bootstrapNode(input.bootstrap)
  const swarm = new Hyperswarm({ dht })
  try {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {}) // a connection torn down at the end errors; that is the expected end
      store.replicate(conn)
    })
    const total = input.feeds.length * input.length
    const marks = emptyMarks()
    const rssBeforeJoin = rss.sample()
    const ioBefore = coreIo(store)
    const cpuBefore = process.cpuUsage()
    const gc = gcCounter()
    const start = performance.now()
    const cores = input.feeds.map((hex) => store.get({ key: b4a.from(hex, 'hex') as FeedKey }))
    const stop = watch(marks, start, () => {
      let local = 0
      for (const c of cores) local += c.contiguousLength
      return { firstConnection: swarm.connections.size > 0, downloaded: local === total }
    })
    let ms: number
    try {
      swarm.join(b4a.from(input.topic, 'hex'), { client: true, server: false })
      marks.joined = performance.now() - start
      await Promise.all(cores.map((c) => c.ready()))
      marks.allFeedsKnown = performance.now() - start
      const queue = [...cores]
      const worker = async (): Promise<void> => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) await c.download({ start: 0, end: input.length }).done()
      }
      await Promise.all(Array.from({ length: concurrency === 0 ? cores.length : concurrency }, worker))
      ms = performance.now() - start
    } finally {
      stop()
    }
    const cpuMs = cpuSince(cpuBefore)
    const gcs = gc.stop()
    let blocks = 0
    for (const c of cores) blocks += c.contiguousLength
    if (blocks !== total) throw new Error(`raw swarm sync: ${blocks} of ${total} blocks`)
    const peers = swarm.connections.size
    rss.stop()
    for (const c of cores) await c.close()
    const io = { cores: ioSince(ioBefore, coreIo(store)), views: null }
    return { mode: 'raw', concurrency, ms, cpuMs, gc: gcs, marks, blocks, messages: 0, timelineItems: 0, timelineMs: 0, bootstrapMs, rssBeforeJoin, sampled: rss.peak, rssPeakMs: rss.rssPeakAt - start, maxRss: 0, samples: rss.samples, peers, io }
  } finally {
    await swarm.destroy()
    await store.close()
  }
}

childMain<SwarmChildInput, SwarmChildOutput>(async (input) => {
  const rss = new RssSampler()
  rss.start(5)
  const out = input.mode === 'shoal' ? await shoalSide(input, rss) : await rawSide(input, rss)
  return { ...out, maxRss: peakRss() }
})
