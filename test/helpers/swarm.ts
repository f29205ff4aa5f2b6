import type { Test } from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { Shoal, type InitOptions, type JoinOptions } from '../../src/node/shoal.js'

export type Testnet = Awaited<ReturnType<typeof createTestnet>>

/** A DHT of three nodes on 127.0.0.1, destroyed at teardown. */
export function createLocalDht (t: Test): Promise<Testnet> {
  return createTestnet(3, t.teardown.bind(t))
}

/** A node with its own identity, joined to the local testnet (127.0.0.1 only). */
export async function createSwarmPeer (t: Test, testnet: Testnet, opts: InitOptions & { join?: JoinOptions, storage?: string } = {}): Promise<Shoal> {
  const dir = opts.storage ?? await t.tmp()
  const { shoal } = await Shoal.init(dir, opts)
  t.teardown(() => shoal.close(), { order: 1 })
  await shoal.joinNetwork({ dht: testnet.createNode(), ...opts.join })
  return shoal
}

/** Opens an existing storage folder and joins the local testnet. */
export async function reopenSwarmPeer (t: Test, testnet: Testnet, dir: string, join: JoinOptions = {}): Promise<Shoal> {
  const shoal = new Shoal(dir)
  await shoal.ready()
  t.teardown(() => shoal.close(), { order: 1 })
  await shoal.joinNetwork({ dht: testnet.createNode(), ...join })
  return shoal
}
