import test from 'brittle'
import b4a from 'b4a'
import Hyperswarm from 'hyperswarm'
import sodium from 'sodium-universal'
import { HyperswarmTransport, UNANNOUNCE_TOPICS } from '../src/swarm/hyperswarm-transport.js'
import { createLocalDht, type Testnet } from './helpers/swarm.js'

function randomTopic (): Uint8Array {
  const t = b4a.alloc(32)
  sodium.randombytes_buf(t)
  return t
}

/** How many DHT nodes still hand out `publicKey`'s announce of `topic`. */
async function announcesOf (testnet: Testnet, topic: Uint8Array, publicKey: Uint8Array): Promise<number> {
  const probe = testnet.createNode()
  let n = 0
  try {
    for await (const reply of probe.lookup(topic)) n += reply.peers.filter((p) => b4a.equals(p.publicKey, publicKey)).length
  } finally {
    await probe.destroy()
  }
  return n
}

test('swarm close – my topic and the topics peers that connected were found on are unannounced before close returns; the rest are left', async (t) => {
  const testnet = await createLocalDht(t)
  const mine = randomTopic()
  const shared = randomTopic()
  const others = Array.from({ length: UNANNOUNCE_TOPICS + 4 }, randomTopic)
  // A peer announcing `shared`: the closing node finds it there.
  const other = new Hyperswarm({ dht: testnet.createNode() })
  t.teardown(() => other.destroy())
  other.on('connection', (conn: { on: (ev: 'error', fn: () => void) => void }) => conn.on('error', () => {})) // reset when the other closes
  await other.join(shared, { server: true, client: false }).flushed()

  const swarm = new Hyperswarm({ dht: testnet.createNode() })
  const transport = new HyperswarmTransport(swarm)
  swarm.on('connection', (conn: { on: (ev: 'error', fn: () => void) => void }) => conn.on('error', () => {}))
  for (const topic of [mine, shared, ...others]) transport.join(topic)
  await transport.flush()
  const key = swarm.keyPair.publicKey
  t.ok(await announcesOf(testnet, mine, key) > 0, 'my topic was announced')
  t.ok(await announcesOf(testnet, others[0]!, key) > 0, 'a topic nobody else serves was announced')

  await transport.close(2000)
  t.is(await announcesOf(testnet, mine, key), 0, 'my topic: no stale announce after close')
  t.is(await announcesOf(testnet, shared, key), 0, 'a topic a peer that connected was found on: no stale announce')
  let left = 0
  for (const topic of others) left += (await announcesOf(testnet, topic, key)) > 0 ? 1 : 0
  t.ok(left > others.length - UNANNOUNCE_TOPICS, `${left} of the ${others.length} topics nobody else serves are left to expire (a DHT query each at close)`)
})
