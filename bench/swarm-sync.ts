/**
 * Swarm sync: the first sync of every source feed from one serving peer over a local HyperDHT
 * testnet (loopback only). Shoal node A serves the feeds it tracks; a fresh node B, in a child
 * process (swarm-sync-child.ts), follows every source identity, joins and syncs until its timeline
 * is complete. The baseline, in the same run and over the same testnet, is a plain Corestore on
 * Hyperswarm serving the same cores on one shared topic and a plain client, also in a child
 * process, downloading them all: all cores at once (as Shoal does) and a few at a time.
 *
 * Raw runs of both modes come before, between and after the Shoal runs. Each Shoal run is
 * compared with the raw runs on either side of it: like for like (the faster all-at-once run) and
 * strictly (the fastest raw run of either mode).
 */
import b4a from 'b4a'
import Hyperswarm from 'hyperswarm'
import createTestnet from 'hyperdht/testnet.js'
import sodium from 'sodium-universal'
import { Shoal } from '../src/node/shoal.js'
import { runChild } from './child.js'
import { prepareIndexedShoal } from './index-phase.js'
import { LOOPBACK_NODE } from './loopback-dht.js'
import { MiB } from './rss-sampler.js'
import type { SourceSet } from './source-feeds.js'
import type { IoCounts, SwarmChildInput, SwarmChildOutput } from './swarm-sync-child.js'

/** Cores downloading at once in the bounded raw mode (4 to 32 all measured about the same). */
export const RAW_CONCURRENCY = 8

export interface SwarmRawBlock { all: SwarmChildOutput, bounded: SwarmChildOutput }

export interface SwarmSyncRound {
  shoal: SwarmChildOutput
  /** Shoal time / the faster all-at-once raw run of the two around it. */
  likeForLikeRatio: number
  /** Shoal time / the fastest raw run (either mode) of those around it. */
  ratio: number
  /** A: open, join the testnet and flush (every topic announced), before B starts. */
  servingReadyMs: number
}

export interface SwarmSyncRun {
  rounds: SwarmSyncRound[]
  /** Raw runs before, between and after the Shoal runs (one more than the rounds). */
  raw: SwarmRawBlock[]
  /** Mean over the rounds of `ratio` and of `likeForLikeRatio`. */
  ratio: number
  likeForLikeRatio: number
  /** The topics A joined (one per identity it holds or wants). */
  servingTopics: number
}

export interface SwarmSyncOptions {
  /** A Shoal that follows every source identity and tracks and has indexed every source feed. */
  servingDir: string
  source: SourceSet
  makeDir: (label: string) => Promise<string>
  /** Shoal runs. */
  rounds: number
  timeoutMs: number
  log?: (msg: string) => void
  /** Run the raw baseline around the Shoal runs (default true); without it the ratios are NaN. */
  raw?: boolean
}

type Testnet = Awaited<ReturnType<typeof createTestnet>>
type BaseInput = Omit<SwarmChildInput, 'mode' | 'dir'>

/**
 * Makes `dir` a serving node for the swarm phase: follows every source identity, holds every
 * source feed, tracks and indexes them all. (`npm run bench` reuses the index phase's reader.)
 */
export async function prepareServingShoal (dir: string, source: SourceSet): Promise<void> {
  await prepareIndexedShoal(dir, source)
  const a = new Shoal(dir)
  await a.ready()
  try {
    for (const f of source.feeds) await a.addFeed(f.key)
    await Promise.all(source.feeds.map((f) => a.waitForIndexed(f.key, source.length)))
  } finally {
    await a.close()
  }
}

export async function swarmSync (opts: SwarmSyncOptions): Promise<SwarmSyncRun> {
  const { source, log = () => {} } = opts
  const testnet = await createTestnet(3)
  try {
    const base: BaseInput = {
      bootstrap: testnet.bootstrap,
      feeds: source.feeds.map((f) => b4a.toString(f.key, 'hex')),
      identities: source.feeds.map((f) => b4a.toString(f.identity, 'hex')),
      length: source.length,
      messages: source.messages,
      timeoutMs: opts.timeoutMs
    }
    const rawBlock = async (): Promise<SwarmRawBlock> => {
      const all = await rawOnce(testnet, source, { ...base, mode: 'raw', concurrency: 0, dir: await opts.makeDir('swarm-raw') })
      const bounded = await rawOnce(testnet, source, { ...base, mode: 'raw', concurrency: RAW_CONCURRENCY, dir: await opts.makeDir('swarm-raw') })
      log(`swarm raw: all at once ${Math.round(all.ms)} ms (CPU ${Math.round(all.cpuMs)} ms, GC ${all.gc.count} / ${Math.round(all.gc.ms)} ms, server ${Math.round(all.servingCpuMs ?? 0)} ms), ${RAW_CONCURRENCY} at a time ${Math.round(bounded.ms)} ms (CPU ${Math.round(bounded.cpuMs)} ms, GC ${bounded.gc.count} / ${Math.round(bounded.gc.ms)} ms, server ${Math.round(bounded.servingCpuMs ?? 0)} ms); peak RSS ${Math.round(all.maxRss / MiB)} / ${Math.round(bounded.maxRss / MiB)} MiB; all at once ${describeIo(all)}; ${RAW_CONCURRENCY} at a time ${describeIo(bounded)}`)
      return { all, bounded }
    }

    const withRaw = opts.raw ?? true
    const raw: SwarmRawBlock[] = withRaw ? [await rawBlock()] : []
    const shoal: Array<{ out: SwarmChildOutput, servingReadyMs: number }> = []
    let servingTopics = 0
    for (let i = 0; i < opts.rounds; i++) {
      const r = await shoalOnce(testnet, opts.servingDir, { ...base, mode: 'shoal', dir: await opts.makeDir('swarm-b') })
      if (r.out.messages !== source.messages) throw new Error(`swarm sync: B indexed ${r.out.messages} messages, expected ${source.messages}`)
      servingTopics = r.topics
      shoal.push(r)
      log(`swarm shoal: ${Math.round(r.out.ms)} ms (CPU ${Math.round(r.out.cpuMs)} ms, GC ${r.out.gc.count} / ${Math.round(r.out.gc.ms)} ms, server ${Math.round(r.out.servingCpuMs ?? 0)} ms), peak RSS ${Math.round(r.out.maxRss / MiB)} MiB (${describeMarks(r.out)}); ${describeIo(r.out)}`)
      if (withRaw) raw.push(await rawBlock())
    }

    const rounds = shoal.map(({ out, servingReadyMs }, i): SwarmSyncRound => {
      if (!withRaw) return { shoal: out, likeForLikeRatio: NaN, ratio: NaN, servingReadyMs }
      const around = [raw[i], raw[i + 1]]
      const likeForLike = Math.min(...around.map((b) => b.all.ms))
      const best = Math.min(likeForLike, ...around.map((b) => b.bounded.ms))
      return { shoal: out, likeForLikeRatio: out.ms / likeForLike, ratio: out.ms / best, servingReadyMs }
    })
    return { rounds, raw, ratio: mean(rounds.map((r) => r.ratio)), likeForLikeRatio: mean(rounds.map((r) => r.likeForLikeRatio)), servingTopics }
  } finally {
    await testnet.destroy()
  }
}

