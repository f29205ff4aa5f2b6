/**
 * Message requests (docs/DM.md, Delivery): a DM to someone whose scope does not include me only
 * arrives once they replicate my feed. While both are online and identified on the `shoal/feeds`
 * channel, my node announces the conversations waiting for them; theirs records a pending request
 * (primary state), which they accept (their node then tracks and replicates my device feeds) or
 * decline (later requests from me are ignored). Blocked identities never get this far.
 */
import b4a from 'b4a'
import EventEmitter from '#events'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'
import { identityToString, type FeedKey, type IdentityKey } from '../ids.js'
import type { MessageRequest } from '../swarm/message-requests.js'
import type { PeerSession } from '../swarm/peer-session.js'
import type { Replicator } from '../swarm/replicator.js'
import { DmStore, decodeConversation, decodeDm, decodeRequest, dmKeys, encodeRequest, type StoredRequest } from './dm-store.js'
import type { NodeState } from './node-state.js'

/** What the requests module needs from the node. */
export interface RequestsHost {
  state: NodeState
  identity: IdentityKey
  now: () => number
  addFeed: (feed: FeedKey, owner: IdentityKey) => Promise<void>
  /** Whether I block `identity`, as the views say now (the swarm's scope may lag behind a new block). */
  isBlocked: (identity: IdentityKey) => Promise<boolean>
}

const MAX_ENTRIES = 16

export class DmRequests extends EventEmitter {
  private readonly store: DmStore
  private replicator: Replicator | null = null
  private lock: Promise<void> = Promise.resolve()
  /** Requests dropped since open because I block their sender. */
  droppedBlocked = 0
  private readonly onPeer = (s: PeerSession): void => {
    if (s.remoteIdentity !== null) this.announce(s.remoteIdentity).catch(safetyCatch)
  }

  private readonly onRequest = (r: MessageRequest): void => { this.receive(r).catch(safetyCatch) }

  constructor (private readonly host: RequestsHost) {
    super()
    this.store = new DmStore(host.state)
  }

  /** Starts announcing and receiving requests on a replicator (the node joined a network). */
  attach (replicator: Replicator): void {
    this.detach()
    this.replicator = replicator
    replicator.on('peer', this.onPeer)
    replicator.on('request', this.onRequest)
  }

  detach (): void {
    this.replicator?.off('peer', this.onPeer)
    this.replicator?.off('request', this.onRequest)
    this.replicator = null
  }

  private exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn)
    this.lock = run.then(() => {}, () => {})
    return run
  }

  /**
   * Announces to `identity` (if connected and identified) the conversations with them in which
   * they have not written yet: their node may not be replicating my feed. Returns how many peers got it.
   */
  async announce (identity: IdentityKey): Promise<number> {
    const r = this.replicator
    if (r === null || b4a.equals(identity, this.host.identity)) return 0
    const waiting: Uint8Array[] = []
    for (const { value } of await this.store.scan(dmKeys.conversation(b4a.alloc(0)))) {
      const conv = decodeConversation(value)
      if (!conv.participants.some((p) => b4a.equals(p, identity))) continue
      const msgs = await this.store.scan(dmKeys.messagesOf(conv.id))
      if (msgs.some((m) => b4a.equals(decodeDm(m.value).author, identity))) continue
      waiting.push(conv.id)
      if (waiting.length === MAX_ENTRIES) break
    }
    return r.sendRequest(identity, waiting)
  }

  private receive (r: MessageRequest): Promise<void> {
    return this.exclusive(async () => {
      if (await this.host.isBlocked(r.identity)) { this.droppedBlocked++; return }
      const raw = await this.store.get(dmKeys.request(r.identity))
      const known = raw === null ? null : decodeRequest(raw)
      if (known?.status === 'declined') return
      if (known?.status === 'accepted') {
        for (const f of r.feeds) await this.host.addFeed(f, r.identity)
        return
      }
      const conversations = merge(known?.conversations ?? [], r.conversations)
      const feeds = merge(known?.feeds ?? [], r.feeds) as FeedKey[]
      const next: StoredRequest = { identity: r.identity, status: 'pending', at: known?.at ?? this.host.now(), conversations, feeds }
      await this.store.write([[dmKeys.request(r.identity), encodeRequest(next)]])
      this.emit('request', { identity: r.identity })
    })
  }

  /** Pending requests, the oldest first; those of someone I block now are left out (they come back on an unblock). */
  async pending (): Promise<StoredRequest[]> {
    const out: StoredRequest[] = []
    for (const { value } of await this.store.scan(dmKeys.request(b4a.alloc(0)))) {
      const r = decodeRequest(value)
      if (r.status === 'pending' && !(await this.host.isBlocked(r.identity))) out.push(r)
    }
    return out.sort((a, b) => a.at - b.at)
  }

  /** Accepts `identity`'s request: its device feeds are tracked (replicated and indexed from now on). BLOCKED while I block them. */
  async accept (identity: IdentityKey): Promise<void> {
    if (await this.host.isBlocked(identity)) throw ShoalError.BLOCKED(`you block ${identityToString(identity)}; unblock them first`)
    const r = await this.decide(identity, 'accepted')
    for (const f of r.feeds) await this.host.addFeed(f, identity)
  }

  /** Declines `identity`'s request: nothing of theirs is replicated, later requests are ignored. */
  async decline (identity: IdentityKey): Promise<void> {
    await this.decide(identity, 'declined')
  }

  private decide (identity: IdentityKey, status: 'accepted' | 'declined'): Promise<StoredRequest> {
    return this.exclusive(async () => {
      const raw = await this.store.get(dmKeys.request(identity))
      const known = raw === null ? null : decodeRequest(raw)
      if (known === null || known.status !== 'pending') throw ShoalError.UNKNOWN_MESSAGE(`no pending message request from ${identityToString(identity)}`)
      const next = { ...known, status }
      await this.store.write([[dmKeys.request(identity), encodeRequest(next)]])
      return next
    })
  }
}

function merge (a: Uint8Array[], b: Uint8Array[]): Uint8Array[] {
  const out = [...a]
  for (const x of b) if (!out.some((y) => b4a.equals(x, y)) && out.length < MAX_ENTRIES * 4) out.push(x)
  return out
}
