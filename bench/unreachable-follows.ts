/**
 * Cost follows the peers found, not the follows held: node B follows one online peer P (a friend:
 * P follows B back, so it announces B's topic), and in the loaded case also N identities whose
 * feeds B holds (a header each) but whom no peer serves.
 * Each round P posts once; B opens, joins a local HyperDHT testnet (127.0.0.1 only), syncs and
 * closes. Sync and close of the loaded node are compared with the same steps of a node that
 * follows P alone.
 *
 * Layout: by default the testnet and both online peers run in a child process
 * (unreachable-follows-peers.ts), as a real peer runs on another machine, and this process runs
 * only the measured node; with `layout: 'one-process'` (the layout of the runs before
 * 2026-11-30 12:00) everything runs in this process, so the peer's and the testnet's work (answering
 * a 4,096-topic want list, verifying the loaded node's background announces) competes with the
 * measured node's on one event loop. Both nodes are measured the same way in either layout.
 *
 * P replicates one hop (the identities it follows): with the default two it would want whom B
 * follows, fetch the N feeds from B in the first round and serve them from then on, and they
 * would no longer be unreachable.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type HyperDHT from 'hyperdht'
import b4a from 'b4a'
import createTestnet from 'hyperdht/testnet.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { LOOPBACK_NODE, loopbackNode, type Bootstrap } from './loopback-dht.js'
import { median } from './stats.js'

/**
 * One round of a node: wall times (ms) and this process's CPU time (ms, user + system, every
 * thread) of sync and close; on a shared machine the CPU time moves less with the load than the wall time.
 */
export interface FollowsRound { joinMs: number, syncMs: number, closeMs: number, syncCpuMs: number, closeCpuMs: number, blocks: number, peers: number }

/** One `shoal sync` run as a user types it: a process that opens, joins, syncs, closes and exits. */
export interface CliRound { ms: number, blocks: number, peers: number }

export interface UnreachableFollowsRun {
  unreachable: number
  layout: Layout
  base: FollowsRound[]
  loaded: FollowsRound[]
  /** Medians: loaded / base. */
  syncRatio: number
  closeRatio: number
  /** The same of the CPU times (a report row, not the target). */
  syncCpuRatio: number
  closeCpuRatio: number
  /** Join + sync (what `Shoal.joinNetwork` then `sync` cost together), medians: loaded / base. */
  joinSyncRatio: number
  /** `shoal sync` as a command (wall time of the process), when measured. */
  cliBase: CliRound[]
  cliLoaded: CliRound[]
  cliRatio: number | null
  /** B's setup with N unreachable follows (writes and indexing), not part of the measurement. */
  setupMs: number
}

type Testnet = Awaited<ReturnType<typeof createTestnet>>

/** Where the testnet and the two online peers run (see the top of this file). */
export type Layout = 'peer-process' | 'one-process'

/**
 * The testnet and the online peers, wherever they run: `prepare` makes a measured node's storage
 * folder (peer `i` is its friend), `post` has peer `i` post once and says its feed's length.
 */
export interface Peers {
  feedKey (i: number): FeedKey
  prepare (dir: string, i: number, unreachable: number): Promise<void>
  /** Each peer announces the topic of the node it follows. */
  flush (): Promise<void>
  post (i: number, text: string): Promise<number>
  /** A DHT node on the testnet for a measured node. */
  dhtNode (): HyperDHT
  /** The testnet's bootstrap nodes (on 127.0.0.1). */
  bootstrap (): Bootstrap
  close (): Promise<void>
}

const SETUP_BATCH = 8
/** P's replication range: itself and whom it follows (see the top of this file). */
const PEER_HOPS = 1

/**
 * A storage folder whose node follows `peer` (who follows it back and holds its feed) and
 * `unreachable` identities it holds a header feed of.
 */
/** `to` fetches and indexes all of `from`'s feed over one in-process replication stream. */
async function fetchFeed (to: Shoal, from: Shoal): Promise<void> {
  const a = to.replicate(true)
  const b = from.replicate(false)
  a.pipe(b).pipe(a)
  try {
    await to.addFeed(from.feedKey)
    await to.waitForIndexed(from.feedKey, from.feedLength)
  } finally {
    a.destroy()
    b.destroy()
  }
}

export async function prepare (dir: string, peer: Shoal, unreachable: number): Promise<void> {
  const { shoal } = await Shoal.init(dir, { name: 'reader' })
  await peer.follow(shoal.identity)
  try {
    await shoal.follow(peer.identity)
    // B has synced with P before: it holds P's feed (in-process replication, no swarm).
    await fetchFeed(shoal, peer)
    // In batches: each follow waits for its record to be indexed, and a batch is indexed together.
    for (let i = 0; i < unreachable; i += SETUP_BATCH) {
      const batch = Array.from({ length: Math.min(SETUP_BATCH, unreachable - i) }, (_, j) => i + j)
      await Promise.all(batch.map(async (n) => {
        const identity = keyPairFromSeed(createSeed())
        const core = shoal.store.get({ name: `ghost-${n}` })
        await core.ready()
        await core.append(encodeRecord(createHeader(identity, core.key as FeedKey, `ghost-${n}`, Date.now())))
        await core.close()
        await shoal.addFeed(core.key as FeedKey)
        await shoal.follow(identity.publicKey)
      }))
    }
    await shoal.indexed()
    // And P holds all of B's feed (its follow records): a round's sync has none of B's writes to
    // deliver, so it measures finding P and fetching P's post, as with 1 follow.
    await fetchFeed(peer, shoal)
  } finally {
    await shoal.close()
  }
}

