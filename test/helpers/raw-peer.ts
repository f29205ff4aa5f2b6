import type { Test } from 'brittle'
import b4a from 'b4a'
import Protomux from 'protomux'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import type c from 'compact-encoding'
import type { Replicator, SyncResult } from '../../src/swarm/replicator.js'
import {
  PROTOCOL, have, identify, identifyPayload, knowledgeProof, open, proofs, want,
  type Have, type Identify, type Open, type Proofs, type Want
} from '../../src/swarm/messages.js'
import type { IdentityKeyPair } from '../../src/feeds/identity.js'
import sodium from 'sodium-universal'

/** A connected pair of Noise streams; `node` goes to the replicator, `peer` is driven by the test. */
export async function streamPair (t: Test): Promise<{ node: NoiseSecretStream, peer: NoiseSecretStream }> {
  const node = new NoiseSecretStream(false)
  const peer = new NoiseSecretStream(true)
  node.rawStream.pipe(peer.rawStream).pipe(node.rawStream)
  node.on('error', () => {})
  peer.on('error', () => {})
  t.teardown(() => { node.destroy(); peer.destroy() }, { order: 0 })
  await Promise.all([node.opened, peer.opened])
  return { node, peer }
}

/** Events a raw peer saw, in order. */
export interface RawEvents { open: Open | null, proofs: Uint8Array[][], identify: Identify[], want: Want[], have: Have[], closed: boolean }

/**
 * A hand-driven `shoal/feeds/v2` peer over a stream pair to `replicator` (or over any Noise
 * stream, e.g. a Hyperswarm connection, either side): what an independent client (or an attacker) could send. `protocol` and `handshake` override the channel's open.
 */
export class RawPeer {
  readonly seen: RawEvents = { open: null, proofs: [], identify: [], want: [], have: [], closed: false }
  readonly channel: Protomux.Channel
  readonly proofs: Protomux.Message<Proofs>
  readonly identify: Protomux.Message<Identify>
  readonly want: Protomux.Message<Want>
  readonly have: Protomux.Message<Have>
  private waiters: Array<() => void> = []

  constructor (readonly stream: NoiseSecretStream, opts: { protocol?: string, handshake?: c.Encoder<any> } = {}) {
    const mux = Protomux.from(stream)
    this.channel = mux.createChannel({
      protocol: opts.protocol ?? PROTOCOL,
      handshake: opts.handshake ?? open,
      onopen: (m: Open) => { this.seen.open = m; this.wake() },
      onclose: () => { this.seen.closed = true; this.wake() }
    }) as Protomux.Channel
    this.proofs = this.channel.addMessage({ encoding: proofs, onmessage: (m: Proofs) => { this.seen.proofs.push(m.proofs); this.wake() } })
    this.identify = this.channel.addMessage({ encoding: identify, onmessage: (m: Identify) => { this.seen.identify.push(m); this.wake() } })
    this.want = this.channel.addMessage({ encoding: want, onmessage: (m: Want) => { this.seen.want.push(m); this.wake() } })
    this.have = this.channel.addMessage({ encoding: have, onmessage: (m: Have) => { this.seen.have.push(m); this.wake() } })
    stream.on('close', () => { this.seen.closed = true; this.wake() })
  }

  static async connect (t: Test, replicator: Replicator, opts: { protocol?: string, handshake?: c.Encoder<any> } = {}): Promise<RawPeer> {
    const { node, peer } = await streamPair(t)
    replicator.connect(node)
    return new RawPeer(peer, opts)
  }

  get hash (): Uint8Array {
    return this.stream.handshakeHash as Uint8Array
  }

  /** Opens the channel proving knowledge of `known` identities. */
  openWith (known: Uint8Array[]): void {
    this.channel.open({ version: 2, proofs: known.map((id) => knowledgeProof(this.hash, this.stream.isInitiator, id)) })
  }

  /** Sends a valid identify for `keyPair`. */
  identifyAs (keyPair: IdentityKeyPair): void {
    const sig = b4a.alloc(64)
    sodium.crypto_sign_detached(sig, identifyPayload(this.hash, this.stream.isInitiator), keyPair.secretKey)
    this.identify.send({ identity: keyPair.publicKey, signature: sig })
  }

  /** Resolves once `check` holds (re-checked on every event). */
  async until (check: (seen: RawEvents) => boolean): Promise<void> {
    while (!check(this.seen)) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }
}

/**
 * Gives `r` two dropped peers and returns the sync that saw the first: a connection that never
 * opens the channel (PEER_TIMEOUT, within `sync`) and an old-version channel (PROTOCOL_ERROR).
 * The node must have joined with a short `helloTimeoutMs`.
 */
export async function twoDrops (t: Test, node: { sync (opts: { timeout: number }): Promise<SyncResult> }, r: Replicator): Promise<{ sync: SyncResult, silent: NoiseSecretStream }> {
  const { node: end, peer: silent } = await streamPair(t)
  r.connect(end)
  const sync = await node.sync({ timeout: 30_000 })
  const dropped = new Promise((resolve) => r.once('drop', resolve))
  const old = await RawPeer.connect(t, r, { protocol: 'shoal/feeds/v1' })
  old.channel.open({ version: 2, proofs: [] })
  await dropped
  return { sync, silent }
}
