/**
 * Which network a node joins, from `--bootstrap` / `SHOAL_BOOTSTRAP`:
 *   unset            the public HyperDHT bootstrap (real users)
 *   set but empty    a USAGE error (never read as "public")
 *   host:port[,…]    a private or test DHT (bound to 127.0.0.1 when every host is loopback)
 *   none             no DHT: LAN only, peers found by multicast DNS
 *
 * The DHT Noise key is the storage's own (`keyPair`, stable across runs of one storage folder, see
 * docs/SYNC.md "Transports"): Hyperswarm never dials its own key, so a node does not dial the
 * announces its previous runs left on the DHT, and its new announces replace them. The LAN key is
 * random per run: a LAN announcement (instance id, port, Noise key) of one run cannot be linked to
 * another run, nor the LAN presence to the DHT one. A peer proves its identity inside the channel
 * (peer-session.ts hello), never by its Noise key.
 */
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import { ShoalError } from '../errors.js'
import { HyperswarmTransport } from '../swarm/hyperswarm-transport.js'
import type { Transport } from '../swarm/replicator.js'
import { LanDiscovery, type LanDiscoveryOptions } from '../swarm/lan.js'
import { LanTransport } from '../swarm/lan-transport.js'

/** How long a close spends unannouncing topics before it lets the rest expire on the DHT. */
const UNANNOUNCE_MS = 250

export type Bootstrap = { kind: 'public' } | { kind: 'none' } | { kind: 'private', nodes: Array<{ host: string, port: number }> }

export function parseBootstrap (value: string | undefined): Bootstrap {
  if (value === undefined) return { kind: 'public' }
  // Set but blank (an unset shell variable expanded, `--bootstrap ""`): never read as "the public
  // DHT", which would take a node meant for a private network onto the public one.
  if (value.trim() === '') throw ShoalError.USAGE('bootstrap is set but empty: give host:port[,host:port…] or "none", or unset SHOAL_BOOTSTRAP for the public DHT')
  if (value.trim() === 'none') return { kind: 'none' }
  const nodes = value.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^(.+):([0-9]{1,5})$/.exec(entry)
    const port = m ? Number(m[2]) : NaN
    if (!m || port < 1 || port > 65535) throw ShoalError.USAGE(`bootstrap must be host:port[,host:port…] or "none", got "${entry}"`)
    return { host: m[1], port }
  })
  if (nodes.length === 0) throw ShoalError.USAGE('bootstrap list is empty')
  return { kind: 'private', nodes }
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

export interface NetworkOptions {
  /** The DHT Noise key pair (the storage's, see Shoal.joinNetwork); random when absent. */
  keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** An existing DHT node to use (tests use testnet.createNode()). Wins over `bootstrap`. */
  dht?: HyperDHT
  bootstrap?: Bootstrap
  /** Multicast-DNS discovery on the local network (the default when bootstrap is "none"). */
  lan?: boolean
  /** LAN discovery settings (bind host, mDNS port); tests pin these. */
  lanOptions?: Omit<LanDiscoveryOptions, 'keyPair'>
}

export interface Network {
  transports: Transport[]
  /** Resolves once the DHT node is bootstrapped and LAN discovery listens. */
  ready (): Promise<void>
  /** Tears down whatever was opened, also while ready() is still pending. */
  close (): Promise<void>
}

/** Builds the transports at once; `ready()` then brings them up. */
export function createNetwork (opts: NetworkOptions): Network {
  const transports: Transport[] = []
  const starts: Array<() => Promise<void>> = []
  const closers: Array<() => Promise<void>> = []
  const bootstrap = opts.bootstrap ?? { kind: 'public' }
  if (opts.dht !== undefined || bootstrap.kind !== 'none') {
    let dht = opts.dht
    if (dht === undefined && bootstrap.kind === 'private') {
      const loopback = bootstrap.nodes.every((n) => isLoopback(n.host))
      // On loopback, bind 127.0.0.1, stay ephemeral and say we are reachable (we are): left to
      // guess, two processes' nodes here disagree on whether to holepunch and half-connect.
      dht = new HyperDHT({ bootstrap: bootstrap.nodes, ...(loopback ? { host: '127.0.0.1', ephemeral: true, firewalled: false } : {}) })
    }
    const swarm = new Hyperswarm({ keyPair: opts.keyPair ?? crypto.keyPair(), ...(dht ? { dht } : {}) })
    const transport = new HyperswarmTransport(swarm)
    // Unannounce what was announced for at most UNANNOUNCE_MS: announces expire on their own, and
    // a close must not take a DHT query per topic held.
    closers.push(() => transport.close(UNANNOUNCE_MS))
    // Announcing before the DHT node knows its neighbourhood stores the announce on too few nodes.
    starts.push(() => swarm.dht.fullyBootstrapped())
    transports.push(transport)
  }
  if (opts.lan ?? bootstrap.kind === 'none') {
    const lan = new LanDiscovery({ keyPair: crypto.keyPair(), ...opts.lanOptions })
    transports.push(new LanTransport(lan)) // listens before discovery starts
    closers.push(() => lan.close())
    starts.push(async () => {
      try {
        await lan.ready()
      } catch (err) {
        throw ShoalError.NETWORK_ERROR('cannot start LAN discovery', err)
      }
    })
  }
  let closed = false
  return {
    transports,
    async ready () {
      await Promise.all(starts.map((s) => s()))
      if (closed) throw ShoalError.CLOSED('network closed while starting')
    },
    async close () {
      closed = true
      for (const c of closers.reverse()) await c()
    }
  }
}