/** Wraps one timed step of a round ('sync' or 'close'); the standalone run profiles them with it. */
export type Around = <T>(step: 'join' | 'sync' | 'close', fn: () => Promise<T>) => Promise<T>

const direct: Around = (_step, fn) => fn()

async function round (dir: string, peers: Peers, i: number, n: number, timeoutMs: number, around: Around = direct): Promise<FollowsRound> {
  const length = await peers.post(i, `round ${n}`)
  const node = new Shoal(dir)
  await node.ready()
  let closed = false
  try {
    let t = performance.now()
    await around('join', () => node.joinNetwork({ dht: peers.dhtNode() }))
    const joinMs = performance.now() - t
    t = performance.now()
    let cpu = process.cpuUsage()
    const r = await around('sync', () => node.sync({ timeout: timeoutMs }))
    const syncMs = performance.now() - t
    const syncCpuMs = cpuMs(cpu)
    const got = node.core(peers.feedKey(i))?.contiguousLength
    if (got !== length) throw new Error(`sync returned without the peer's new post (${got} of ${length} blocks, ${r.peers} peers)`)
    t = performance.now()
    cpu = process.cpuUsage()
    await around('close', () => node.close())
    closed = true
    return { joinMs, syncMs, closeMs: performance.now() - t, syncCpuMs, closeCpuMs: cpuMs(cpu), blocks: r.blocks, peers: r.peers }
  } finally {
    if (!closed) await node.close()
  }
}

/** CPU time (ms) this process spent since `since` (process.cpuUsage). */
function cpuMs (since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

const SHOAL_BIN = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url))

/**
 * One `shoal sync` command against the testnet (its launch flags: bin/shoal.js's shebang), timed
 * from spawn to exit; it must have fetched the peer's new post.
 */
async function cliRound (dir: string, peers: Peers, i: number, n: number, timeoutMs: number): Promise<CliRound> {
  await peers.post(i, `cli round ${n}`)
  const bootstrap = peers.bootstrap().map((b) => `${b.host}:${b.port}`).join(',')
  const t = performance.now()
  const out = await new Promise<string>((resolve, reject) => {
    execFile(SHOAL_BIN, ['sync', '--storage', dir, '--bootstrap', bootstrap, '--timeout', String(Math.ceil(timeoutMs / 1000)), '--json'], { timeout: timeoutMs + 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`shoal sync failed: ${stderr || err.message}`))
      else resolve(stdout)
    })
  })
  const ms = performance.now() - t
  const r = JSON.parse(out) as { blocks: number, peers: number }
  if (r.blocks < 1) throw new Error(`shoal sync returned without the peer's new post (${r.blocks} blocks, ${r.peers} peers)`)
  return { ms, blocks: r.blocks, peers: r.peers }
}

/** The testnet and the peers in this process. */
export async function localPeers (makeDir: (label: string) => Promise<string>): Promise<Peers> {
  const testnet: Testnet = await createTestnet(3, { host: '127.0.0.1' })
  const peers: Shoal[] = []
  try {
    // One online peer per node measured, so that neither node is in the other's follow range.
    for (const label of ['follows-peer-base', 'follows-peer-loaded']) {
      const { shoal } = await Shoal.init(await makeDir(label), { name: 'online peer' })
      peers.push(shoal)
      await shoal.joinNetwork({ dht: testnet.createNode(LOOPBACK_NODE), hops: PEER_HOPS })
    }
  } catch (err) {
    for (const p of peers) await p.close()
    await testnet.destroy()
    throw err
  }
  return {
    feedKey: (i) => peers[i].feedKey,
    prepare: (dir, i, unreachable) => prepare(dir, peers[i], unreachable),
    async flush () { for (const p of peers) await p.replicator?.flush() },
    async post (i, text) { await peers[i].post({ text }); return peers[i].feedLength },
    dhtNode: () => testnet.createNode(LOOPBACK_NODE),
    bootstrap: () => testnet.bootstrap as Bootstrap,
    async close () {
      for (const p of peers) await p.close()
      await testnet.destroy()
    }
  }
}

