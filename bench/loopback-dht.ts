/**
 * DHT nodes of the swarm phase: every one is built as `testnet.createNode(LOOPBACK_NODE)` builds
 * it (ephemeral, bound to 127.0.0.1, the local testnet's bootstrap), never on the public DHT.
 */
import HyperDHT from 'hyperdht'

export type Bootstrap = Array<{ host: string, port: number }>

/**
 * Options of every DHT node in the phase, in the parent and the children alike. Left to detect
 * it, an ephemeral node on loopback talking to one in another process often half-connects: in
 * scratch runs the connection came after 36–69 s or timed out in 3 of 4 tries (hyperdht 6.34).
 * `src/node/network.ts` sets the same for a loopback bootstrap.
 */
export const LOOPBACK_NODE = { firewalled: false }

/** In a child process, where the testnet object is not at hand: what `createNode` would build. */
export function loopbackNode (bootstrap: Bootstrap): HyperDHT {
  return new HyperDHT({ ephemeral: true, bootstrap, host: '127.0.0.1', ...LOOPBACK_NODE })
}
