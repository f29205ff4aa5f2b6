/**
 * One connection's `shoal/feeds/v2` channel (see messages.ts and docs/SYNC.md): exchanges
 * knowledge proofs, reveals identities only to a peer that proved it knows one we share, then
 * exchanges wants and answers them with attested device-feed headers. Every message is charged
 * to the peer's budget; a peer over budget, or one that does not finish the handshake in time,
 * is dropped with a coded reason.
 */
import b4a from 'b4a'
import Protomux from 'protomux'
import safetyCatch from 'safety-catch'
import sodium from 'sodium-universal'
import type c from 'compact-encoding'
import { toHex, type IdentityKey } from '../ids.js'
import { ShoalError } from '../errors.js'
import {
  PROTOCOL, PROTOCOL_VERSION, WIRE_CAPS, have, identify, identifyPayload, knowledgeProofs, matchKnowledgeProofs, open, proofs, request, want,
  type Have, type Identify, type Open, type Proofs, type Request, type Want
} from './messages.js'
import { KeyIndex } from './key-index.js'
import { PeerBudget, type PeerLimits } from './peer-limits.js'

/** What a session needs from its replicator. */
export interface SessionHost {
  readonly identity: IdentityKey
  /** False while my scope is not computed yet: my proofs and matches then cover only my identity. */
  readonly scopeReady: boolean
  /**
   * Topic (hex) → identity of everything I want or hold, one map per scope computed (never
   * changed after), or null before the first: a narrow session matches the remote's proofs
   * against the identities a new scope added.
   */
  scopeTopics (): Map<string, IdentityKey> | null
  /** The identity of `topic` if it is one I want (in hop range, not blocked), else undefined. */
  wantedIdentity (topic: Uint8Array): IdentityKey | undefined
  readonly limits: PeerLimits
  signIdentify (payload: Uint8Array): Uint8Array
  isBlocked (identity: Uint8Array): boolean
  /** The identities I want or hold, me first, at most WIRE_CAPS.proofs of them (my proofs). */
  knownIdentities (): IdentityKey[]
  /** Every identity I want or hold, me first, uncapped: a remote's proofs are matched against these. */
  scopeIdentities (): IdentityKey[]
  /**
   * My want topics and their hex, me first, then the identities in `first` (at most
   * WIRE_CAPS.topics); with `only`, me and those of `first` alone.
   */
  wantList (first?: Map<string, IdentityKey>, only?: boolean): { topics: Uint8Array[], hex: string[] } | null
  /** Headers I hold for `topics`, which session `to` (if any) asked for. */
  headersFor (topics: Uint8Array[], to?: PeerSession): Promise<Uint8Array[]>
  acceptHeaders (headers: Uint8Array[], from: PeerSession): Promise<void>
  /** A message request from an identified peer (checked by the host). */
  acceptRequest (req: Request, from: PeerSession): Promise<void>
  onSessionOpen (session: PeerSession): void
  onSessionClose (session: PeerSession): void
  /** This side is closing the connection for `reason` (recorded in the recent drops). */
  onSessionDrop (session: PeerSession, reason: ShoalError): void
}

/** The parts of a Noise secret stream a session uses. */
export interface Connection {
  readonly handshakeHash: Uint8Array | null
  readonly remotePublicKey: Uint8Array | null
  readonly isInitiator: boolean
  userData: unknown
  destroy (err?: Error): void
  on (ev: string, fn: (...args: any[]) => void): unknown
}

