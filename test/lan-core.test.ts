// LAN discovery with no Node built-in (runs on Node and, in npm run test:bare, on Bare): mDNS over
// #dgram with Shoal's own packet codec, TCP over #net, on the loopback interface only.
import test, { type Test } from 'brittle'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { loopbackMulticast } from './helpers/multicast.js'
import { LanDiscovery } from '../src/swarm/lan.js'
import { Shoal } from '../src/node/shoal.js'
import { parseIdentity } from '../src/ids.js'

const MDNS_BASE = 40000 + Math.floor(Math.random() * 10000)


const skip = await loopbackMulticast(MDNS_BASE)
const loopbackTest = skip === null ? test : test.skip

async function createLan (t: Test, mdnsPort: number): Promise<LanDiscovery> {
  const lan = new LanDiscovery({ keyPair: crypto.keyPair(), host: '127.0.0.1', mdnsPort, interval: 1000, window: 800 })
  t.teardown(() => lan.close())
  await lan.ready()
  return lan
}

loopbackTest('lan core – two instances find each other by mDNS and talk over Noise', async (t) => {
  const a = await createLan(t, MDNS_BASE + 1)
  const b = await createLan(t, MDNS_BASE + 1)
  const ca = new Promise<[Uint8Array, { publicKey: Uint8Array }]>((resolve) => a.once('connection', (s, info) => resolve([s as unknown as Uint8Array, info])))
  const gotLine = new Promise<string>((resolve) => {
    b.once('connection', (stream) => stream.once('data', (d: Uint8Array) => resolve(b4a.toString(d, 'utf8'))))
  })
  await Promise.all([a.flush(), b.flush()])
  const [streamA, info] = await ca
  t.ok(b4a.equals(info.publicKey, b.keyPair.publicKey), 'a sees b by its Noise key')
  ;(streamA as unknown as { write: (d: Uint8Array) => void }).write(b4a.from('over noise'))
  t.is(await gotLine, 'over noise')
  t.is(a.connections.size, 1)
})

loopbackTest('lan core – two Shoal nodes with no DHT sync a post over the LAN', async (t) => {
  const lanOptions = { host: '127.0.0.1', mdnsPort: MDNS_BASE + 2, interval: 1000, window: 800 }
  const { shoal: alice } = await Shoal.init(await t.tmp(), { name: 'alice' })
  t.teardown(() => alice.close(), { order: 1 })
  const { shoal: bob } = await Shoal.init(await t.tmp(), { name: 'bob' })
  t.teardown(() => bob.close(), { order: 1 })
  await alice.post({ text: 'no internet needed' })
  const aliceId = (await alice.whoami()).id
  await bob.follow(parseIdentity(aliceId))
  await alice.joinNetwork({ bootstrap: { kind: 'none' }, lanOptions })
  await bob.joinNetwork({ bootstrap: { kind: 'none' }, lanOptions })
  const res = await bob.sync({ timeout: 30_000 })
  t.is(res.peers, 1)
  t.is((await bob.timeline()).items[0]?.text, 'no internet needed')
})
