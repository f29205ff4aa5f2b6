// The CLI's view of peer drops (Node only: src/cli uses Node built-ins); the portable part of
// this test runs on Bare too, in peer-handshake.test.ts.
import test from 'brittle'
import { commands } from '../src/cli/commands.js'
import { identityToString } from '../src/ids.js'
import type { PeerDrop, Replicator } from '../src/swarm/replicator.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { RawPeer, streamPair } from './helpers/raw-peer.js'

function nextDrop (r: Replicator): Promise<PeerDrop> {
  return new Promise((resolve) => r.once('drop', resolve))
}

test('handshake – sync and status report dropped peers with their reason, and the CLI prints them', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet, { join: { limits: { helloTimeoutMs: 1000 } } })
  const r = node.replicator!
  // A peer that never opens the channel: the sync waits for its handshake, which ends in a drop.
  const { node: end, peer: silent } = await streamPair(t)
  r.connect(end)
  const res = await node.sync({ timeout: 30_000 })
  t.is(res.peers, 0)
  t.alike(res.drops.map((d) => d.reason), ['PEER_TIMEOUT'], 'the sync says why it has no peer')
  t.is(res.drops[0].publicKey, identityToString(silent.publicKey as Uint8Array), 'the dropped peer\'s Noise key')

  const dropped = nextDrop(r)
  const old = await RawPeer.connect(t, r, { protocol: 'shoal/feeds/v1' })
  old.channel.open({ version: 2, proofs: [] })
  await dropped
  const shoal = node as unknown as Parameters<typeof commands.sync>[0]
  const params = { flags: {}, positionals: [] } as unknown as Parameters<typeof commands.sync>[1]
  const status = (await commands.status(shoal, params)).text
  t.ok(status.includes('2 recent drop(s)') && status.includes('PEER_TIMEOUT') && status.includes('PROTOCOL_ERROR'), 'status prints both drops')
  t.is((await node.status()).drops.length, 2)
})

