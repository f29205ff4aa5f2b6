/**
 * Shoal: the one object the CLI, the API server, tests and embedders use. It opens the storage
 * folder (identity, Corestore, views), writes this device's feed, tracks other feeds and keeps
 * the views current.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import ReadyResource from 'ready-resource'
import sodium from 'sodium-universal'
import { VIEWS_VERSION } from '../caps.js'
import { ShoalError } from '../errors.js'
import { DeviceFeed } from '../feeds/device-feed.js'
import { createSeed, keyPairFromSeed, phraseToSeed, seedToPhrase, type IdentityKeyPair } from '../feeds/identity.js'
import type { ContactType, MessageRecord } from '../feeds/schema.js'
import { identityToString, feedToString, parseIdentity, refToString, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import { Indexer, type IndexTotals } from '../views/indexer.js'
import { META_VERSION, keys, TAG, key } from '../views/keys.js'
import { Views, type Item, type Page, type Profile, type TimelineQuery } from '../views/queries.js'
import { ViewDb } from '../views/view-db.js'
import type { StoredPost } from '../views/records.js'
import { Replicator, type SyncResult, type Status } from '../swarm/replicator.js'
import { DownloadQueue } from '../swarm/download-queue.js'
import { createNetwork, type Bootstrap, type Network, type NetworkOptions } from './network.js'
import type HyperDHT from 'hyperdht'
import { hasIdentity, readSeed, storagePaths, writeSeed, type StoragePaths } from './storage.js'

export interface ShoalOptions {
  /** Clock, injectable for tests. */
  now?: () => number
  /** A label for this device, written in its feed header. */
  device?: string
}

export interface InitOptions extends ShoalOptions {
  name?: string
  /** A 24-word recovery phrase: recreate that identity with a new device feed. */
  restore?: string
}

export interface PostInput {
  text: string
  reply?: MessageRef | null
  cw?: string | null
  mentions?: IdentityKey[]
}

export interface JoinOptions {
  /** An existing DHT node (tests: testnet.createNode()). */
  dht?: HyperDHT
  /** Which DHT to use; default the public one. `{ kind: 'none' }` means LAN only. */
  bootstrap?: Bootstrap
  /** Multicast-DNS discovery on the local network (default: on when bootstrap is none). */
  lan?: boolean
  /** LAN discovery settings (bind host, mDNS port). */
  lanOptions?: NetworkOptions['lanOptions']
  /** Follow-graph hop limit of what is replicated (default 2). */
  hops?: number
}

export interface WhoAmI { id: string, name: string | null, feeds: string[], feed: string }

const MENTION = /@([ybndrfg8ejkmcpqxot1uwisza345h769]{52})\b/g

export class Shoal extends ReadyResource {
  readonly paths: StoragePaths
  private readonly opts: ShoalOptions
  private keyPair: IdentityKeyPair | null = null
  private storeInstance: Corestore | null = null
  private db: ViewDb | null = null
  private feedInstance: DeviceFeed | null = null
  private indexerInstance: Indexer | null = null
  private viewsInstance: Views | null = null
  private readonly remote = new Map<string, Hypercore>()
  private network: Network | null = null
  private readonly downloads = new DownloadQueue()
  private replicatorInstance: Replicator | null = null

  constructor (storage: string, opts: ShoalOptions = {}) {
    super()
    this.paths = storagePaths(storage)
    this.opts = opts
  }

  /**
   * Creates the identity of a fresh storage folder (or restores one from its phrase) and this
   * device's feed. Fails with IDENTITY_EXISTS, changing nothing, if the folder has an identity.
   */
  static async init (storage: string, opts: InitOptions = {}): Promise<{ shoal: Shoal, phrase: string | null }> {
    if (await hasIdentity(storage)) throw ShoalError.IDENTITY_EXISTS(`${storage} already has an identity`)
    const seed = opts.restore !== undefined ? phraseToSeed(opts.restore) : createSeed()
    await writeSeed(storage, seed)
    const shoal = new Shoal(storage, opts)
    try {
      await shoal.ready()
      if (opts.name !== undefined) await shoal.setProfile({ name: opts.name })
    } catch (err) {
      await shoal.close()
      throw err
    }
    return { shoal, phrase: opts.restore !== undefined ? null : seedToPhrase(seed) }
  }