export class PeerSession {
  /** The identity the remote proved (after `identify`), or null. */
  remoteIdentity: IdentityKey | null = null
  /** An identity both sides know, proven by the remote; set when we identified ourselves. */
  sharedIdentity: IdentityKey | null = null
  /** Topics the remote asked for in its latest want (hexed only when `wanted` is read). */
  private wantedTopics: Uint8Array[] = []
  private wantedHex: Set<string> | null = null
  /** Topics (hex) we ever asked this peer for; a header outside them is unsolicited. */
  readonly asked = new Set<string>()
  /**
   * Identities (hex) in my scope whose proofs the remote sent before I identified: it wants or
   * holds them, so my want list asks for them first (it is capped, and my scope may be larger).
   */
  readonly common = new Map<string, IdentityKey>()
  /** When this side learnt of the connection (ms), for eviction order. */
  readonly since = Date.now()
  private round = 0
  private answered = 0
  private waiters: Array<() => void> = []
  private closed = false
  private dropped = false
  private channelOpen = false
  /** My scope changed before the channel opened: my proofs are sent again once it does. */
  private proofsStale = false
  private remoteProofs: Uint8Array[] = []
  /**
   * The remote's latest proofs since I identified, while they must be matched against my scope
   * again: my scope was not known when I identified, or the session is narrow (then on every
   * scope change: an identity I start wanting may be one they named).
   */
  private provenList: Uint8Array[] | null = null
  /** The scope `provenList` was last matched against (null: none, or new proofs). */
  private matchedTopics: Map<string, IdentityKey> | null = null
  /**
   * The remote's proofs, when I identified, were a complete list (see `isComplete`): they name every
   * identity it wants or holds, so my wants name only those (and me), and grow with the identities
   * its later proofs and wants name (docs/SYNC.md, "The exchange", step 4).
   */
  private narrow = false
  /** The last proofs I sent were a complete list: the remote may ask me narrowly, so I send new ones on every scope change. */
  private sentComplete = false
  /** The proofs the remote would send for what I want or hold, findable by proof; per scope. */
  private expected: KeyIndex<IdentityKey> | null = null
  /** The remote's first proofs were matched with no index (see checkProofs). */
  private matchedOnce = false
  private channel: Protomux.Channel | null = null
  private proofsMessage: Protomux.Message<Proofs> | null = null
  private identifyMessage: Protomux.Message<Identify> | null = null
  private wantMessage: Protomux.Message<Want> | null = null
  private haveMessage: Protomux.Message<Have> | null = null
  private requestMessage: Protomux.Message<Request> | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly budget: PeerBudget
  private markOpened: () => void = () => {}
  /**
   * Resolves once the handshake is decided: both sides identified, or the channel opened and no
   * identity is shared, or the connection ended.
   */
  readonly opened: Promise<void> = new Promise<void>((resolve) => { this.markOpened = resolve })

  constructor (readonly conn: Connection, private readonly host: SessionHost) {
    this.budget = new PeerBudget(host.limits)
  }

  get publicKey (): Uint8Array | null {
    return this.conn.remotePublicKey
  }

  /** Both sides identified: wants and headers flow. */
  get ready (): boolean {
    return this.remoteIdentity !== null && this.sharedIdentity !== null && !this.closed
  }

  /** The connection ended (or this side dropped it). */
  get isClosed (): boolean {
    return this.closed
  }

  /** The remote proved it knows an identity I want or hold. */
  get proven (): boolean {
    return this.sharedIdentity !== null
  }

  /** Topics (hex) the remote asked for; unasked pushes go only there. */
  get wanted (): Set<string> {
    if (this.wantedHex === null) this.wantedHex = new Set(this.wantedTopics.map(toHex))
    return this.wantedHex
  }

