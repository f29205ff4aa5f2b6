import test from 'brittle'
import b4a from 'b4a'
import type Hyperswarm from 'hyperswarm'
import { identityTopic } from '../src/caps.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import type { IdentityKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { createLocalDht, createSwarmPeer, reopenSwarmPeer, type Testnet } from './helpers/swarm.js'

function swarmOf (shoal: Shoal): Hyperswarm {
  const swarm = shoal.replicator?.hyperswarm()
  if (swarm === null || swarm === undefined) throw new Error('not on a DHT')
  return swarm as Hyperswarm
}

/** How many DHT nodes still hand out `publicKey`'s announce of `topic`. */
async function announcesOf (testnet: Testnet, topic: Uint8Array, publicKey: Uint8Array): Promise<number> {
  const probe = testnet.createNode()
  let n = 0
  try {
    for await (const reply of probe.lookup(topic)) n += reply.peers.filter((p: { publicKey: Uint8Array }) => b4a.equals(p.publicKey, publicKey)).length
  } finally {
    await probe.destroy()
  }
  return n
}

test('swarm key – the DHT key pair survives a restart of the same storage and differs on another storage', async (t) => {
  const testnet = await createLocalDht(t)
  const dir = await t.tmp()
  const a = await createSwarmPeer(t, testnet, { name: 'a', storage: dir })
  const key = b4a.from(swarmOf(a).keyPair.publicKey)
  await a.close()
  const again = await reopenSwarmPeer(t, testnet, dir)
  t.alike(swarmOf(again).keyPair.publicKey, key, 'the same storage reopened: the same key')
  const other = await createSwarmPeer(t, testnet, { name: 'b' })
  t.unlike(swarmOf(other).keyPair.publicKey, key, 'another storage: another key')
})

// Close unannounces at most UNANNOUNCE_TOPICS topics; the announces of the others outlive the
// node. With a new key every run, the next run found them, dialled a key that was gone and waited
// on the dial (DIAL_WAIT_MS, or until it failed when nobody else was connected).
test('swarm key – a restarted node never dials the announces its previous run left on the DHT', async (t) => {
  const testnet = await createLocalDht(t)
  const dir = await t.tmp()
  const a = await createSwarmPeer(t, testnet, { name: 'a', storage: dir })
  const follows: IdentityKey[] = []
  for (let i = 0; i < 20; i++) {
    const id = keyPairFromSeed(createSeed()).publicKey
    follows.push(id)
    await a.follow(id)
  }
  await a.replicator?.flush()
  const key = b4a.from(swarmOf(a).keyPair.publicKey)
  await a.close()
  let stale: Uint8Array | null = null
  for (const id of follows) {
    if (await announcesOf(testnet, identityTopic(id), key) > 0) { stale = identityTopic(id); break }
  }
  t.ok(stale !== null, 'some follow\'s topic is still announced by the closed run')
  if (stale === null) return

  const again = await reopenSwarmPeer(t, testnet, dir)
  const swarm = swarmOf(again)
  await again.replicator?.discoverTopics([stale])
  t.is(swarm.connecting, 0, 'no dial in progress')
  t.is(swarm.connections.size, 0, 'no connection')
  t.absent([...swarm.peers.values()].some((p) => p.topics.some((topic) => b4a.equals(topic, stale))), 'no peer known on that topic')
})
