/**
 * One connection's `shoal/feeds` channel (see messages.ts): proves identities, exchanges wants,
 * and answers them with attested device-feed headers.
 */
import b4a from 'b4a'
import Protomux from 'protomux'
import safetyCatch from 'safety-catch'
import sodium from 'sodium-universal'
import type { IdentityKey } from '../ids.js'
import { ShoalError } from '../errors.js'
import { PROTOCOL, have, hello, helloPayload, want, type Have, type Hello, type Want } from './messages.js'

/** What a session needs from its replicator. */
export interface SessionHost {
  readonly identity: IdentityKey
  signHello (payload: Uint8Array): Uint8Array
  isBlocked (identity: Uint8Array): boolean
  wantTopics (): Uint8Array[]
  headersFor (topics: Uint8Array[]): Promise<Uint8Array[]>
  acceptHeaders (headers: Uint8Array[], from: PeerSession): Promise<void>
  onSessionOpen (session: PeerSession): void
  onSessionClose (session: PeerSession): void
}

/** The parts of a Noise secret stream a session uses. */
export interface Connection {
  readonly handshakeHash: Uint8Array | null
  readonly remotePublicKey: Uint8Array | null
  userData: unknown
  destroy (err?: Error): void
  on (ev: string, fn: (...args: any[]) => void): unknown
}

export class PeerSession {
  remoteIdentity: IdentityKey | null = null
  /** Topics (hex) the remote asked for; unasked pushes go only there. */
  wanted = new Set<string>()
  private round = 0
  private answered = 0
  private waiters: Array<() => void> = []
  private closed = false
  private channel: Protomux.Channel | null = null
  private wantMessage: Protomux.Message<Want> | null = null
  private haveMessage: Protomux.Message<Have> | null = null
  private markOpened: () => void = () => {}
  /** Resolves once the channel opened (hello verified) or the connection ended. */
  readonly opened: Promise<void> = new Promise<void>((resolve) => { this.markOpened = resolve })

  constructor (readonly conn: Connection, private readonly host: SessionHost) {}

  get publicKey (): Uint8Array | null {
    return this.conn.remotePublicKey
  }

  /** Opens the channel; a peer that never answers the hello stops counting after `graceMs`. */
  open (graceMs = 10_000): void {
    const timer = setTimeout(() => this.markOpened(), graceMs)
    this.opened.then(() => clearTimeout(timer), safetyCatch)
    const mux = Protomux.from(this.conn)
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      handshake: hello,
      onopen: (h: Hello) => this.onopen(h),
      onclose: () => this.onclose()
    })
    if (channel === null) { this.markOpened(); return }
    this.channel = channel
    this.wantMessage = channel.addMessage({ encoding: want, onmessage: (m: Want) => this.onwant(m) })
    this.haveMessage = channel.addMessage({ encoding: have, onmessage: (m: Have) => this.onhave(m) })
    const hash = this.conn.handshakeHash
    if (hash === null) { this.markOpened(); this.conn.destroy(ShoalError.PEER_REJECTED('connection has no handshake hash')); return }
    channel.open({ version: 1, identity: this.host.identity, signature: this.host.signHello(helloPayload(hash)) })
  }

  close (): void {
    this.channel?.close()
  }

  /** Sends our current want list; resolves when the peer has answered it (or the channel closed). */
  sendWant (): Promise<void> {
    if (this.closed || this.wantMessage === null || this.remoteIdentity === null) return Promise.resolve()
    const round = ++this.round
    this.wantMessage.send({ round, topics: this.host.wantTopics() })
    return this.answeredUpTo(round)
  }

  /** Resolves when the channel is open and every want sent so far has been answered. */
  async settled (): Promise<void> {
    await this.opened
    return this.answeredUpTo(this.round)
  }

  push (headers: Uint8Array[]): void {
    if (this.closed || this.haveMessage === null || headers.length === 0) return
    this.haveMessage.send({ round: 0, headers })
  }

  private async answeredUpTo (round: number): Promise<void> {
    while (!this.closed && this.answered < round) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  private onopen (h: Hello): void {
    const hash = this.conn.handshakeHash
    const ok = h.version === 1 && hash !== null && sodium.crypto_sign_verify_detached(h.signature, helloPayload(hash), h.identity)
    if (!ok) { this.conn.destroy(ShoalError.PEER_REJECTED('peer hello signature does not verify')); return }
    if (this.host.isBlocked(h.identity)) { this.conn.destroy(ShoalError.PEER_REJECTED('peer identity is blocked')); return }
    this.remoteIdentity = h.identity
    this.host.onSessionOpen(this)
    this.sendWant().catch(safetyCatch)
    this.markOpened()
  }

  private onclose (): void {
    this.closed = true
    this.markOpened()
    this.wake()
    this.host.onSessionClose(this)
  }

  private async onwant (m: Want): Promise<void> {
    this.wanted = new Set(m.topics.map((t) => b4a.toString(t, 'hex')))
    const headers = await this.host.headersFor(m.topics)
    if (!this.closed) this.haveMessage?.send({ round: m.round, headers })
  }

  private async onhave (m: Have): Promise<void> {
    await this.host.acceptHeaders(m.headers, this)
    if (m.round > this.answered) this.answered = m.round
    this.wake()
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }
}
