import test from 'brittle'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import { identityTopic } from '../src/caps.js'
import { DeviceFeed } from '../src/feeds/device-feed.js'
import { createSeed, keyPairFromSeed, type IdentityKeyPair } from '../src/feeds/identity.js'
import { feedToString } from '../src/ids.js'
import type { Shoal } from '../src/node/shoal.js'
import { RawPeer } from './helpers/raw-peer.js'
import { createLocalDht, createSwarmPeer, type Testnet } from './helpers/swarm.js'

type T = Parameters<Parameters<typeof test>[1]>[0]

/**
 * A peer on the testnet that announces `friend`'s topic and speaks `shoal/feeds` far enough to be
 * counted by a node that follows `friend`: it proves it knows `friend` and identifies (as someone
 * else), then answers no want unless the test does. `store` (optional) is replicated on the same
 * connection. Resolves with the raw peer of the first connection.
 */
async function stallingPeer (t: T, testnet: Testnet, friend: IdentityKeyPair, store: Corestore | null = null): Promise<{ connected: Promise<RawPeer> }> {
  const swarm = new Hyperswarm({ dht: testnet.createNode() })
  t.teardown(() => swarm.destroy(), { order: 0 })
  const me = keyPairFromSeed(createSeed())
  const connected = new Promise<RawPeer>((resolve) => {
    swarm.on('connection', (conn: NoiseSecretStream) => {
      conn.on('error', () => {}) // reset when the node closes
      const raw = new RawPeer(conn)
      if (store !== null) store.replicate(conn)
      raw.openWith([friend.publicKey])
      raw.until((s) => s.identify.length === 1).then(() => { raw.identifyAs(me); resolve(raw) }, () => {})
    })
  })
  await swarm.join(identityTopic(friend.publicKey), { server: true, client: false }).flushed()
  return { connected }
}

/** Runs a sync and resolves with its error (null if it resolved). */
function syncError (node: Shoal, timeout: number): Promise<{ code?: string, message: string } | null> {
  return node.sync({ timeout }).then(() => null, (err: { code?: string, message: string }) => err)
}

const STALLED = 'round 0: waiting for 1 peer found on my topic to answer wants'

test('sync timeout – a peer that never answers wants: SYNC_TIMEOUT names the step the sync stalled in', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const friend = keyPairFromSeed(createSeed())
  const peer = await stallingPeer(t, testnet, friend)
  await node.follow(friend.publicKey)
  await node.replicator!.refresh()
  const raw = await peer.connected
  await raw.until((s) => s.want.length >= 1)
  t.is(node.replicator!.peers.length, 1, 'the peer is counted (it proved and identified)')

  const err = await syncError(node, 4000)
  t.is(err?.code, 'SYNC_TIMEOUT', 'the sync fails with SYNC_TIMEOUT')
  t.ok(err?.message.includes(`not caught up after 4 s (still finding peers and downloading: ${STALLED})`), `the message names the step: ${err?.message}`)
  t.is(raw.seen.have.length, 0, 'the peer never sent a feed list')
})

test('sync timeout – two syncs at once, stalled at different steps: each SYNC_TIMEOUT names its own', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const friend = keyPairFromSeed(createSeed())

  // The peer holds a device feed of `friend` of 3 blocks but only block 0 (the header): a sync
  // that catches up with it waits in "downloading" for blocks nobody can serve.
  const store = new Corestore(await t.tmp())
  t.teardown(() => store.close(), { order: 2 })
  const feed = new DeviceFeed(store, friend)
  await feed.ready()
  for (const text of ['one', 'two']) await feed.append({ type: 'post', timestamp: Date.now(), text, root: null, parent: null, cw: null, mentions: [] })
  await feed.core.clear(1, 3)
  const header = (await feed.core.get(0))!
  const prefix = feedToString(feed.key).slice(0, 12)

  const peer = await stallingPeer(t, testnet, friend, store)
  await node.follow(friend.publicKey)
  await node.replicator!.refresh()
  const raw = await peer.connected
  await raw.until((s) => s.want.length >= 1)

  // Hears when a sync has every want answered and starts catching up feeds (the step after the
  // wait), before it awaits anything.
  const r = node.replicator as unknown as { offeredCores: () => unknown[] }
  const offeredCores = r.offeredCores.bind(r)
  const catchingUp = new Promise<void>((resolve) => {
    r.offeredCores = () => {
      const out = offeredCores()
      if (out.length > 0) resolve()
      return out
    }
  })

  const first = syncError(node, 8000)
  raw.have.send({ round: raw.seen.want[0]!.round, headers: [header] })
  await catchingUp
  // A new want (my scope grew) that the peer never answers: a second sync stalls before the feeds.
  await node.follow(keyPairFromSeed(createSeed()).publicKey)
  await node.replicator!.refresh()
  await raw.until((s) => s.want.length >= 2)
  const second = await syncError(node, 3000)

  t.is(second?.code, 'SYNC_TIMEOUT', 'the second sync times out')
  t.ok(second?.message.endsWith(`(still finding peers and downloading: ${STALLED})`), `the second sync: waiting on the unanswered want (${second?.message})`)
  const one = await first
  t.is(one?.code, 'SYNC_TIMEOUT', 'the first sync times out')
  const own = new RegExp(`\\(still finding peers and downloading: round 0: catching up ${prefix}… downloading \\([01]/3\\)\\)$`)
  t.ok(one !== null && own.test(one.message), `the first sync: its own step, the feed it is downloading, not the second sync's (${one?.message})`)
})
