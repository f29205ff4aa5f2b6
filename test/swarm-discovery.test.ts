import test, { type Test } from 'brittle'
import b4a from 'b4a'
import Hyperswarm from 'hyperswarm'
import sodium from 'sodium-universal'
import { identityTopic } from '../src/caps.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import type { Shoal } from '../src/node/shoal.js'
import { HyperswarmTransport } from '../src/swarm/hyperswarm-transport.js'
import type { Connection } from '../src/swarm/peer-session.js'
import { Replicator, type Transport } from '../src/swarm/replicator.js'
import { createPeer } from './helpers/peers.js'
import { streamPair } from './helpers/raw-peer.js'
import { createLocalDht } from './helpers/swarm.js'

/**
 * A transport the test drives: `onDiscover` decides what each lookup finds (it may connect a
 * peer) and when the lookup is done; every call is recorded.
 */
class ScriptedTransport implements Transport {
  readonly calls: Uint8Array[][] = []
  readonly pending = 0
  constructor (readonly perTopic: boolean, private readonly onDiscover: (topics: Uint8Array[]) => Promise<void>) {}
  join (): void {}
  leave (): void {}
  async flush (): Promise<void> {}
  discover (topics: Uint8Array[]): Promise<void> {
    this.calls.push(topics)
    return this.onDiscover(topics)
  }

  on (): this { return this }
  off (): this { return this }
}

const has = (topics: Uint8Array[], topic: Uint8Array): boolean => topics.some((x) => b4a.equals(x, topic))

/** B follows P (who follows B back and has posted) and `ghost`, whom nobody online serves. */
async function friends (t: Test): Promise<{ b: Shoal, p: Shoal, pRep: Replicator, ghost: Uint8Array }> {
  const b = await createPeer(t, { name: 'b' })
  const p = await createPeer(t, { name: 'p' })
  const ghost = keyPairFromSeed(createSeed()).publicKey
  await p.follow(b.identity)
  await p.post({ text: 'hello from p' })
  await b.follow(p.identity)
  await b.follow(ghost)
  const pRep = new Replicator(p, { transports: [] })
  await pRep.ready()
  t.teardown(() => pRep.close(), { order: 0 })
  return { b, p, pRep, ghost }
}

/** Connects B's replicator to P's over an in-process Noise stream pair. */
async function connect (t: Test, bRep: Replicator, pRep: Replicator): Promise<void> {
  const { node, peer } = await streamPair(t)
  bRep.connect(node as unknown as Connection)
  pRep.connect(peer as unknown as Connection)
}

// The bench's loaded node (5,000 follows nobody serves) waited on the lookups of 15 sampled
// follows' topics, and on dials of the stale announces they found, after its friend had already
// answered on its own topic.
test('swarm discovery – a sync that found a peer on my topic does not look up the other topics', async (t) => {
  const { b, p, pRep, ghost } = await friends(t)
  let staleLookup: () => void = () => {}
  const stale = new Promise<string>((resolve) => { staleLookup = () => resolve('looked up a follow\'s topic') })
  let unblock: () => void = () => {}
  const hung = new Promise<void>((resolve) => { unblock = resolve })
  t.teardown(() => unblock(), { order: -1 })
  const mine = identityTopic(b.identity)
  let bRep: Replicator | null = null
  const transport = new ScriptedTransport(true, async (topics) => {
    if (has(topics, mine) && bRep !== null && bRep.connections().length === 0) await connect(t, bRep, pRep)
    // A follow's topic has only a stale announce: its dial hangs.
    if (has(topics, identityTopic(ghost))) { staleLookup(); await hung }
  })
  bRep = new Replicator(b, { transports: [transport] })
  await bRep.ready()
  t.teardown(() => bRep?.close(), { order: 0 })
  const first = await Promise.race([bRep.sync({ timeout: 20_000 }).then(() => 'synced'), stale])
  t.is(first, 'synced', 'the sync returned without looking up a follow\'s topic')
  t.is(b.core(p.feedKey)?.contiguousLength, p.feedLength, 'with the peer\'s post')
  t.alike(transport.calls, [[mine]], 'the one lookup was of my topic')
})

test('swarm discovery – with nobody on my topic, a sync looks up followed identities\' topics (per-topic transports only)', async (t) => {
  const { b, p, pRep, ghost } = await friends(t)
  const mine = identityTopic(b.identity)
  let bRep: Replicator | null = null
  const dht = new ScriptedTransport(true, async (topics) => {
    if (has(topics, identityTopic(p.identity)) && bRep !== null && bRep.connections().length === 0) await connect(t, bRep, pRep)
  })
  const lan = new ScriptedTransport(false, async () => {})
  bRep = new Replicator(b, { transports: [dht, lan] })
  await bRep.ready()
  t.teardown(() => bRep?.close(), { order: 0 })
  const r = await bRep.sync({ timeout: 20_000 })
  t.is(r.peers, 1, 'the friend was found on its own topic')
  t.is(b.core(p.feedKey)?.contiguousLength, p.feedLength, 'with its post')
  t.alike(dht.calls[0], [mine], 'my topic first')
  t.ok(has(dht.calls[1] ?? [], identityTopic(p.identity)) && has(dht.calls[1] ?? [], identityTopic(ghost)), 'then mine and the followed identities\' topics')
  t.alike(lan.calls, [[mine]], 'a LAN round finds everyone at once: it is not repeated for the sample')
})

function randomTopic (): Uint8Array {
  const topic = b4a.alloc(32)
  sodium.randombytes_buf(topic)
  return topic
}

test('swarm discovery – background first rounds wait while a sync holds the transport; discover does not', async (t) => {
  const testnet = await createLocalDht(t)
  const swarm = new Hyperswarm({ dht: testnet.createNode() })
  const transport = new HyperswarmTransport(swarm)
  t.teardown(() => transport.close(0), { order: 0 })
  const release = transport.hold()
  const topics = [randomTopic(), randomTopic(), randomTopic()]
  for (const topic of topics) transport.join(topic)
  t.is(topics.filter((topic) => swarm.status(topic) !== null).length, 0, 'held: no background round started')
  await transport.discover([topics[0]!])
  t.ok(swarm.status(topics[0]!) !== null, 'a topic discover asked for is looked up')
  t.is(swarm.status(topics[1]!), null, 'the others still wait')
  release()
  t.ok(topics.every((topic) => swarm.status(topic) !== null), 'released: the background rounds start')
  await transport.flush()
})

// The handshake starts before the scope is computed (it reads every identity in range), proving
// only me; a peer that knows only whom I follow must still get my full proofs once it is known.
test('swarm discovery – a peer that connects while my scope is computed and knows only a follow of mine syncs', async (t) => {
  const b = await createPeer(t, { name: 'b' })
  const p = await createPeer(t, { name: 'p' })
  await p.post({ text: 'p does not follow b' })
  await b.follow(p.identity)
  const pRep = new Replicator(p, { transports: [] })
  await pRep.ready()
  t.teardown(() => pRep.close(), { order: 0 })
  const bRep = new Replicator(b, { transports: [] })
  t.teardown(() => bRep.close(), { order: 0 })
  const opening = bRep.ready()
  const { node, peer } = await streamPair(t)
  bRep.connect(node as unknown as Connection)
  t.absent(bRep.scopeReady, 'connected before the scope was known')
  pRep.connect(peer as unknown as Connection)
  await opening
  const r = await bRep.sync({ timeout: 20_000 })
  t.is(r.peers, 1, 'the peer identified')
  t.is(b.core(p.feedKey)?.contiguousLength, p.feedLength, 'and its post arrived')
})