/** The testnet and the peers in a child process (unreachable-follows-peers.js), driven over IPC. */
export async function childPeers (makeDir: (label: string) => Promise<string>): Promise<Peers> {
  const script = fileURLToPath(new URL('./unreachable-follows-peers.js', import.meta.url))
  const dirs = [await makeDir('follows-peer-base'), await makeDir('follows-peer-loaded')]
  const child = fork(script, [JSON.stringify(dirs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv })
  const rpc = new ChildRpc(child)
  const { bootstrap, feedKeys } = await rpc.call<{ bootstrap: Bootstrap, feedKeys: string[] }>('start')
  const keys = feedKeys.map((h) => b4a.from(h, 'hex') as FeedKey)
  return {
    feedKey: (i) => keys[i],
    prepare: (dir, i, unreachable) => rpc.call('prepare', { dir, i, unreachable }),
    flush: () => rpc.call('flush'),
    post: (i, text) => rpc.call<number>('post', { i, text }),
    dhtNode: () => loopbackNode(bootstrap),
    bootstrap: () => bootstrap,
    close: () => rpc.close()
  }
}

/** Calls into the peers' child process: one request at a time, answered in order. */
class ChildRpc {
  private next = 0
  private readonly waiting = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  private exited: Promise<void>

  constructor (private readonly child: ChildProcess) {
    child.on('message', (m: { id: number, ok: boolean, value?: unknown, error?: string }) => {
      const w = this.waiting.get(m.id)
      this.waiting.delete(m.id)
      if (m.ok) w?.resolve(m.value)
      else w?.reject(new Error(`peers process: ${m.error}`))
    })
    this.exited = new Promise((resolve) => child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`peers process exited (code ${code})`))
      this.waiting.clear()
      resolve()
    }))
  }

  call<T = void> (cmd: string, args: unknown = null): Promise<T> {
    const id = this.next++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.child.send({ id, cmd, args })
    })
  }

  async close (): Promise<void> {
    try {
      await this.call('close')
    } finally {
      await this.exited
    }
  }
}

/**
 * Runs the phase: `rounds` rounds of the 1-follow node and the loaded node, alternating. `around`
 * wraps the sync and the close of each loaded round (the standalone run profiles them with it).
 */
export async function unreachableFollows (opts: { unreachable: number, rounds: number, timeoutMs: number, makeDir: (label: string) => Promise<string>, log?: (msg: string) => void, around?: Around, layout?: Layout, cliRounds?: number }): Promise<UnreachableFollowsRun> {
  const log = opts.log ?? (() => {})
  const layout = opts.layout ?? 'peer-process'
  const peers = layout === 'one-process' ? await localPeers(opts.makeDir) : await childPeers(opts.makeDir)
  try {
    const baseDir = await opts.makeDir('follows-base')
    const loadedDir = await opts.makeDir('follows-loaded')
    await peers.prepare(baseDir, 0, 0)
    const t = performance.now()
    await peers.prepare(loadedDir, 1, opts.unreachable)
    const setupMs = performance.now() - t
    await peers.flush()
    log(`prepared a node with ${opts.unreachable} unreachable follows in ${Math.round(setupMs)} ms (layout: ${layout})`)
    const base: FollowsRound[] = []
    const loaded: FollowsRound[] = []
    for (let i = 0; i < opts.rounds; i++) {
      base.push(await round(baseDir, peers, 0, i, opts.timeoutMs))
      log(`1 follow: sync ${Math.round(base[i].syncMs)} ms, close ${Math.round(base[i].closeMs)} ms`)
      loaded.push(await round(loadedDir, peers, 1, i, opts.timeoutMs, opts.around))
      log(`${opts.unreachable} unreachable + 1: sync ${Math.round(loaded[i].syncMs)} ms, close ${Math.round(loaded[i].closeMs)} ms`)
    }
    const cliBase: CliRound[] = []
    const cliLoaded: CliRound[] = []
    for (let i = 0; i < (opts.cliRounds ?? 0); i++) {
      cliBase.push(await cliRound(baseDir, peers, 0, i, opts.timeoutMs))
      log(`shoal sync, 1 follow: ${Math.round(cliBase[i].ms)} ms`)
      cliLoaded.push(await cliRound(loadedDir, peers, 1, i, opts.timeoutMs))
      log(`shoal sync, ${opts.unreachable} unreachable + 1: ${Math.round(cliLoaded[i].ms)} ms`)
    }
    const m = (xs: FollowsRound[], k: 'syncMs' | 'closeMs' | 'syncCpuMs' | 'closeCpuMs'): number => median(xs.map((x) => x[k]))
    const joinSync = (xs: FollowsRound[]): number => median(xs.map((x) => x.joinMs + x.syncMs))
    const cli = (xs: CliRound[]): number => median(xs.map((x) => x.ms))
    return {
      unreachable: opts.unreachable,
      layout,
      base,
      loaded,
      setupMs,
      syncRatio: m(loaded, 'syncMs') / m(base, 'syncMs'),
      closeRatio: m(loaded, 'closeMs') / m(base, 'closeMs'),
      syncCpuRatio: m(loaded, 'syncCpuMs') / m(base, 'syncCpuMs'),
      closeCpuRatio: m(loaded, 'closeCpuMs') / m(base, 'closeCpuMs'),
      joinSyncRatio: joinSync(loaded) / joinSync(base),
      cliBase,
      cliLoaded,
      cliRatio: cliBase.length === 0 ? null : cli(cliLoaded) / cli(cliBase)
    }
  } finally {
    await peers.close()
  }
}