  protected override async _open (): Promise<void> {
    this.keyPair = keyPairFromSeed(await readSeed(this.paths.root))
    this.storeInstance = new Corestore(this.paths.cores)
    try {
      await this.storeInstance.ready()
    } catch (err) {
      if (/lock/i.test(String((err as Error)?.message))) throw ShoalError.STORAGE_LOCKED(`${this.paths.root} is in use by another Shoal process`, err)
      throw ShoalError.STORAGE_ERROR(`cannot open ${this.paths.cores}`, err)
    }
    this.db = new ViewDb(this.paths.views)
    await this.db.ready()
    this.indexerInstance = new Indexer(this.db, { now: this.opts.now })
    this.indexerInstance.on('error', (err: Error) => this.emit('error', err))
    this.indexerInstance.on('indexed', (ev: { feed: FeedKey, position: number }) => this.emit('indexed', ev))
    this.viewsInstance = new Views(this.db, this.keyPair.publicKey)
    const views = this.viewsInstance
    this.indexerInstance.on('contacts', () => { views.invalidate(); this.emit('contacts') })
    this.feedInstance = new DeviceFeed(this.storeInstance, this.keyPair, { now: this.opts.now, device: this.opts.device })
    await this.feedInstance.ready()

    const stored = await this.db.get(META_VERSION)
    const fresh = stored === null || stored[0] !== VIEWS_VERSION
    if (fresh) {
      await this.db.wipeDerived()
      const w = this.db.txn()
      w.put(META_VERSION, b4a.from([VIEWS_VERSION]))
      await w.commit()
    }
    await this.indexerInstance.add(this.feedInstance.core)
    const tracked: FeedKey[] = []
    for await (const { key: k } of this.db.scanPrefix(key(TAG.trackedFeed))) tracked.push(b4a.from(k.subarray(1)) as FeedKey)
    await Promise.all(tracked.map((feed) => this.openRemote(feed)))
    await this.indexerInstance.waitFor(this.feedInstance.key, this.feedInstance.length)
  }

  protected override async _close (): Promise<void> {
    this.downloads.close()
    if (this.replicatorInstance) await this.replicatorInstance.close()
    if (this.network) await this.network.close()
    if (this.indexerInstance) await this.indexerInstance.close()
    for (const core of this.remote.values()) await core.close()
    this.remote.clear()
    if (this.feedInstance) await this.feedInstance.close()
    if (this.storeInstance) await this.storeInstance.close()
    if (this.db) await this.db.close()
  }

  get identity (): IdentityKey {
    if (this.keyPair === null) throw ShoalError.CLOSED('this Shoal is not open')
    return this.keyPair.publicKey
  }

  get id (): string {
    return identityToString(this.identity)
  }

  get feedKey (): FeedKey {
    if (this.feedInstance === null) throw ShoalError.CLOSED('this Shoal is not open')
    return this.feedInstance.key
  }

  /** Blocks in this device's feed (the header included). */
  get feedLength (): number {
    return this.need(this.feedInstance).length
  }

  get store (): Corestore {
    return this.need(this.storeInstance)
  }

  get views (): Views {
    return this.need(this.viewsInstance)
  }

  private get indexer (): Indexer {
    return this.need(this.indexerInstance)
  }

  private need<T> (v: T | null): T {
    if (v === null || this.closing) throw ShoalError.CLOSED('this Shoal is not open')
    return v
  }

  /** Starts replicating and indexing another device feed (idempotent, remembered across restarts). */
  async addFeed (feed: FeedKey): Promise<void> {
    if (b4a.equals(feed, this.feedKey) || this.remote.has(b4a.toString(feed, 'hex'))) return
    const w = this.need(this.db).txn()
    w.put(keys.trackedFeed(feed), b4a.alloc(0))
    await w.commit()
    await this.openRemote(feed)
  }

  private async openRemote (feed: FeedKey): Promise<void> {
    const hex = b4a.toString(feed, 'hex')
    if (this.remote.has(hex)) return
    const core = this.store.get({ key: feed })
    this.remote.set(hex, core)
    await core.ready()
    this.downloads.add(core)
    await this.indexer.add(core)
  }

