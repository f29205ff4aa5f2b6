// The CLI's view of peer drops (Node only: src/cli uses Node built-ins); the portable part of
// this test runs on Bare too, in peer-handshake.test.ts.
import test from 'brittle'
import { commands } from '../src/cli/commands.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { twoDrops } from './helpers/raw-peer.js'

test('handshake – the CLI\'s status prints the dropped peers with their reason', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet, { join: { limits: { helloTimeoutMs: 1000 } } })
  await twoDrops(t, node, node.replicator!)
  const shoal = node as unknown as Parameters<typeof commands.sync>[0]
  const params = { flags: {}, positionals: [] } as unknown as Parameters<typeof commands.sync>[1]
  const status = (await commands.status(shoal, params)).text
  t.ok(status.includes('2 recent drop(s)') && status.includes('PEER_TIMEOUT') && status.includes('PROTOCOL_ERROR'), 'status prints both drops')
  t.is((await node.status()).drops.length, 2)
})

