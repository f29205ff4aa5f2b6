/**
 * Replicates everything in scope over one or more transports (Hyperswarm on a DHT, LAN
 * discovery): joins identity topics, runs Corestore replication and a `shoal/feeds` session on
 * every connection, keeps topics in step with the follow graph, and can report when it has
 * caught up with the peers it found.
 */
import b4a from 'b4a'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import { identityTopic } from '../caps.js'
import { ShoalError } from '../errors.js'
import { readHeader } from '../feeds/header.js'
import { decodeRecord } from '../feeds/schema.js'
import { feedToString, identityToString, toHex, type FeedKey, type IdentityKey } from '../ids.js'
import type { Views } from '../views/queries.js'
import { DropLog, type PeerDrop } from './drop-log.js'
import type { FeedIssue } from './feed-watch.js'
import { WIRE_CAPS, type Request } from './messages.js'
import { checkRequest } from './message-requests.js'
import { peerLimits, type PeerLimits } from './peer-limits.js'
import { PeerSession, type Connection, type SessionHost } from './peer-session.js'
import { DEFAULT_HOPS, computeScope, sameKeys, type Scope } from './scope.js'
import { describeUndelivered, nextProgress, undelivered, type Undelivered } from './delivery.js'
import { UploadCounter } from './upload-counter.js'
import { inGroups } from './in-groups.js'

/** What the replicator needs from the node (the Shoal object provides it). */
export interface SwarmHost {
  readonly identity: IdentityKey
  readonly feedKey: FeedKey
  readonly store: Corestore
  readonly views: Views
  signIdentity (payload: Uint8Array): Uint8Array
  /** Tracks a feed whose attested header names `owner`. */
  addFeed (feed: FeedKey, owner: IdentityKey): Promise<void>
  /** Tracked feeds whose attested header names `identity`. */
  feedsOfIdentity (identity: IdentityKey): FeedKey[]
  /** A feed refused in this run (oversize block, storage cap). */
  isRefused (feed: Uint8Array): boolean
  /** Stops holding and serving an identity's feeds (it was blocked). */
  dropIdentity (identity: IdentityKey): Promise<void>
  /** This device's feed or an open tracked feed, or null (a lazily closed feed is not open). */
  core (feed: Uint8Array): Hypercore | null
  /** A tracked feed's core, opening it if it was left closed; null for a feed not tracked. */
  openFeed (feed: Uint8Array): Promise<Hypercore | null>
  /** Every tracked feed besides this device's own, open or not. */
  readonly trackedFeeds: FeedKey[]
  /** trackedFeeds.length, without building the list. */
  readonly trackedCount: number
  /** Blocks held over every tracked feed (closed ones as indexed). */
  trackedBlocks (): number
  waitForIndexed (feed: Uint8Array, length: number): Promise<void>
  /** The open tracked feeds' cores besides this device's own. */
  trackedCores (): Hypercore[]
  on (ev: 'indexed', fn: (ev: { feed: Uint8Array }) => void): unknown
  off (ev: 'indexed', fn: (ev: { feed: Uint8Array }) => void): unknown
  /** Follow, unfollow, block or unblock records were indexed. */
  on (ev: 'contacts', fn: () => void): unknown
  off (ev: 'contacts', fn: () => void): unknown
}

/** A way to meet peers: Hyperswarm on a DHT, or LAN discovery. */
export interface Transport {
  /** Joins `topic` (32 bytes); `hex` is its hex when the caller has it (thousands joined at once). */
  join (topic: Uint8Array, hex?: string): void
  leave (topic: Uint8Array): void
  /** Resolves when discovery for the joined topics has run and found peers are connected. */
  flush (): Promise<void>
  /**
   * Resolves when `topics` (joined already) have had a first discovery round, ahead of any
   * queued ones, and the peers found are connected or failed. Costs follow `topics`, not all joins.
   */
  discover (topics: Uint8Array[]): Promise<void>
  /**
   * True if a lookup finds only the peers of the topics looked up (a DHT); false if one round finds
   * every peer there is (the LAN), so looking up more topics finds nobody new.
   */
  readonly perTopic: boolean
  /** Pauses background discovery (not `discover`'s) until the returned release is called. */
  hold? (): () => void
  /** Topics joined whose first discovery round has not finished. */
  readonly pending: number
  on (ev: 'connection', fn: (conn: Connection & { pipe?: unknown }) => void): unknown
  off (ev: 'connection', fn: (conn: Connection & { pipe?: unknown }) => void): unknown
}

const EXPECT_PEER_MS = 10_000
/**
 * Topics a sync looks up when no peer is found on my own topic: mine and a random sample of the
 * others (see findPeers); the rest are looked up in the background, a few at a time, for as long
 * as the node runs. Connected peers answer for every identity they hold either way.
 */
const SYNC_TOPICS = 16
const REFRESH_MS = 200
/** Feeds (or identities) a peer's list opens at a time: see acceptList. */
const OPEN_GROUP = 32


export interface ReplicatorOptions { hops?: number, transports?: Transport[], limits?: Partial<PeerLimits>, now?: () => number }
/** What a sync did: peers connected, identities held, feeds held, blocks downloaded and uploaded. */
export interface SyncResult {
  peers: number
  identities: number
  feeds: number
  blocks: number
  uploaded: number
  /** Topics in scope, and those not looked up once yet (still going on in the background). */
  topics: number
  pendingTopics: number
  /** Peers this node dropped during the sync, and why. */
  drops: PeerDrop[]
}


