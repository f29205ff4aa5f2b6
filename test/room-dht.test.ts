import test from 'brittle'
import b4a from 'b4a'
import Hyperswarm from 'hyperswarm'
import { Room } from '../src/groups/index.js'
import { DhtPairing } from '../src/node/room-dht-pairing.js'
import { createLocalDht } from './helpers/swarm.js'
import { makeDevice, openRoom, link, attach, NS } from './helpers/rooms.js'

test('room dht – an invite pairs over the blind-pairing DHT rendezvous alone; a used code is refused with INVITE_USED', async t => {
  t.timeout(180_000)
  const testnet = await createLocalDht(t)
  const pairing: DhtPairing[] = []
  for (let i = 0; i < 3; i++) {
    const swarm = new Hyperswarm({ dht: testnet.createNode() })
    const p = new DhtPairing(swarm)
    t.teardown(async () => { await p.close(); await swarm.destroy() }, { order: 1 })
    pairing.push(p)
  }
  const [pa, pb, pc] = pairing as [DhtPairing, DhtPairing, DhtPairing]
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  const c = await makeDevice(t)
  const room = await openRoom(t, a, null, { name: 'over the dht' })
  pa.serve(b4a.toString(room.key, 'hex'), room.discoveryKey, async (req) => { await room.answerRequest(req) })
  const { invite } = await room.createInvite({ uses: 1 })
  const never = { cancelled: false, onCancel: () => {} }

  link(t, a, b)
  const joined = await Room.join(b.store, (code, userData) => pb.request(code, userData, never), invite, { namespace: NS, identity: b.identity, keys: b.keys, ackInterval: 0 })
  t.teardown(() => joined.close(), { order: 2 })
  attach(b, joined)
  await joined.whenWritable()
  t.ok(b4a.equals(joined.key, room.key), 'joined over the DHT and writable')

  await t.exception(Room.join(c.store, (code, userData) => pc.request(code, userData, never), invite, { namespace: NS, identity: c.identity, keys: c.keys, ackInterval: 0 }), /INVITE_USED/)
  t.is((await room.members()).length, 2, 'the refused request changed nothing')
})
