/**
 * Cost follows the peers found, not the follows held: node B follows one online peer P (a friend:
 * P follows B back, so it announces B's topic), and in the loaded case also N identities whose
 * feeds B holds (a header each) but whom no peer serves.
 * Each round P posts once; B opens, joins a local HyperDHT testnet (127.0.0.1 only), syncs and
 * closes. Sync and close of the loaded node are compared with the same steps of a node that
 * follows P alone. Everything runs in this process.
 *
 * P replicates one hop (the identities it follows): with the default two it would want whom B
 * follows, fetch the N feeds from B in the first round and serve them from then on, and they
 * would no longer be unreachable.
 */
import createTestnet from 'hyperdht/testnet.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { LOOPBACK_NODE } from './loopback-dht.js'
import { median } from './stats.js'

export interface FollowsRound { joinMs: number, syncMs: number, closeMs: number, blocks: number, peers: number }

export interface UnreachableFollowsRun {
  unreachable: number
  base: FollowsRound[]
  loaded: FollowsRound[]
  /** Medians: loaded / base. */
  syncRatio: number
  closeRatio: number
  /** B's setup with N unreachable follows (writes and indexing), not part of the measurement. */
  setupMs: number
}

type Testnet = Awaited<ReturnType<typeof createTestnet>>

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

async function prepare (dir: string, peer: Shoal, unreachable: number): Promise<void> {
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
export type Around = <T>(step: 'sync' | 'close', fn: () => Promise<T>) => Promise<T>

const direct: Around = (_step, fn) => fn()

async function round (dir: string, testnet: Testnet, peer: Shoal, n: number, timeoutMs: number, around: Around = direct): Promise<FollowsRound> {
  await peer.post({ text: `round ${n}` })
  const node = new Shoal(dir)
  await node.ready()
  let closed = false
  try {
    let t = performance.now()
    await node.joinNetwork({ dht: testnet.createNode(LOOPBACK_NODE) })
    const joinMs = performance.now() - t
    t = performance.now()
    const r = await around('sync', () => node.sync({ timeout: timeoutMs }))
    const syncMs = performance.now() - t
    const got = node.core(peer.feedKey)?.contiguousLength
    if (got !== peer.feedLength) throw new Error(`sync returned without the peer's new post (${got} of ${peer.feedLength} blocks, ${r.peers} peers)`)
    t = performance.now()
    await around('close', () => node.close())
    closed = true
    return { joinMs, syncMs, closeMs: performance.now() - t, blocks: r.blocks, peers: r.peers }
  } finally {
    if (!closed) await node.close()
  }
}

/**
 * Runs the phase: `rounds` rounds of the 1-follow node and the loaded node, alternating. `around`
 * wraps the sync and the close of each loaded round (the standalone run profiles them with it).
 */
export async function unreachableFollows (opts: { unreachable: number, rounds: number, timeoutMs: number, makeDir: (label: string) => Promise<string>, log?: (msg: string) => void, around?: Around }): Promise<UnreachableFollowsRun> {
  const log = opts.log ?? (() => {})
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const peers: Shoal[] = []
  try {
    // One online peer per node measured, so that neither node is in the other's follow range.
    for (const label of ['follows-peer-base', 'follows-peer-loaded']) {
      const { shoal } = await Shoal.init(await opts.makeDir(label), { name: 'online peer' })
      peers.push(shoal)
      await shoal.joinNetwork({ dht: testnet.createNode(LOOPBACK_NODE), hops: PEER_HOPS })
    }
    const [peerBase, peerLoaded] = peers
    const baseDir = await opts.makeDir('follows-base')
    const loadedDir = await opts.makeDir('follows-loaded')
    await prepare(baseDir, peerBase, 0)
    const t = performance.now()
    await prepare(loadedDir, peerLoaded, opts.unreachable)
    const setupMs = performance.now() - t
    for (const p of peers) await p.replicator?.flush() // each announces the topic of the node it follows
    log(`prepared a node with ${opts.unreachable} unreachable follows in ${Math.round(setupMs)} ms`)
    const base: FollowsRound[] = []
    const loaded: FollowsRound[] = []
    for (let i = 0; i < opts.rounds; i++) {
      base.push(await round(baseDir, testnet, peerBase, i, opts.timeoutMs))
      log(`1 follow: sync ${Math.round(base[i].syncMs)} ms, close ${Math.round(base[i].closeMs)} ms`)
      loaded.push(await round(loadedDir, testnet, peerLoaded, i, opts.timeoutMs, opts.around))
      log(`${opts.unreachable} unreachable + 1: sync ${Math.round(loaded[i].syncMs)} ms, close ${Math.round(loaded[i].closeMs)} ms`)
    }
    const m = (xs: FollowsRound[], k: 'syncMs' | 'closeMs'): number => median(xs.map((x) => x[k]))
    return { unreachable: opts.unreachable, base, loaded, setupMs, syncRatio: m(loaded, 'syncMs') / m(base, 'syncMs'), closeRatio: m(loaded, 'closeMs') / m(base, 'closeMs') }
  } finally {
    for (const p of peers) await p.close()
    await testnet.destroy()
  }
}