  /** Opens the channel; a peer that has not finished the handshake by `limits.helloTimeoutMs` is dropped. */
  open (): void {
    this.timer = setTimeout(() => {
      this.timer = null
      if (!this.channelOpen) this.drop(ShoalError.PEER_TIMEOUT(`no ${PROTOCOL} channel opened within ${this.host.limits.helloTimeoutMs} ms`))
      else if (this.proven && this.remoteIdentity === null) this.drop(ShoalError.PEER_TIMEOUT(`no identify within ${this.host.limits.helloTimeoutMs} ms`))
    }, this.host.limits.helloTimeoutMs)
    this.conn.on('close', () => this.onclose())
    const hash = this.conn.handshakeHash
    if (hash === null) { this.drop(ShoalError.PEER_REJECTED('connection has no handshake hash')); return }
    const mux = Protomux.from(this.conn)
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      handshake: this.metered(open),
      onopen: (m: Open) => this.onopen(m),
      onclose: () => this.onchannelclose()
    })
    if (channel === null) { this.drop(ShoalError.PROTOCOL_ERROR(`a second ${PROTOCOL} channel on one connection`)); return }
    this.channel = channel
    this.proofsMessage = channel.addMessage({ encoding: this.metered(proofs), onmessage: (m: Proofs) => this.guard(() => this.onproofs(m.proofs)) })
    this.identifyMessage = channel.addMessage({ encoding: this.metered(identify), onmessage: (m: Identify) => this.guard(() => this.onidentify(m)) })
    this.wantMessage = channel.addMessage({ encoding: this.metered(want), onmessage: (m: Want) => this.guard(() => this.onwant(m)) })
    this.haveMessage = channel.addMessage({ encoding: this.metered(have), onmessage: (m: Have) => this.guard(() => this.onhave(m)) })
    this.requestMessage = channel.addMessage({ encoding: this.metered(request), onmessage: (m: Request) => this.guard(() => this.onrequest(m)) })
    channel.open({ version: PROTOCOL_VERSION, proofs: this.myProofs(hash) })
  }

  close (): void {
    this.channel?.close()
  }

  /** Closes the connection for `reason` and reports it once. */
  drop (reason: ShoalError): void {
    if (this.dropped) return
    this.dropped = true
    if (!this.closed) this.host.onSessionDrop(this, reason)
    this.conn.destroy(reason)
    this.onclose()
  }

  /** Sends our current want list; resolves when the peer has answered it (or the channel closed). */
  sendWant (): Promise<void> {
    this.rematch()
    const list = this.ready && this.wantMessage !== null ? this.host.wantList(this.common, this.narrow) : null
    if (list === null || this.wantMessage === null) return Promise.resolve()
    const round = ++this.round
    const { topics, hex } = list
    for (const h of hex) this.asked.add(h)
    this.wantMessage.send({ round, topics })
    return this.answeredUpTo(round)
  }

  /**
   * My scope changed: a remote that has not identified gets my new proofs (it may now find an
   * identity we share), and so does one that may ask me narrowly (my last proofs were complete);
   * if I have not found an identity we share, its latest proofs are checked again. (An open
   * session sends its new want first: these proofs must not delay its answer.)
   */
  reprove (): void {
    const hash = this.conn.handshakeHash
    if (this.closed || hash === null) return
    if (!this.channelOpen) { this.proofsStale = true; return } // the proofs I opened with are old: resent on open
    if (this.remoteIdentity === null || this.sentComplete) this.proofsMessage?.send({ proofs: this.myProofs(hash) })
    if (!this.proven) {
      this.expected = null
      this.matchedOnce = false // a new scope: its first match needs no index either
      this.checkProofs()
    }
    this.rematch()
  }

  /**
   * Matches the remote's proofs against the identities my scope added since the last match (all
   * of them if my scope was not known when I identified, or the proofs are new), so `common`
   * (what my want list asks first, or alone) names all it proved.
   */
  private rematch (): void {
    const hash = this.conn.handshakeHash
    const topics = this.host.scopeTopics()
    if (this.provenList === null || topics === null || hash === null || this.matchedTopics === topics) return
    // Only the identities the last match did not cover: a scope change costs a hash per identity added.
    const before = this.matchedTopics
    const ids: IdentityKey[] = []
    for (const h of topics.keys()) if (before === null || !before.has(h)) ids.push(topics.get(h)!)
    for (const id of matchKnowledgeProofs(hash, !this.conn.isInitiator, ids, this.provenList)) this.common.set(toHex(id), id as IdentityKey)
    this.matchedTopics = topics
    if (!this.narrow) this.provenList = null
  }

  /** Resolves when the handshake is decided and every want sent so far has been answered. */
  async settled (): Promise<void> {
    await this.opened
    return this.answeredUpTo(this.round)
  }

  push (headers: Uint8Array[]): void {
    if (!this.ready || this.haveMessage === null || headers.length === 0) return
    this.haveMessage.send({ round: 0, headers })
  }

  /** Sends a message request; only once both sides identified (never to a stranger). */
  sendRequest (req: Request): void {
    if (!this.ready || this.requestMessage === null) return
    this.requestMessage.send(req)
  }

  /** One entry this peer sent failed a check; throws PEER_ABUSE when over budget. */
  reject (): void {
    try {
      this.budget.reject()
    } catch (err) {
      this.drop(err as ShoalError)
      throw err
    }
  }

  private myProofs (hash: Uint8Array): Uint8Array[] {
    const ids = this.host.knownIdentities().slice(0, WIRE_CAPS.proofs)
    this.sentComplete = isComplete(ids.length)
    return knowledgeProofs(hash, this.conn.isInitiator, ids)
  }

  /** Charges every received message to the budget before it is decoded; a failure drops the peer. */
  private metered<T> (enc: c.Encoder<T>): c.Encoder<T> {
    return {
      preencode: enc.preencode,
      encode: enc.encode,
      decode: (s) => {
        try {
          this.budget.message(s.end - s.start)
          return enc.decode(s)
        } catch (err) {
          const coded = err instanceof ShoalError ? err : ShoalError.PROTOCOL_ERROR(`undecodable message: ${String((err as Error)?.message ?? err)}`)
          this.drop(coded)
          throw coded
        }
      }
    }
  }

  /** Runs a message handler; a coded failure (sync or async) drops the peer with it as the reason. */
  private guard (fn: () => Promise<void> | void): void {
    const fail = (err: unknown): void => {
      if (err instanceof ShoalError) this.drop(err)
      else safetyCatch(err)
    }
    try {
      fn()?.catch(fail)
    } catch (err) {
      fail(err)
    }
  }

  private async answeredUpTo (round: number): Promise<void> {
    while (!this.closed && this.answered < round) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  private onopen (m: Open): void {
    this.channelOpen = true
    if (this.proofsStale) {
      this.proofsStale = false
      this.reprove()
    }
    this.onproofs(m.proofs)
    if (!this.proven) this.markOpened()
  }

  private onproofs (list: Uint8Array[]): void {
    if (this.closed) return
    if (this.proven) { this.onlaterProofs(list); return }
    this.remoteProofs = list
    this.checkProofs()
  }

  /**
   * Identifies to the remote once its proofs name an identity I want or hold (the first one named
   * is the shared identity; all of them are kept in `common`). The expected proofs are hashed once
   * per scope, so a remote's list costs one lookup per entry.
   */
  private checkProofs (): void {
    const hash = this.conn.handshakeHash
    if (this.proven || hash === null || this.remoteProofs.length === 0) return
    if (this.expected === null && !this.matchedOnce) {
      // Most peers prove a shared identity in their first list: it is matched with a hash per
      // identity and no index. Only a peer that sends more lists gets the index, kept per scope.
      this.matchedOnce = true
      for (const id of matchKnowledgeProofs(hash, !this.conn.isInitiator, this.host.scopeIdentities(), this.remoteProofs)) this.common.set(toHex(id), id as IdentityKey)
    } else {
      if (this.expected === null) {
        const ids = this.host.scopeIdentities()
        this.expected = new KeyIndex(knowledgeProofs(hash, !this.conn.isInitiator, ids), ids)
      }
      for (const proof of this.remoteProofs) {
        const id = this.expected.get(proof)
        if (id !== undefined) this.common.set(toHex(id), id)
      }
    }
    const shared = this.common.values().next()
    if (shared.done === true) return
    this.sharedIdentity = shared.value
    this.narrow = isComplete(this.remoteProofs.length)
    this.matchedTopics = this.host.scopeReady ? this.host.scopeTopics() : null
    if (this.narrow || !this.host.scopeReady) this.provenList = this.remoteProofs
    this.remoteProofs = []
    this.expected = null
    this.identifyMessage?.send({ identity: this.host.identity, signature: this.host.signIdentify(identifyPayload(hash, this.conn.isInitiator)) })
    this.becomeReady()
  }

  /**
   * Proofs after I identified (a remote whose scope changed): a narrow session matches them (the
   * new ones are asked for at once); a list that is not complete ends narrowing (all is asked).
   * A session that is not narrow has nothing to learn from them.
   */
  private onlaterProofs (list: Uint8Array[]): void {
    if (!this.narrow) return
    this.narrow = isComplete(list.length)
    this.provenList = list
    this.matchedTopics = null
    const before = this.common.size
    this.rematch()
    if (this.common.size > before || !this.narrow) this.sendWant().catch(safetyCatch)
  }

  private onidentify (m: Identify): void {
    const hash = this.conn.handshakeHash
    if (this.closed || this.remoteIdentity !== null) throw ShoalError.PROTOCOL_ERROR('a second identify')
    const ok = hash !== null && sodium.crypto_sign_verify_detached(m.signature, identifyPayload(hash, !this.conn.isInitiator), m.identity)
    if (!ok) throw ShoalError.PEER_REJECTED('peer identify signature does not verify')
    if (this.host.isBlocked(m.identity)) throw ShoalError.PEER_REJECTED('peer identity is blocked')
    this.remoteIdentity = m.identity
    this.becomeReady()
  }

  private becomeReady (): void {
    if (!this.ready) return
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.host.onSessionOpen(this)
    this.sendWant().catch(safetyCatch)
    this.markOpened()
  }

  /** The channel is what the connection is for: once it closes, so does the connection. */
  private onchannelclose (): void {
    if (!this.channelOpen) this.drop(ShoalError.PROTOCOL_ERROR(`peer refused or closed the ${PROTOCOL} channel before opening it`))
    else this.conn.destroy()
    this.onclose()
  }

  private onclose (): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.markOpened()
    this.wake()
    this.host.onSessionClose(this)
  }

  private async onwant (m: Want): Promise<void> {
    // A peer that has not been told who I am gets an empty answer, so its rounds still settle.
    if (!this.ready) { this.haveMessage?.send({ round: m.round, headers: [] }); return }
    this.wantedTopics = m.topics
    this.wantedHex = null
    // Narrow: an identity it wants now that I want too (its scope grew; an older peer sends no new
    // proofs after identifying) is asked for from now on, so I also get its feeds once it has them.
    let grew = false
    if (this.narrow) {
      for (const topic of m.topics) {
        const id = this.host.wantedIdentity(topic)
        if (id === undefined) continue
        const h = toHex(id)
        if (!this.common.has(h)) { this.common.set(h, id); grew = true }
      }
    }
    const headers = await this.host.headersFor(m.topics, this)
    if (!this.closed) this.haveMessage?.send({ round: m.round, headers })
    if (grew) this.sendWant().catch(safetyCatch)
  }

  private async onhave (m: Have): Promise<void> {
    if (m.round > this.round) throw ShoalError.PROTOCOL_ERROR(`answer to round ${m.round}, never asked`)
    if (this.ready) await this.host.acceptHeaders(m.headers, this)
    else if (m.headers.length > 0) this.reject()
    if (m.round > this.answered) this.answered = m.round
    this.wake()
  }

  private async onrequest (m: Request): Promise<void> {
    if (!this.ready) throw ShoalError.PROTOCOL_ERROR('a request before both sides identified')
    await this.host.acceptRequest(m, this)
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }
}

/**
 * A proof list names every identity its sender wants or holds: it has 2 or more entries (a node
 * whose scope is not computed yet proves only itself) and fewer than the cap.
 */
function isComplete (proofs: number): boolean {
  return proofs >= 2 && proofs < WIRE_CAPS.proofs
}