export type { PeerDrop }


export interface FeedStatus { key: string, local: number, remote: number, issues: FeedIssue[] }
export interface Status {
  peers: Array<{ publicKey: string | null, identity: string | null }>
  identities: Array<{ id: string, feeds: FeedStatus[] }>
  drops: PeerDrop[]
}

export class Replicator extends ReadyResource implements SessionHost {
  readonly hops: number
  readonly limits: PeerLimits
  private readonly now: () => number
  private readonly drops: DropLog
  private readonly transports: Transport[]
  private scope: Scope | null = null
  private readonly joined = new Set<string>()
  private readonly sessions = new Set<PeerSession>()
  /** Per session, the feeds it told us about that still wait for it to attach (see expectPeer). */
  private readonly expecting = new Map<PeerSession, Set<() => void>>()
  /** Per session, the feeds it offered (see offeredBy). */
  private readonly offered = new Map<PeerSession, Set<string>>()
  /** Per session, the feeds whose headers I sent it (hex), with when (ms): it may attach to them next. */
  private readonly served = new Map<PeerSession, Map<string, number>>()
  /** Sessions whose channel has not opened yet. */
  private readonly connecting = new Set<PeerSession>()
  private refreshing: Promise<void> | null = null
  private refreshAgain = false
  /** The scope is stale (see onIndexed). */
  private viewsChanged = true
  private readonly indexedFeeds = new Set<string>()
  /** onIndexed checks in flight: a refresh waits for them. */
  private readonly checks = new Set<Promise<void>>()
  /** Feed-list entries rejected: undecodable, unsolicited, or a signature that does not verify. */
  rejected = 0
  /** Attested feeds ignored because their identity already has `limits.feedsPerIdentity` feeds. */
  capped = 0
  private accepting: Promise<void> = Promise.resolve()
  /** Upload counters of the syncs running (a feed opened meanwhile is counted too). */
  private readonly uploads = new Set<UploadCounter>()

  private refreshTimer: ReturnType<typeof setTimeout> | null = null
  /** Indexing fires many times a second during a sync; the scope is recomputed at most every REFRESH_MS. */
  /**
   * The scope changes with contact records and with feed headers of identities not held yet,
   * never with posts: recomputing it costs a read per identity in range, so a feed indexed for the
   * first time in this run marks it stale only if its identity is not in the held set.
   */
  private readonly onIndexed = (ev: { feed: Uint8Array }): void => {
    const h = toHex(ev.feed)
    if (this.indexedFeeds.has(h)) return
    this.indexedFeeds.add(h)
    const check = this.host.views.identityOf(ev.feed).then((id) => {
      const scope = this.scope
      if (id === null || scope === null) { this.onContacts(); return }
      const hex = toHex(id)
      if (scope.held.has(hex)) return
      // Wanted already (its topic is joined, it is not blocked): now held too, and nothing else
      // changes. A first sync of N followed identities would otherwise recompute the whole
      // scope (a follows scan per identity in range) about once per REFRESH_MS until all N are indexed.
      if (scope.want.has(hex)) scope.held.set(hex, id)
      else this.onContacts()
    }, safetyCatch).finally(() => this.checks.delete(check))
    this.checks.add(check)
  }