/** Opens A, joins it to the testnet and runs one fresh B against it. */
async function shoalOnce (testnet: Testnet, servingDir: string, input: SwarmChildInput): Promise<{ out: SwarmChildOutput, servingReadyMs: number, topics: number }> {
  const start = performance.now()
  const a = new Shoal(servingDir)
  try {
    await a.ready()
    const tracked = new Set(a.trackedFeeds.map((k) => b4a.toString(k, 'hex')))
    if (!input.feeds.every((f) => tracked.has(f))) throw new Error('swarm sync: the serving node does not track every source feed')
    const replicator = await a.joinNetwork({ dht: testnet.createNode(LOOPBACK_NODE) })
    await replicator.flush()
    const servingReadyMs = performance.now() - start
    const cpu = process.cpuUsage()
    const { result } = await runChild<SwarmChildOutput>('swarm-sync-child', input, profileArgs('shoal'))
    return { out: { ...result, servingCpuMs: cpuSince(cpu) }, servingReadyMs, topics: replicator.joinedTopics.size }
  } finally {
    await a.close()
  }
}

/** Serves the source store on a fresh random topic and runs one raw client against it. */
async function rawOnce (testnet: Testnet, source: SourceSet, input: SwarmChildInput): Promise<SwarmChildOutput> {
  const topic = b4a.alloc(32)
  sodium.randombytes_buf(topic)
  const swarm = new Hyperswarm({ dht: testnet.createNode(LOOPBACK_NODE) })
  try {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {}) // the client closing its end errors the stream; that is the expected end
      source.store.replicate(conn)
    })
    await swarm.join(topic, { server: true, client: false }).flushed()
    const cpu = process.cpuUsage()
    const { result } = await runChild<SwarmChildOutput>('swarm-sync-child', { ...input, topic: b4a.toString(topic, 'hex') }, profileArgs(`raw-${input.concurrency ?? 0}`))
    return { ...result, servingCpuMs: cpuSince(cpu) }
  } finally {
    await swarm.destroy()
  }
}

/** SHOAL_BENCH_CPU_PROF=DIR: every child writes a V8 CPU profile to DIR, named after its mode. */
function profileArgs (label: string): string[] {
  const dir = process.env.SHOAL_BENCH_CPU_PROF
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`]
}

/** CPU time of this process (the serving side, and the testnet) since `before`, in ms. */
function cpuSince (before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before)
  return (d.user + d.system) / 1000
}

function mean (xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

function fmtMark (ms: number | null): string {
  return ms === null ? '-' : String(Math.round(ms))
}

/**
 * Native RocksDB calls per block downloaded: "cores 2.1 reads (1.0 batches), 3.0 writes (1.1
 * batches); views …" (reads are gets, writes puts and deletes).
 */
export function describeIo (r: SwarmChildOutput): string {
  const per = (n: number): string => (n / r.blocks).toFixed(2)
  const one = (name: string, io: IoCounts): string =>
    `${name} ${per(io.gets)} reads (${per(io.readBatches)} batches), ${per(io.puts + io.deletes)} writes (${per(io.writeBatches)} batches)`
  return `per block: ${one('cores', r.io.cores)}${r.io.views === null ? '' : '; ' + one('views', r.io.views)}`
}

/** "connection 50, feeds known 170, …" in ms since B started joining. */
export function describeMarks (r: SwarmChildOutput): string {
  const m = r.marks
  const atDownload = m.indexedAtDownloaded === null ? '' : ` (${Math.round((100 * m.indexedAtDownloaded) / r.messages)}% indexed)`
  return `connection ${fmtMark(m.firstConnection)}, feeds known ${fmtMark(m.allFeedsKnown)}, downloaded ${fmtMark(m.downloaded)}${atDownload}, indexed ${fmtMark(m.indexed)}, sync resolved ${fmtMark(m.syncResolved)} ms`
}