  /** Feeds this node tracks besides its own. */
  get trackedFeeds (): FeedKey[] {
    return [...this.remote.values()].map((c) => c.key as FeedKey)
  }

  trackedCores (): Hypercore[] {
    return [...this.remote.values()]
  }

  /** This device's feed or a tracked feed, or null. */
  core (feed: Uint8Array): Hypercore | null {
    if (b4a.equals(feed, this.feedKey)) return this.need(this.feedInstance).core
    return this.remote.get(b4a.toString(feed, 'hex')) ?? null
  }

  /** Signs with the identity key under a namespace-hashed payload (peer hello proofs). */
  signIdentity (payload: Uint8Array): Uint8Array {
    const sig = b4a.alloc(64)
    sodium.crypto_sign_detached(sig, payload, this.need(this.keyPair).secretKey)
    return sig
  }

  /**
   * Stops holding an identity's feeds: no longer indexed, replicated or served, and their
   * blocks are purged from storage. Views keep what they derived (blocked authors are hidden).
   */
  async dropIdentity (identity: IdentityKey): Promise<void> {
    if (b4a.equals(identity, this.identity)) return
    for (const feed of await this.views.feedsOf(identity)) {
      const hex = b4a.toString(feed, 'hex')
      const core = this.remote.get(hex)
      if (core === undefined) continue
      this.remote.delete(hex)
      this.indexer.remove(feed)
      const w = this.need(this.db).txn()
      w.del(keys.trackedFeed(feed))
      await w.commit()
      await core.purge()
      await core.close()
    }
  }

  /**
   * Joins the network: announces and looks up the topics of every identity in scope, replicates
   * with every peer found, and keeps doing so until close().
   */
  async joinNetwork (opts: JoinOptions = {}): Promise<Replicator> {
    if (this.replicatorInstance) return this.replicatorInstance
    if (this.network !== null) throw ShoalError.NETWORK_ERROR('already joining the network')
    // Fresh Noise keys every run (network.ts): nothing announced links two runs of this node.
    const network = createNetwork({ dht: opts.dht, bootstrap: opts.bootstrap, lan: opts.lan, lanOptions: opts.lanOptions })
    this.network = network // from here on close() tears it down, even mid-start
    await network.ready()
    if (this.closing) throw ShoalError.CLOSED('this Shoal closed while joining')
    const replicator = new Replicator(this, { hops: opts.hops, transports: network.transports })
    replicator.on('error', (err: Error) => this.emit('error', err))
    this.replicatorInstance = replicator
    await replicator.ready()
    return replicator
  }

  get replicator (): Replicator | null {
    return this.replicatorInstance
  }

  /** One-shot: replicate everything in scope until caught up with the peers found. */
  async sync (opts: { timeout?: number } = {}): Promise<SyncResult> {
    const r = this.replicatorInstance
    if (r === null) throw ShoalError.NETWORK_ERROR('not joined to a network; call joinNetwork() first')
    return r.sync(opts)
  }

  /** Peers and per-identity feed progress (no peers when not on a network). */
  async status (): Promise<Status> {
    const blocked = new Set((await this.views.blocking(this.identity)).map((k) => b4a.toString(k, 'hex')))
    const identities: Status['identities'] = []
    for (const id of await this.views.heldIdentities()) {
      if (blocked.has(b4a.toString(id, 'hex'))) continue
      const feeds = []
      for (const feed of await this.views.feedsOf(id)) {
        const core = this.core(feed)
        if (core) feeds.push({ key: feedToString(feed), local: core.contiguousLength, remote: core.length })
      }
      identities.push({ id: identityToString(id), feeds })
    }
    return { peers: this.replicatorInstance?.peerList() ?? [], identities }
  }

  /** Corestore replication over a stream (or a new one, given which side initiates). */
  replicate (isInitiatorOrStream: boolean | unknown): ReturnType<Corestore['replicate']> {
    return this.store.replicate(isInitiatorOrStream)
  }

  /** Resolves once `feed` is indexed up to `length` blocks (e.g. after replication). */
  waitForIndexed (feed: Uint8Array, length: number): Promise<void> {
    return this.indexer.waitFor(feed, length)
  }

  /** Resolves when every block stored locally is indexed. */
  indexed (): Promise<void> {
    return this.indexer.idle()
  }

  // --- writing -------------------------------------------------------------------------