  private readonly onContacts = (): void => {
    this.viewsChanged = true
    if (this.refreshTimer !== null || this.closing) return
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null
      this.refresh().catch(safetyCatch)
    }, REFRESH_MS)
  }
  private readonly onConnection = (conn: Connection): void => { this.connect(conn) }

  constructor (private readonly host: SwarmHost, opts: ReplicatorOptions = {}) {
    super()
    this.hops = opts.hops ?? DEFAULT_HOPS
    this.limits = peerLimits(opts.limits)
    this.now = opts.now ?? Date.now
    this.drops = new DropLog(this.now)
    this.transports = opts.transports ?? []
  }

  get identity (): IdentityKey {
    return this.host.identity
  }

  /** False until the first scope is computed (a handshake meanwhile knows only my identity). */
  get scopeReady (): boolean {
    return this.scope !== null
  }

  /** Topic (hex) → identity of the current scope (a new map per scope computed), or null before the first. */
  scopeTopics (): Map<string, IdentityKey> | null {
    return this.scope?.topics ?? null
  }

  /** The identity of `topic` if I want it (in hop range, not blocked), else undefined. */
  wantedIdentity (topic: Uint8Array): IdentityKey | undefined {
    const id = this.scope?.byTopic.get(topic)
    return id !== undefined && this.scope?.want.has(toHex(id)) === true ? id : undefined
  }

  protected override async _open (): Promise<void> {
    for (const t of this.transports) t.on('connection', this.onConnection)
    this.host.on('indexed', this.onIndexed)
    this.host.on('contacts', this.onContacts)
    // My topic needs no scope: its first round runs while the scope is computed (a read per
    // identity in range), so a sync right after joining finds it done.
    const mine = identityTopic(this.host.identity)
    this.joined.add(toHex(mine))
    for (const t of this.transports) t.join(mine)
    await this.refresh()
  }

  protected override async _close (): Promise<void> {
    this.host.off('indexed', this.onIndexed)
    this.host.off('contacts', this.onContacts)
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer)
    for (const t of this.transports) t.off('connection', this.onConnection)
    while (this.refreshing) await this.refreshing
    for (const waits of this.expecting.values()) for (const release of waits) release()
    this.expecting.clear()
    for (const s of [...this.sessions, ...this.connecting]) s.conn.destroy()
    this.sessions.clear()
    this.connecting.clear()
  }

  /** Replicates over one connection (from a transport, or a stream a test made). */
  connect (conn: Connection): void {
    if (this.closing) { conn.destroy(); return }
    this.emit('connection', conn)
    conn.on('error', safetyCatch)
    if (!this.makeRoom()) {
      const reason = ShoalError.PEER_LIMIT(`${this.limits.maxPeers} connections, all with a shared identity`)
      this.recordDrop(conn.remotePublicKey, null, reason)
      conn.destroy(reason)
      return
    }
    const session = new PeerSession(conn, this)
    this.connecting.add(session)
    // The shoal/feeds channel opens before Corestore attaches every open core (one channel open
    // each): with thousands of feeds held it would otherwise wait behind all of them.
    session.open()
    if (this.scope !== null) { this.replicateBlocks(conn); return }
    // A peer can reach us before we know our scope (computing it reads every identity in range):
    // the handshake runs meanwhile, proving only me; blocks flow once the scope is known and the
    // first refresh has dropped blocked identities (their sessions and their feeds).
    this.refresh().then(() => {
      if (!session.isClosed && !this.closing) this.replicateBlocks(conn)
    }, (err) => { safetyCatch(err); conn.destroy() })
  }

  private replicateBlocks (conn: Connection): void {
    this.host.store.replicate(conn)
    this.emit('replicating', conn)
  }

  /** The scope, computed first if a connection's handshake got here before it. */
  private async scoped (): Promise<Scope> {
    if (this.scope === null) await this.refresh()
    return this.current
  }

  /**
   * At the connection limit, closes the oldest connection that has not proven a shared identity
   * (still in its handshake, or proved none), so peers with identities I want always get in.
   * False when every connection proved one.
   */
  private makeRoom (): boolean {
    const all = [...this.connecting, ...this.sessions]
    if (all.length < this.limits.maxPeers) return true
    const victim = all.filter((s) => !s.proven).sort((a, b) => a.since - b.since)[0]
    if (victim === undefined) return false
    victim.drop(ShoalError.PEER_LIMIT(`evicted at ${this.limits.maxPeers} connections: proved no shared identity`))
    return true
  }

  /** Joins a topic that is not an identity's (a room's discovery key) on every transport. */
  joinTopic (topic: Uint8Array): void {
    for (const t of this.transports) t.join(topic)
  }

  /** Resolves when every topic joined (room topics too) has been announced and looked up once. */
  async flushTopics (): Promise<void> {
    await Promise.all(this.transports.map((t) => t.flush()))
  }

  /** Runs the first lookup of `topics` (joined already) now, ahead of queued identity topics. */
  async discoverTopics (topics: Uint8Array[]): Promise<void> {
    await Promise.all(this.transports.map((t) => t.discover(topics)))
  }

  /** The Hyperswarm of the DHT transport, or null on the LAN only (the blind-pairing rendezvous uses it). */
  hyperswarm (): unknown | null {
    for (const t of this.transports) if ('swarm' in t) return (t as { swarm: unknown }).swarm
    return null
  }

  /** Leaves a topic joined with joinTopic. */
  leaveTopic (topic: Uint8Array): void {
    for (const t of this.transports) t.leave(topic)
  }

  /** Every connection the Corestore replicates on (handshake running or done). */
  connections (): Connection[] {
    return [...this.connecting, ...this.sessions].map((s) => s.conn)
  }

  /** Connections not yet identified both ways (handshake running, or no shared identity). */
  get pending (): PeerSession[] {
    return [...this.connecting]
  }

  onSessionDrop (session: PeerSession, reason: ShoalError): void {
    this.recordDrop(session.publicKey, session.remoteIdentity, reason)
  }

  private recordDrop (publicKey: Uint8Array | null, identity: Uint8Array | null, reason: ShoalError): void {
    this.emit('drop', this.drops.add(publicKey, identity, reason))
  }

  /** The most recent connections this node closed, oldest first (at most MAX_DROPS). */
  recentDrops (): PeerDrop[] {
    return this.drops.since()
  }

  // --- scope ---------------------------------------------------------------------------

  /** Recomputes the scope from the views and brings topics, feeds and wants in line. */
  refresh (): Promise<void> {
    if (this.refreshing) { this.refreshAgain = true; return this.refreshing }
    this.refreshing = this.runRefresh().finally(() => { this.refreshing = null })
    return this.refreshing
  }

  private async runRefresh (): Promise<void> {
    do {
      this.refreshAgain = false
      if (this.closing && this.opened) return
      while (this.checks.size > 0) await Promise.all(this.checks)
      if (!this.viewsChanged && this.scope !== null) return
      this.viewsChanged = false
      const prev = this.scope
      const next = await computeScope(this.host.views, this.host.identity, this.hops, prev)
      this.scope = next
      // Joined in this order (transports look topics up a few at a time): mine first, the rest
      // shuffled so that nodes that run briefly do not look up the same few every time.
      // By identity hex (the scope's own strings): no entry is made per identity.
      const mine = toHex(this.host.identity)
      const fresh: string[] = []
      for (const h of next.topicHexOf.keys()) {
        if (this.joined.has(next.topicHexOf.get(h)!)) continue
        if (h === mine) this.joinScopeTopic(next, h)
        else fresh.push(h)
      }
      for (const h of shuffle(fresh)) this.joinScopeTopic(next, h)
      for (const h of this.joined) { // deleting the entry visited is safe in a Set's iteration
        if (next.topics.has(h)) continue
        this.joined.delete(h)
        for (const t of this.transports) t.leave(b4a.from(h, 'hex'))
      }
      for (const b of next.blocked) {
        if (prev === null || !prev.blocked.has(b)) await this.host.dropIdentity(b4a.from(b, 'hex') as IdentityKey)
      }
      for (const s of [...this.sessions, ...this.connecting]) {
        if (s.remoteIdentity !== null && next.blocked.has(toHex(s.remoteIdentity))) s.conn.destroy()
      }
      if (prev === null || !sameKeys(prev.topics, next.topics)) {
        for (const s of this.sessions) {
          s.sendWant().catch(safetyCatch)
          s.reprove() // after the want: a remote that asks me narrowly needs my new proofs
        }
        for (const s of this.connecting) s.reprove()
      }
    } while (this.refreshAgain)
  }

  /** Joins the topic of the scope's identity `h` (hex) on every transport. */
  private joinScopeTopic (scope: Scope, h: string): void {
    const topicHex = scope.topicHexOf.get(h)!
    const topic = scope.topicOf.get(h)!
    this.joined.add(topicHex)
    for (const t of this.transports) t.join(topic, topicHex)
  }

  private get current (): Scope {
    if (this.scope === null) throw ShoalError.CLOSED('replicator is not open')
    return this.scope
  }

  isBlocked (identity: Uint8Array): boolean {
    return this.scope?.blocked.has(toHex(identity)) ?? false
  }

  /**
   * Topics of my want set, at most WIRE_CAPS.topics: me first, then those of `first` (identities
   * a peer proved it wants or holds: the ones it can answer for), then the rest. With more
   * follows than the cap, a peer is still asked for everything it can have. (A narrow session
   * asks with wantList's `only`.)
   */
  wantTopics (first: Map<string, IdentityKey> = new Map()): Uint8Array[] {
    return this.wantList(first)?.topics ?? []
  }

  /**
   * wantTopics, with each topic's hex (from the scope: a want list hashes and encodes nothing);
   * with `only`, me and the wanted identities of `first` alone (a peer whose proofs were complete).
   */
  wantList (first: Map<string, IdentityKey> = new Map(), only = false): { topics: Uint8Array[], hex: string[] } | null {
    if (this.scope === null) return null // the first refresh sends every session its want list
    const { want, topicOf, topicHexOf } = this.scope
    const topics: Uint8Array[] = []
    const hex: string[] = []
    const seen = new Set<string>()
    const add = (h: string, id: IdentityKey): void => {
      if (seen.has(h) || topics.length >= WIRE_CAPS.topics) return
      seen.add(h)
      const topic = topicOf.get(h) ?? identityTopic(id)
      topics.push(topic)
      hex.push(topicHexOf.get(h) ?? toHex(topic))
    }
    add(toHex(this.host.identity), this.host.identity)
    for (const [h, id] of first) if (want.has(h)) add(h, id)
    if (only) return { topics, hex }
    for (const [h, id] of want) {
      if (topics.length >= WIRE_CAPS.topics) break
      add(h, id)
    }
    return { topics, hex }
  }

  /** Identities I want or hold, me first, at most WIRE_CAPS.proofs (what knowledge proofs cover). */
  knownIdentities (): IdentityKey[] {
    const out: IdentityKey[] = [this.host.identity]
    if (this.scope === null) return out // the first refresh sends the rest (reprove)
    const mine = toHex(identityTopic(this.host.identity))
    for (const [h, id] of this.scope.topics) {
      if (out.length >= WIRE_CAPS.proofs) break
      if (h !== mine) out.push(id)
    }
    return out
  }

  /** Every identity I want or hold, me first (what a remote's proofs are matched against). */
  scopeIdentities (): IdentityKey[] {
    if (this.scope === null) return [this.host.identity] // the first refresh checks again (reprove)
    const out: IdentityKey[] = [this.host.identity]
    for (const id of this.scope.topics.values()) if (!b4a.equals(id, this.host.identity)) out.push(id)
    return out
  }

  /** Signs a session's identify payload with the identity key. */
  signIdentify (payload: Uint8Array): Uint8Array {
    return this.host.signIdentity(payload)
  }

  /**
   * Attested headers of the feeds I hold of the identities of `topics` (32 bytes each; others name
   * nobody), which session `to` (if any) asked for: it may attach to those feeds next (see awaits).
   */
  async headersFor (topics: Uint8Array[], to?: PeerSession): Promise<Uint8Array[]> {
    const scope = await this.scoped()
    const ids: IdentityKey[] = []
    for (const topic of topics) {
      const id = scope.byTopic.get(topic)
      if (id !== undefined && !this.isBlocked(id)) ids.push(id)
    }
    // OPEN_GROUP identities at a time (see acceptList): a peer waits for the whole answer.
    const sessions = to === undefined ? [] : [to]
    return (await inGroups(ids, OPEN_GROUP, (id) => this.headersOf(id, sessions))).flat()
  }

  /**
   * Headers of the feeds I hold of `identity`, each opened, for the sessions `to`: each feed is
   * marked as sent to them (awaits) before it is opened, so no idle close takes it meanwhile.
   */
  private async headersOf (identity: IdentityKey, to: PeerSession[]): Promise<Uint8Array[]> {
    const feeds = await this.host.views.feedsOf(identity)
    const blocks = await Promise.all(feeds.map(async (feed) => {
      const hex = toHex(feed)
      for (const s of to) this.sentTo(s).set(hex, Date.now())
      const core = await this.openTracked(feed)
      return core === null ? null : await core.get(0, { wait: false })
    }))
    return blocks.filter((b): b is Uint8Array => b !== null)
  }

  /**
   * Tracks the new feeds a peer listed, checking each entry cheap-to-expensive: shape (it decodes
   * as a header), scope (its identity is one I asked this peer for, still wanted and not blocked),
   * already known, the per-identity feed cap, and only then the signature. An undecodable,
   * unsolicited or forged entry counts against the peer's rejection budget; over it, the peer is
   * dropped (PEER_ABUSE thrown from here).
   */
  acceptHeaders (headers: Uint8Array[], from: PeerSession): Promise<void> {
    // One list at a time: the per-identity cap is counted over feeds that earlier lists added.
    const run = this.accepting.then(() => this.acceptList(headers, from))
    this.accepting = run.catch(() => {})
    return run
  }

  private async acceptList (headers: Uint8Array[], from: PeerSession): Promise<void> {
    const added = new Map<string, IdentityKey>()
    const reject = (err: ShoalError): void => {
      this.rejected++
      this.emit('rejected', { from: from.publicKey, reason: err.code })
      from.reject()
    }
    // The checks that read nothing, in list order.
    const entries: Array<{ block: Uint8Array, identity: IdentityKey, idHex: string, feed: FeedKey, feedHex: string }> = []
    const listed = new Set<string>()
    for (const block of headers) {
      if (from.isClosed) return
      let identity: IdentityKey
      let feed: FeedKey
      try {
        const rec = decodeRecord(block)
        if (rec.type !== 'header') throw ShoalError.INVALID_FEED_HEADER('feed list entry is not a header')
        identity = rec.identity
        feed = rec.feed
      } catch (err) {
        if (!(err instanceof ShoalError)) throw err
        reject(err)
        continue
      }
      if (!from.asked.has(toHex(identityTopic(identity)))) { reject(ShoalError.PROTOCOL_ERROR('header of an identity never asked for')); continue }
      const scope = this.current
      const idHex = toHex(identity)
      if (!scope.want.has(idHex) || scope.blocked.has(idHex)) continue
      if (b4a.equals(feed, this.host.feedKey) || this.host.isRefused(feed)) continue
      const feedHex = toHex(feed)
      if (listed.has(feedHex)) continue // listed twice: the first entry stands
      listed.add(feedHex)
      entries.push({ block, identity, idHex, feed, feedHex })
    }
    // A tracked feed left closed opens here (this peer offered it for an identity I want), and is
    // marked offered as soon as it is open, so the idle closer leaves it. The opens, and the adds
    // below, run OPEN_GROUP at a time: each is a few storage round trips, and one after another
    // 100 new feeds took about 2 s to add, while their downloads waited.
    const held = await inGroups(entries, OPEN_GROUP, async (e) => {
      const known = await this.openTracked(e.feed)
      if (known !== null) {
        this.offeredBy(from).add(e.feedHex)
        // Held already: a sync's update of it must still wait for this peer to attach to it.
        if (!(known.peers as Array<{ stream: unknown }>).some((p) => p.stream === from.conn)) this.expectPeer(known, from)
      }
      return known
    })
    // In list order: the per-identity cap counts the feeds this list adds, then the signature.
    const fresh: typeof entries = []
    const adding = new Map<string, number>()
    for (let i = 0; i < entries.length; i++) {
      if (from.isClosed) return
      const e = entries[i]
      if (held[i] !== null) continue
      const pending = adding.get(e.idHex) ?? 0
      if (this.host.feedsOfIdentity(e.identity).length + pending >= this.limits.feedsPerIdentity) { this.capped++; continue }
      try {
        readHeader(e.block, e.feed)
      } catch (err) {
        if (!(err instanceof ShoalError)) throw err
        reject(err)
        continue
      }
      adding.set(e.idHex, pending + 1)
      this.offeredBy(from).add(e.feedHex)
      fresh.push(e)
    }
    await inGroups(fresh, OPEN_GROUP, async (e) => {
      // Checked again at its turn: the peer may have left, or the user blocked or unfollowed the
      // identity (its feeds dropped already) while earlier groups were added.
      if (from.isClosed || this.isBlocked(e.identity) || !this.current.want.has(e.idHex)) return
      await this.host.addFeed(e.feed, e.identity)
      const core = this.host.core(e.feed)
      if (core !== null) this.expectPeer(core, from)
      added.set(e.idHex, e.identity)
    })
    this.emit('accepted', { from, entries: headers.length, added: added.size })
    for (const id of added.values()) {
      const topic = toHex(identityTopic(id))
      const to = [...this.sessions].filter((s) => s !== from && s.wanted.has(topic))
      if (to.length === 0) continue
      const headers = await this.headersOf(id, to)
      for (const s of to) s.push(headers)
    }
  }

  /**
   * A tracked feed's core, opened if it was left closed. Called only for feeds a peer offered
   * or whose identity a peer asked for (and mine): the feeds held but wanted by no peer found stay
   * closed, so neither Corestore replication nor close does any work for them.
   */
  private async openTracked (feed: Uint8Array): Promise<Hypercore | null> {
    const core = this.host.core(feed) ?? await this.host.openFeed(feed)
    if (core !== null) for (const u of this.uploads) u.watch([core])
    return core
  }

  /**
   * A peer just told us about this feed, so it holds it: until that peer attaches to the core
   * (or leaves, or a grace period passes), updates of the core wait for it instead of
   * concluding that nobody has any blocks.
   */
  private expectPeer (core: Hypercore, from: PeerSession): void {
    if (from.isClosed) return // gone: onSessionClose released its waits already, none may start now
    const done = core.findingPeers()
    let pending = this.expecting.get(from)
    if (pending === undefined) this.expecting.set(from, pending = new Set())
    const waits = pending
    const release = (): void => {
      if (!waits.delete(release)) return
      clearTimeout(timer)
      core.off('peer-add', release)
      done()
    }
    const timer = setTimeout(release, EXPECT_PEER_MS)
    core.on('peer-add', release)
    waits.add(release)
  }

  /**
   * A message request from an identified peer: checked (a bad one counts against its budget)
   * and emitted as `request` unless its sender is in my scope already or blocked.
   */
  async acceptRequest (req: Request, from: PeerSession): Promise<void> {
    const sender = from.remoteIdentity
    if (sender === null) return
    let checked
    try {
      checked = checkRequest(req, sender)
    } catch (err) {
      if (!(err instanceof ShoalError)) throw err
      this.rejected++
      from.reject()
      return
    }
    const scope = await this.scoped()
    if (this.isBlocked(sender) || scope.want.has(toHex(sender))) return
    this.emit('request', checked)
  }

  /** Sends a message request naming `conversations` to every identified session of `identity`; how many got it. */
  async sendRequest (identity: IdentityKey, conversations: Uint8Array[]): Promise<number> {
    if (conversations.length === 0) return 0
    const to = [...this.sessions].filter((s) => s.ready && s.remoteIdentity !== null && b4a.equals(s.remoteIdentity, identity))
    const headers = await this.headersOf(this.host.identity, to)
    let sent = 0
    for (const s of to) {
      s.sendRequest({ conversations: conversations.slice(0, WIRE_CAPS.requestConversations), headers: headers.slice(0, WIRE_CAPS.requestFeeds) })
      sent++
    }
    return sent
  }

  onSessionOpen (session: PeerSession): void {
    this.connecting.delete(session)
    this.sessions.add(session)
    this.emit('peer', session)
  }

  /**
   * Feeds (hex) a session offered in its have answers: the feeds a sync waits on. A session that
   * closed gets a set kept nowhere (onSessionClose dropped its list: none is made again).
   */
  private offeredBy (session: PeerSession): Set<string> {
    if (session.isClosed) return new Set()
    let set = this.offered.get(session)
    if (set === undefined) this.offered.set(session, set = new Set())
    return set
  }

  /** The feeds (hex) whose headers were sent to `session`, with when; as offeredBy for a closed session. */
  private sentTo (session: PeerSession): Map<string, number> {
    if (session.isClosed) return new Map()
    let sent = this.served.get(session)
    if (sent === undefined) this.served.set(session, sent = new Map())
    return sent
  }

  onSessionClose (session: PeerSession): void {
    this.connecting.delete(session)
    const released = this.offered.get(session) // a sent header's feed needs none: closeIfIdle keeps it as busy, not active
    this.offered.delete(session)
    this.served.delete(session)
    // Feeds it told us about stop waiting for it.
    for (const release of this.expecting.get(session) ?? []) release()
    this.expecting.delete(session)
    if (this.sessions.delete(session)) this.emit('peer-close', session)
    if (released !== undefined && released.size > 0) this.emit('released', [...released])
  }

  /**
   * Whether a connected peer offered the tracked feed `hex`: it holds it, so a sync waits on it
   * and its new blocks come over the open core. The node keeps such a feed open; once no
   * connected peer does (`released` lists the feeds of a closed session), it may close it when idle.
   */
  offers (hex: string): boolean {
    for (const feeds of this.offered.values()) if (feeds.has(hex)) return true
    return false
  }

  /**
   * Whether the header of the tracked feed `hex` was sent to a connected peer in the last
   * EXPECT_PEER_MS: that peer may attach to it next, so the node keeps it open until then (a
   * serving node that closed such feeds left the peer knowing their lengths with no block to
   * fetch). Older entries are dropped as they are read.
   */
  awaits (hex: string): boolean {
    const now = Date.now()
    for (const sent of this.served.values()) {
      const at = sent.get(hex)
      if (at === undefined) continue
      if (now - at < EXPECT_PEER_MS) return true
      sent.delete(hex)
    }
    return false
  }

  /** Topics (hex) currently joined on the transports. */
  get joinedTopics (): Set<string> {
    return new Set(this.joined)
  }

  get peers (): PeerSession[] {
    return [...this.sessions]
  }

  // --- catching up ---------------------------------------------------------------------

  /** Resolves when every topic in scope has been announced and looked up once. */
  async flush (): Promise<void> {
    await this.refresh()
    await Promise.all(this.transports.map((t) => t.flush()))
  }

  /**
   * Finds peers, exchanges feed lists and downloads every feed in scope until nothing new turns
   * up, then waits until every connected peer that wants my identity holds all of my identity's
   * feeds I hold up to their length here, and resolves with what was done (blocks downloaded and
   * uploaded). Rejects with SYNC_TIMEOUT, saying per peer what is still missing, if that takes
   * longer than `timeout` ms.
   */
  async sync (opts: { timeout?: number } = {}): Promise<SyncResult> {
    const timeout = opts.timeout ?? 60_000
    const before = this.localBlocks()
    const started = this.now()
    const uploads = new UploadCounter()
    this.uploads.add(uploads)
    let waiting: Undelivered[] = []
    const where: CatchUpStep = { step: () => 'starting' }
    let timer: ReturnType<typeof setTimeout> | null = null
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const missing = waiting.length > 0 ? `: ${describeUndelivered(waiting)}` : ` (still finding peers and downloading: ${where.step()})`
        reject(ShoalError.SYNC_TIMEOUT(`not caught up after ${Math.round(timeout / 1000)} s${missing}`))
      }, timeout)
    })
    expired.catch(safetyCatch)
    const run = async (): Promise<void> => {
      uploads.watch(this.allCores())
      await this.catchUp(where)
      uploads.watch(this.allCores())
      await this.delivered((list) => { waiting = list })
    }
    try {
      await Promise.race([run(), expired])
    } finally {
      if (timer !== null) clearTimeout(timer)
      this.uploads.delete(uploads)
      uploads.stop()
    }
    const result = this.summary()
    return { ...result, blocks: this.localBlocks() - before, uploaded: uploads.count, drops: this.drops.since(started) }
  }

  /**
   * Resolves when every connected peer that wants my identity holds every device feed of my
   * identity that I hold, up to its length here (Hypercore's per-peer remote state); `report`
   * hears what is still missing after each check.
   */
  private async delivered (report: (missing: Undelivered[]) => void): Promise<void> {
    const topic = toHex(identityTopic(this.host.identity))
    while (!this.closing) {
      const cores = await this.myCores()
      const missing = undelivered(this.sessions, topic, cores)
      report(missing)
      if (missing.length === 0) return
      await nextProgress(cores, this)
    }
  }

  /** This device's feed and every other device feed of my identity that I hold. */
  private async myCores (): Promise<Hypercore[]> {
    const out = new Set<Hypercore>()
    const own = this.host.core(this.host.feedKey)
    if (own !== null) out.add(own)
    for (const feed of await this.host.views.feedsOf(this.host.identity)) {
      const core = await this.openTracked(feed)
      if (core !== null) out.add(core)
    }
    return [...out]
  }

  private allCores (): Hypercore[] {
    const own = this.host.core(this.host.feedKey)
    return own === null ? this.host.trackedCores() : [own, ...this.host.trackedCores()]
  }

  /** Catches up with the peers found; `where` says which step it is in (for this sync's SYNC_TIMEOUT). */
  private async catchUp (where: CatchUpStep): Promise<void> {
    where.step = () => 'refreshing the scope'
    await this.refresh()
    // Background lookups wait while this sync finds its peers and catches up with what they
    // offered in its first round (a first sync that downloads for minutes holds them that long).
    const releases = this.transports.map((t) => t.hold?.() ?? (() => {}))
    const release = (): void => { for (const r of releases) r() }
    try {
      await this.catchUpRounds(where, await this.findPeers(where), release)
    } finally {
      release()
    }
  }

  /** catchUp's rounds over the topics findPeers looked up; `firstDone` is called after round 0. */
  private async catchUpRounds (where: CatchUpStep, batch: Uint8Array[], firstDone: () => void): Promise<void> {
    for (let round = 0; ; round++) {
      if (round === 1) firstDone()
      await this.refresh()
      if (round > 0) {
        where.step = () => `round ${round}: discovering ${batch.length} topics`
        await Promise.all(this.transports.map((t) => t.discover(batch)))
      }
      where.step = () => `round ${round}: waiting for ${peerCount(this.sessions.size + this.connecting.size)} to answer wants`
      await this.settled()
      // Counted and compared, not copied: both grow with the follows held.
      const feedsBefore = this.host.trackedCount
      const scopeBefore = this.current
      const feeds = this.offeredCores()
      const steps = new Map<Hypercore, string>()
      where.step = () => `round ${round}: catching up ${[...steps].map(([core, step]) => `${feedToString(core.key as Uint8Array).slice(0, 12)}… ${step}`).join(', ')}`
      await Promise.all(feeds.map((core) => this.catchUpFeed(core, (step) => steps.set(core, step))))
      where.step = () => `round ${round}: settling`
      await this.refresh()
      await this.settled()
      const scope = this.current
      if (this.host.trackedCount === feedsBefore && (scope === scopeBefore || sameKeys(scopeBefore.topics, scope.topics))) return
    }
  }

  /**
   * The tracked feeds some connected peer offered (it holds them): the only ones a sync waits on.
   * Every open core is attached to every connection, and waiting on the others would cost a round
   * trip per open feed to learn that the peer does not have it.
   */
  private offeredCores (): Hypercore[] {
    const out = new Set<Hypercore>()
    const mine = toHex(this.host.feedKey)
    for (const s of this.sessions) {
      for (const h of this.offered.get(s) ?? []) {
        const core = h === mine ? null : this.host.core(b4a.from(h, 'hex'))
        if (core !== null) out.add(core)
      }
    }
    return [...out]
  }

  /**
   * A sync's first lookups, and the topics looked up (a later round looks them up again): my own
   * topic first (peers that want me or hold my feeds announce it, and with the default two hops
   * they hold whom I follow too). Only if no peer that shares an identity with me is connected
   * after that, a random sample of the other topics in scope (SYNC_TOPICS in all, mine included),
   * on the transports whose lookups are per topic. So the cost of a sync follows the peers found,
   * not the follows held.
   */
  private async findPeers (where: CatchUpStep): Promise<Uint8Array[]> {
    const mine = [identityTopic(this.host.identity)]
    where.step = () => 'round 0: discovering my topic'
    await Promise.all(this.transports.map((t) => t.discover(mine)))
    where.step = () => `round 0: waiting for ${peerCount(this.sessions.size + this.connecting.size)} found on my topic to answer wants`
    await this.settled()
    if (this.sessions.size > 0) return mine
    const batch = this.syncTopics()
    where.step = () => `round 0: nobody on my topic, discovering ${batch.length} topics`
    await Promise.all(this.transports.filter((t) => t.perTopic).map((t) => t.discover(batch)))
    return batch
  }

  /** My own topic and a random sample of the other topics in scope (SYNC_TOPICS in all). */
  private syncTopics (): Uint8Array[] {
    // A reservoir sample: no list of the whole scope is made.
    const picked: IdentityKey[] = []
    let seen = 0
    for (const id of this.current.topics.values()) {
      if (b4a.equals(id, this.host.identity)) continue
      seen++
      if (picked.length < SYNC_TOPICS - 1) picked.push(id)
      else {
        const j = Math.floor(Math.random() * seen)
        if (j < picked.length) picked[j] = id
      }
    }
    return [this.host.identity, ...shuffle(picked)].map((id) => identityTopic(id))
  }

  /** Every connection's channel is open and its wants are answered. */
  private async settled (): Promise<void> {
    await Promise.all([...this.connecting, ...this.sessions].map((s) => s.settled()))
  }

  /** Waits for a feed to be downloaded (by the node's download queue) and indexed to its known length; `step` hears where it is. */
  private async catchUpFeed (core: Hypercore, step: (s: string) => void): Promise<void> {
    step(`updating (${core.length} blocks)`)
    await core.update({ wait: true })
    step(`downloading (${core.contiguousLength}/${core.length})`)
    await contiguous(core, core.length)
    // A feed untracked meanwhile (blocked, or refused by its caps) is never indexed: stop at its close.
    if (core.closing || core.closed || this.host.core(core.key as Uint8Array) !== core) { step('closed'); return }
    step(`indexing to ${core.length}`)
    await Promise.race([this.host.waitForIndexed(core.key as Uint8Array, core.length), closed(core)])
    step('done')
  }

  private localBlocks (): number {
    return this.host.trackedBlocks()
  }

  private summary (): Omit<SyncResult, 'blocks' | 'uploaded' | 'drops'> {
    const pendingTopics = Math.max(0, ...this.transports.map((t) => t.pending))
    return { peers: this.sessions.size, identities: this.current.held.size, feeds: this.host.trackedCount + 1, topics: this.joined.size, pendingTopics }
  }

  /** The peers connected now, with the identity each proved. */
  peerList (): Status['peers'] {
    return this.peers.map((s) => ({
      publicKey: s.publicKey ? identityToString(s.publicKey) : null,
      identity: s.remoteIdentity ? identityToString(s.remoteIdentity) : null
    }))
  }
}

/** Where one sync's catch-up is, said by its SYNC_TIMEOUT message. */
interface CatchUpStep { step: () => string }

/** Resolves when `core` closes. */
function closed (core: Hypercore): Promise<void> {
  return new Promise((resolve) => {
    if (core.closing || core.closed) resolve()
    else core.once('close', () => resolve())
  })
}

/** Resolves once `core` holds blocks 0 to `length` locally (or it closed). */
function contiguous (core: Hypercore, length: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (core.contiguousLength < length && !core.closing && !core.closed) return
      core.off('download', check)
      core.off('close', check)
      resolve()
    }
    core.on('download', check)
    core.on('close', check)
    check()
  })
}

/** Shuffles `out` in place (Fisher–Yates) and returns it. */
function shuffle<T> (out: T[]): T[] {
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const x = out[i]
    out[i] = out[j]
    out[j] = x
  }
  return out
}

/** "1 peer", "2 peers": for a sync's step text. */
function peerCount (n: number): string {
  return n === 1 ? '1 peer' : `${n} peers`
}