  private async write (rec: MessageRecord): Promise<MessageRef> {
    const feed = this.need(this.feedInstance)
    const ref = await feed.append(rec)
    await this.indexer.waitFor(feed.key, ref.seq + 1)
    return ref
  }

  private now (): number {
    return this.need(this.feedInstance).timestamp()
  }

  async post (input: PostInput): Promise<MessageRef> {
    let root: MessageRef | null = null
    let parent: MessageRef | null = null
    if (input.reply) {
      parent = input.reply
      const p = await this.views.post(parent)
      root = p?.root ?? parent
    }
    const mentions = new Map<string, IdentityKey>()
    for (const m of input.mentions ?? []) mentions.set(b4a.toString(m, 'hex'), m)
    for (const match of String(input.text).matchAll(MENTION)) {
      try {
        const id = parseIdentity(match[1])
        mentions.set(b4a.toString(id, 'hex'), id)
      } catch {
        // Not an identity after all (wrong length or spelling): plain text, not a mention.
      }
    }
    return this.write({ type: 'post', timestamp: this.now(), text: input.text, root, parent, cw: input.cw ?? null, mentions: [...mentions.values()] })
  }

  async react (target: MessageRef, emoji: string, opts: { remove?: boolean } = {}): Promise<MessageRef> {
    await this.known(target)
    return this.write({ type: 'reaction', timestamp: this.now(), target, emoji, remove: opts.remove === true })
  }

  async edit (target: MessageRef, text: string): Promise<MessageRef> {
    await this.own(target)
    return this.write({ type: 'edit', timestamp: this.now(), target, text })
  }

  async delete (target: MessageRef): Promise<MessageRef> {
    await this.own(target)
    return this.write({ type: 'delete', timestamp: this.now(), target })
  }

  follow (who: IdentityKey): Promise<MessageRef> { return this.contact('follow', who) }
  unfollow (who: IdentityKey): Promise<MessageRef> { return this.contact('unfollow', who) }
  block (who: IdentityKey): Promise<MessageRef> { return this.contact('block', who) }
  unblock (who: IdentityKey): Promise<MessageRef> { return this.contact('unblock', who) }

  private async contact (type: ContactType, target: IdentityKey): Promise<MessageRef> {
    if (b4a.equals(target, this.identity)) throw ShoalError.INVALID_ARGUMENT(`you cannot ${type} yourself`)
    return this.write({ type, timestamp: this.now(), target })
  }

  async setProfile (p: { name?: string | null, bio?: string | null }): Promise<MessageRef> {
    return this.write({ type: 'about', timestamp: this.now(), name: p.name ?? null, bio: p.bio ?? null })
  }

  private async known (ref: MessageRef): Promise<StoredPost> {
    const post = await this.views.post(ref)
    if (post === null) throw ShoalError.UNKNOWN_MESSAGE(`message ${refToString(ref)} is not known here (or was deleted)`)
    return post
  }

  private async own (ref: MessageRef): Promise<void> {
    const post = await this.known(ref)
    if (!b4a.equals(post.author, this.identity)) throw ShoalError.NOT_OWN_MESSAGE(`message ${refToString(ref)} was written by someone else`)
  }

  // --- reading -------------------------------------------------------------------------

  async whoami (): Promise<WhoAmI> {
    const feeds = await this.views.feedsOf(this.identity)
    return {
      id: this.id,
      name: await this.views.nameOf(this.identity),
      feed: feedToString(this.feedKey),
      feeds: feeds.map(feedToString)
    }
  }

  timeline (q: TimelineQuery = {}): Promise<Page> {
    return this.views.timeline(q)
  }

  thread (ref: MessageRef): Promise<{ root: Item | null, replies: Item[] }> {
    return this.views.thread(ref)
  }

  mentions (opts: { limit?: number } = {}): Promise<{ items: Item[] }> {
    return this.views.mentions(opts)
  }

  profile (who?: IdentityKey): Promise<Profile> {
    return this.views.profile(who ?? this.identity)
  }

  /** Rebuilds every view from the feeds; the result must equal the incremental one. */
  async reindex (): Promise<IndexTotals> {
    return this.indexer.reindex()
  }

  totals (): IndexTotals {
    return this.indexer.totals()
  }
}

