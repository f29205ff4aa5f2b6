/**
 * Shoal: the one object the CLI, the API server, tests and embedders use. It opens the storage
 * folder (identity, Corestore, views), writes this device's feed, tracks other feeds and keeps
 * the views current.
 */
import path from '#path'
import b4a from 'b4a'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import sodium from 'sodium-universal'
import { SWARM_KEY_NAME, VIEWS_VERSION } from '../caps.js'
import { ShoalError } from '../errors.js'
import { DeviceFeed } from '../feeds/device-feed.js'
import { createSeed, keyPairFromSeed, phraseToSeed, seedToPhrase, type IdentityKeyPair } from '../feeds/identity.js'
import { encodeRecord, type ContactType, type DmRecord, type MessageRecord } from '../feeds/schema.js'
import { keyPairSigner } from '../dm/keys-record.js'
import { DmService } from './dm-service.js'
import { DmRequests } from './dm-requests.js'
import { identityToString, feedToString, parseIdentity, refToString, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import { Indexer, type IndexTotals } from '../views/indexer.js'
import { META_VERSION, keys as viewKeys } from '../views/keys.js'
import { Views, type Item, type Page, type Profile, type ThreadPage, type ThreadQuery, type TimelineQuery } from '../views/queries.js'
import type { ViewDb } from '../views/view-db.js'
import { checkpoint as checkpointEnc, decode, feedIdentity as feedIdentityEnc, type Checkpoint, type StoredPost } from '../views/records.js'
import { Replicator, type FeedStatus, type SyncResult, type Status } from '../swarm/replicator.js'
import { DownloadQueue } from '../swarm/download-queue.js'
import { FeedWatch } from '../swarm/feed-watch.js'
import type { PeerLimits } from '../swarm/peer-limits.js'
import type { Connection, PeerSession } from '../swarm/peer-session.js'
import { createNetwork, type Bootstrap, type Network, type NetworkOptions } from './network.js'
import type HyperDHT from 'hyperdht'
import { hasIdentity, hasUmask, lowOnSpace, pruneRocksLogs, readSeed, secureStorage, storagePaths, writeFault, writeSeed, type StoragePaths } from './storage.js'
import { ALL_SHARDS, NodeState, STATE_ADVICE, shardBit, type OpenRecord } from './node-state.js'
import { ClosedFeeds } from './closed-feeds.js'
import { pathExists, removeCreated, snapshotCreated } from './storage-repair.js'
import { checkDeviceFeed, closeCorestore, migrateNodeState, openCorestore, openViews, stateWasLost, viewsGeneration } from './storage-checks.js'
import { settledRecord } from './read-only-open.js'
import { untilIndexed, watchIndexer, whileIndexing } from './index-watch.js'
import { DEFAULT_INDEXING_FEEDS, IndexBacklog } from './index-backlog.js'
import { DEFAULT_OPEN_FEEDS, IdleFeeds, type IdleVerdict } from './idle-feeds.js'
import { RoomService } from './room-service.js'
import { checkNotBlank } from './input-checks.js'

export interface ShoalOptions {
  /** Clock, injectable for tests. */
  now?: () => number
  /** A label for this device, written in its feed header. */
  device?: string
  /** Bytes kept per remote identity (all its device feeds); feeds past it are refused (default 256 MiB). */
  storagePerIdentity?: number
  /**
   * My recorded device feed is gone from cores/ (DEVICE_FEED_MISSING): start a fresh device feed
   * for this identity anyway, and track the lost one read-only so peers can bring its posts back.
   */
  newDeviceFeed?: boolean
  /** DM prekey rotation and deletion after grace, in ms (default 7 and 30 days; docs/DM.md). */
  dmKeyPolicy?: { rotateAfter: number, graceAfter: number }
  /** Rooms' Autobase ack interval in ms (tests: 0, explicit acks only); default Autobase's. */
  roomAckInterval?: number
  /** Bytes kept of each other device's writer log in a room (default 64 MiB; docs/ROOMS.md "Caps on the wire"). */
  roomStoragePerWriter?: number
  /**
   * Tracked feeds opened at once to index what they store when the node opens (default 16); each
   * is closed again once indexed while the node is off the network. Bounds memory at many feeds.
   */
  indexingFeeds?: number
  /**
   * Tracked feeds kept open once idle (default 64): past it, a feed indexed to its whole length
   * that no peer replicates (and, on the network, that no connected peer offered or was sent the
   * header of) is closed again, as a clean close leaves it, and opens when something replicates
   * or reads it. Bounds memory at many feeds, except for the feeds connected peers replicate.
   */
  openFeeds?: number
  /**
   * Opens the storage read-only and changes no file: nothing is indexed, maintained or recorded,
   * and every write fails with READ_ONLY (the CLI's refusal check, see src/cli/refusal-check.ts).
   * The open fails with READ_ONLY where the stored views might not answer as after a read-write
   * open (src/node/read-only-open.ts).
   */
  readOnly?: boolean
}

/** Problems with the local storage that the node noticed and how it dealt with them. */
export interface StorageHealth {
  /** My feed is shorter than it was (blocks lost in a crash): appends are refused until restored. */
  rolledBack: { length: number, expected: number } | null
  /** The views were damaged and rebuilt from the feeds (why), or null. */
  viewsRebuilt: string | null
  /** The lost device feed (z-base32) that `newDeviceFeed` replaced in this open, or null. */
  replacedFeed: string | null
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
  /** What one peer may cost (feeds per identity, connections, budgets); see src/swarm/peer-limits.ts. */
  limits?: Partial<PeerLimits>
}

export interface WhoAmI { id: string, name: string | null, feeds: string[], feed: string }

/**
 * A tracked feed left closed (see findLazy): its checkpoint, and the identity (hex) its indexed
 * header names, read on first need (undefined: not read yet; null: none indexed).
 */
interface LazyFeed { feed: FeedKey, checkpoint: Checkpoint, owner?: string | null }

const MENTION = /@([ybndrfg8ejkmcpqxot1uwisza345h769]{52})\b/g

/** Whether `fn` is declared `async`: those are the service methods that wait for a storage reopen (see `service`). */
const isAsync = (fn: unknown): boolean => typeof fn === 'function' && fn.constructor.name === 'AsyncFunction'

export class Shoal extends ReadyResource {
  readonly paths: StoragePaths
  private readonly opts: ShoalOptions
  private keyPair: IdentityKeyPair | null = null
  private stateInstance: NodeState | null = null
  private rolledBack: { length: number, expected: number } | null = null
  private faulted = false
  private repairing: Promise<void> | null = null
  private recovering: Promise<void> | null = null
  private joined: JoinOptions | null = null
  private viewsRebuilt: string | null = null
  private replacedFeed: string | null = null
  private storeInstance: Corestore | null = null
  private db: ViewDb | null = null
  private feedInstance: DeviceFeed | null = null
  private indexerInstance: Indexer | null = null
  private viewsInstance: Views | null = null
  private readonly remote = new Map<string, Hypercore>()
  /**
   * Tracked feeds (hex) being opened (openRemote): in `remote` already, but not yet watched,
   * downloading and handed to the indexer. Every caller that needs the feed open waits on this.
   */
  private readonly feedsOpening = new Map<string, Promise<void>>()
  /**
   * Tracked feeds left closed: fully indexed when the node last closed, so nothing in them is new
   * until something replicates or reads them (openFeed). Their checkpoints count in totals().
   */
  private readonly lazy = new ClosedFeeds<LazyFeed>()
  /**
   * Work that a block or unblock of mine (any device) started and that block, unblock and
   * indexed() wait for: opening that identity's lazily closed feeds, and dropping its feeds.
   */
  private readonly blockWork = new Set<Promise<void>>()
  /** Indexes the closed feeds not settled at the last clean close, a few open at a time. */
  private backlog: IndexBacklog | null = null
  /** Lazy feeds (hex) still waiting for their backlog turn: not settled, whatever their checkpoint says. */
  private readonly backlogged = new Set<string>()
  /**
   * Feeds (hex) open for their backlog turn only, which closes them again once indexed. A caller
   * that asks for such a feed (addFeed, openFeed, waitForIndexed) takes it out (keepOpen): the
   * turn then leaves it open, as if opened by that caller.
   */
  private readonly turnOnly = new Set<string>()
  /** Closes the idle open tracked feeds past `openFeeds` (closeIfIdle). */
  private readonly idleFeeds: IdleFeeds
  /** Feeds (hex) a waitForIndexed is waiting on, with how many wait: they stay open meanwhile. */
  private readonly waiters = new Map<string, number>()
  private network: Network | null = null
  private readonly downloads = new DownloadQueue()
  private replicatorInstance: Replicator | null = null
  private roomsInstance: RoomService | null = null
  /** Owners and wire issues (fork, oversize, storage cap) of the tracked feeds. */
  private readonly watch: FeedWatch
  private dmInstance: DmService | null = null
  private dmRequestsInstance: DmRequests | null = null
  /**
   * What `dm` and `rooms` return, each reading the current service on every call: one per service
   * instance (`of`), so a reopen shows as a new object while the ones held before keep working.
   */
  private dmThrough: { of: DmService, through: DmService } | null = null
  private roomsThrough: { of: RoomService, through: RoomService } | null = null
  private dmTimer: ReturnType<typeof setInterval> | null = null
  /** 'indexed' events so far (statusStamp). */
  private indexedEvents = 0

  constructor (storage: string, opts: ShoalOptions = {}) {
    super()
    const bound = opts.indexingFeeds
    if (bound !== undefined && (!Number.isInteger(bound) || bound < 1)) throw ShoalError.INVALID_ARGUMENT(`indexingFeeds is a whole number of feeds, at least 1 (not ${String(bound)})`)
    const open = opts.openFeeds ?? DEFAULT_OPEN_FEEDS
    if (!Number.isInteger(open) || open < 0) throw ShoalError.INVALID_ARGUMENT(`openFeeds is a whole number of feeds, at least 0 (not ${String(opts.openFeeds)})`)
    this.idleFeeds = new IdleFeeds(open, { openCount: () => this.remote.size, closeIfIdle: (hex) => this.closeIfIdle(hex) })
    this.paths = storagePaths(storage)
    this.opts = opts
    this.watch = new FeedWatch({ storagePerIdentity: opts.storagePerIdentity, now: opts.now, onRefuse: (feed) => { this.untrack(feed).catch(safetyCatch) } })
  }

  /**
   * Creates the identity of a fresh storage folder (or restores one from its phrase) and this
   * device's feed. Fails with IDENTITY_EXISTS, changing nothing, if the folder has an identity.
   */
  static async init (storage: string, opts: InitOptions = {}): Promise<{ shoal: Shoal, phrase: string | null }> {
    // Every input is checked before the first write: a failed init leaves the folder as it was.
    const seed = opts.restore !== undefined ? phraseToSeed(opts.restore) : createSeed()
    if (opts.name !== undefined) encodeRecord({ type: 'about', timestamp: 0, name: opts.name, bio: null })
    checkNotBlank(opts.name, 'the name')
    if (await hasIdentity(storage)) throw ShoalError.IDENTITY_EXISTS(`${storage} already has an identity`)
    const created = await snapshotCreated(storage)
    const shoal = new Shoal(storage, opts)
    try {
      await writeSeed(storage, seed)
      await shoal.ready()
      if (opts.name !== undefined) await shoal.setProfile({ name: opts.name })
    } catch (err) {
      await shoal.close()
      await removeCreated(created)
      throw err
    }
    return { shoal, phrase: opts.restore !== undefined ? null : seedToPhrase(seed) }
  }

  protected override async _open (): Promise<void> {
    const readOnly = this.opts.readOnly === true
    try {
      await (readOnly ? this.openReadOnly() : this.openStorage())
    } catch (err) {
      // Release the locks of what did open (close() after a failed open does not run _close); a
      // damaged Corestore can fail its close too: the open's error is the one to report.
      await this.closeStorage().catch(async (closeErr) => {
        safetyCatch(closeErr)
        await this.db?.close().catch(safetyCatch)
        await this.stateInstance?.close().catch(safetyCatch)
      })
      // A failed open rotated each database's info log too: keep them from piling up run after run.
      if (!readOnly) await Promise.all([this.paths.state, path.join(this.paths.cores, 'db'), this.paths.views].map(pruneRocksLogs))
      throw err
    }
  }

  protected override async _close (): Promise<void> {
    this.downloads.close()
    // The backlog first: its turns open feeds, which a closing node refuses (CLOSED), and leaving
    // the network takes a while; a turn refused so would be reported as an error.
    if (this.backlog !== null) await this.backlog.close()
    await this.idleFeeds.close()
    await this.leaveNetwork()
    await this.closeStorage()
    if (!hasUmask() && this.opts.readOnly !== true) await secureStorage(this.paths.root).catch(safetyCatch) // Bare: files made while running
  }

  /** Opens the state, the Corestore, the views and my feed, and starts indexing (see _open). */
  private async openStorage (): Promise<void> {
    await secureStorage(this.paths.root)
    this.keyPair = keyPairFromSeed(await readSeed(this.paths.root))
    // Primary databases that exist are opened as they are: one whose files are gone is refused, not made afresh.
    const [hadState, hadCores] = await Promise.all([pathExists(this.paths.state), pathExists(path.join(this.paths.cores, 'db'))])
    this.stateInstance = new NodeState(this.paths.state, { create: !hadState })
    // The three databases open side by side; on a failure closeStorage closes those that opened.
    const [state, store, viewDb] = await Promise.allSettled([this.stateInstance.ready(), openCorestore(this.paths, !hadCores), openViews(this.paths)])
    if (store.status === 'fulfilled') this.storeInstance = store.value
    if (viewDb.status === 'fulfilled') this.db = viewDb.value
    for (const r of [state, store, viewDb]) if (r.status === 'rejected') throw r.reason
    if (this.storeInstance === null || this.db === null) throw ShoalError.STORAGE_ERROR(`cannot open ${this.paths.root}`)
    if (!hadState && hadCores && await stateWasLost(this.storeInstance)) {
      await this.stateInstance.close()
      await removeCreated({ paths: [this.paths.state] }) // made by this open: the folder is left as it was
      throw ShoalError.STORAGE_DAMAGED(`the node state ${this.paths.state} is missing, but my device feed in ${this.paths.cores} was written with it. ${STATE_ADVICE}`)
    }
    this.viewsRebuilt = this.db.repaired ?? this.viewsRebuilt
    this.db.on('damaged', () => { this.repairViews().catch(safetyCatch) })
    this.indexerInstance = new Indexer(this.db, {
      me: this.keyPair.publicKey,
      now: this.opts.now,
      receipts: this.stateInstance,
      // Not need(): the indexer drains its last chunks inside close, while the DM service is still open.
      dm: { receive: (items) => { if (this.dmInstance === null) throw ShoalError.CLOSED('this Shoal is not open'); return this.dmInstance.receive(items) } }
    })
    this.indexerInstance.on('error', (err: Error) => { this.indexFault(err).catch(safetyCatch) })
    this.indexerInstance.on('indexed', (ev: { feed: FeedKey, position: number }) => {
      this.indexedEvents++
      this.noteIdle(b4a.toString(ev.feed, 'hex'), ev.position)
      this.emit('indexed', ev)
    })
    this.viewsInstance = new Views(this.db, this.keyPair.publicKey)
    const views = this.viewsInstance
    this.indexerInstance.on('contacts', () => { views.invalidate(); this.emit('contacts') })
    this.indexerInstance.on('profiles', () => views.invalidateNames())
    // A block or unblock from any of my devices: that identity's lazily closed feeds are opened, so
    // a block resets their checkpoints and an unblock indexes them again; joined to a network, a
    // block drops their feeds now, not at the replicator's next scope (blockWork: indexed() waits).
    this.indexerInstance.on('block-change', ({ target, blocking }: { target: IdentityKey, blocking: boolean }) => {
      this.blockTask(this.openLazyOf(target).then(() => blocking && this.network !== null ? this.dropBlocked(target) : undefined))
    })
    const check = await checkDeviceFeed(this.paths, this.storeInstance, this.stateInstance, this.db, this.opts.newDeviceFeed === true)
    this.rolledBack = check.rolledBack
    if (check.replaced !== null) this.replacedFeed = feedToString(check.replaced)
    this.feedInstance = new DeviceFeed(this.storeInstance, this.keyPair, { now: this.opts.now, device: this.opts.device, create: check.rolledBack === null })
    await this.feedInstance.ready()
    if (this.rolledBack === null) await this.stateInstance.setDeviceFeed(this.feedInstance.key, this.feedInstance.length)
    await this.openDm(this.stateInstance, this.feedInstance)

    const stored = await this.db.get(META_VERSION)
    const fresh = stored === null || stored[0] !== VIEWS_VERSION
    if (fresh) {
      await this.db.wipeDerived()
      const w = this.db.txn()
      w.put(META_VERSION, b4a.from([VIEWS_VERSION]))
      await w.commit()
    }
    const feed = this.feedInstance
    await this.indexerInstance.add(feed.core, { written: (start, end) => feed.takeWritten(start, end) })
    const migrated = await migrateNodeState(this.stateInstance, this.db, this.storeInstance, this.feedInstance.key)
    const toOpen = await this.findLazy(this.stateInstance, this.db, !migrated)
    if (check.replaced !== null && !toOpen.some((f) => b4a.equals(f, check.replaced as FeedKey))) toOpen.push(check.replaced)
    await this.startBacklog(toOpen)
    await untilIndexed(this.indexerInstance, this.paths.root, this.feedInstance.key, this.feedInstance.length)
    if (this.rolledBack === null) await this.need(this.dmInstance).maintainKeys() // not `dm`: while reopening, that one waits for the reopen
    await this.openRooms()
    // RocksDB rotates its info log on every open; keep only the current one of each database.
    await Promise.all([this.paths.state, path.join(this.paths.cores, 'db'), this.paths.views].map(pruneRocksLogs))
    // With no umask (Bare) the databases just made their files with the default modes: fix them now.
    if (!hasUmask()) await secureStorage(this.paths.root)
  }

  /**
   * The read-only open (`readOnly`): the databases opened read-only, my feed, the DM service and
   * the rooms on them, with the tracked feeds closed as the open record of the last clean close
   * left them; nothing indexed, maintained or recorded. READ_ONLY when that record is not there
   * or the views may lag behind the feeds (settledRecord).
   */
  private async openReadOnly (): Promise<void> {
    // Checked as on every open; a mode to fix is left to the read-write open, which fixes it.
    if (!(await secureStorage(this.paths.root, { fix: false }))) throw ShoalError.READ_ONLY(`${this.paths.root} holds files that are not owner-only`)
    this.keyPair = keyPairFromSeed(await readSeed(this.paths.root))
    this.stateInstance = new NodeState(this.paths.state, { create: false, readOnly: true })
    const [state, store, viewDb] = await Promise.allSettled([this.stateInstance.ready(), openCorestore(this.paths, false, true), openViews(this.paths, true)])
    if (store.status === 'fulfilled') this.storeInstance = store.value
    if (viewDb.status === 'fulfilled') this.db = viewDb.value
    for (const r of [state, store, viewDb]) if (r.status === 'rejected') throw r.reason
    const db = this.need(this.db)
    const check = await checkDeviceFeed(this.paths, this.store, this.stateInstance, db, false)
    this.rolledBack = check.rolledBack
    this.feedInstance = new DeviceFeed(this.store, this.keyPair, { now: this.opts.now, device: this.opts.device, create: false })
    await this.feedInstance.ready()
    this.viewsInstance = new Views(db, this.keyPair.publicKey)
    const stored = { state: this.stateInstance, db, store: this.store, views: this.viewsInstance, me: this.keyPair.publicKey }
    // The unsettled feeds (nothing in them to index) stay closed and unknown here: no refusal reads them.
    for (const s of (await settledRecord(stored, this.feedInstance.core)).settled) this.lazy.set(b4a.toString(s.feed, 'hex'), s)
    await this.openDm(this.stateInstance, this.feedInstance)
    await this.openRooms()
    // A room that did not open here would be an unknown room (UNKNOWN_ROOM) to the command: it may open read-write.
    if (this.need(this.roomsInstance).failed.size > 0) throw ShoalError.READ_ONLY('a room did not open read-only')
  }

  /** Opens the rooms this device is in (src/node/room-service.ts). */
  private async openRooms (): Promise<void> {
    const views = this.views
    const keyPair = this.need(this.keyPair)
    const rooms = new RoomService({ store: this.store, state: this.need(this.stateInstance), identity: keyPair, now: this.opts.now, ackInterval: this.opts.roomAckInterval, storagePerWriter: this.opts.roomStoragePerWriter, nameOf: (id) => views.nameOf(id as IdentityKey),
      blocked: () => this.blockedHex() })
    this.roomsInstance = rooms
    // forwarded, so listeners on the node outlive the RoomService that a storage reopen replaces
    rooms.on('update', (room: string) => this.emit('room-update', room))
    rooms.on('rooms', () => this.emit('rooms'))
    await rooms.ready()
  }

  /** Opens the DM service on my feed (its keys and sessions are primary state in state/). */
  private async openDm (state: NodeState, feed: DeviceFeed): Promise<void> {
    const identity = this.need(this.keyPair)
    this.dmInstance = new DmService({
      state,
      identity: this.identity,
      feedKey: feed.key,
      signer: keyPairSigner(identity, feed.key),
      // A rolled-back feed still had its lost blocks (a peer restores them): keep their DMs.
      feedLength: () => Math.max(feed.length, this.rolledBack?.expected ?? 0),
      now: () => this.now(),
      appendAt: (build) => this.writeWith(build),
      blocked: () => this.blockedHex()
    }, { policy: this.opts.dmKeyPolicy })
    this.dmInstance.on('message', (ev) => this.emit('dm', ev))
    await this.dmInstance.ready()
    this.dmRequestsInstance = new DmRequests({ state, identity: this.identity, now: () => this.now(), addFeed: (f, owner) => this.addFeed(f, owner),
      isBlocked: async (id) => (await this.views.blocking(this.identity)).some((k) => b4a.equals(k, id))
    })
    this.dmRequestsInstance.on('request', (ev) => this.emit('dm-request', ev))
    // A DM I send is announced at once to recipients online whose scope may not include me.
    this.dmInstance.on('message', (ev: { author?: Uint8Array, participants?: IdentityKey[] }) => {
      if (ev.participants === undefined) return
      for (const p of ev.participants) this.dmRequestsInstance?.announce(p).catch(safetyCatch)
    })
    // Prekey rotation and deletion after grace (docs/DM.md): checked once a day while open.
    this.dmTimer = setInterval(() => { this.dmInstance?.maintainKeys().catch(safetyCatch) }, 24 * 3600_000)
    this.dmTimer.unref?.()
  }

  /** Message requests: pending, accept, decline (see src/node/dm-requests.ts). */
  get dmRequests (): DmRequests {
    return this.need(this.dmRequestsInstance)
  }

  /** Direct messages: send, conversations, reading (see src/node/dm-service.ts); read through on every call (see `service`). */
  get dm (): DmService {
    const of = this.need(this.dmInstance)
    if (this.dmThrough?.of !== of) this.dmThrough = { of, through: this.service(() => this.need(this.dmInstance), false) }
    return this.dmThrough.through
  }

  /**
   * The DM or room service as a stand-in that reads the CURRENT instance (`current()`) on every
   * property read and call, so a reference taken before a storage reopen (which replaces both
   * services) never reaches a closed one, whatever methods a service gains. While the storage is
   * faulted or reopening, an `async` method first waits for the reopen and then runs on the
   * service it made; a sync member cannot wait and runs on the instance open at that moment
   * (a service method that returns a promise is declared `async` for this). With `mapSpace`, an
   * async failure (not coded) on a full disk is NO_SPACE and marks the storage for that reopen.
   */
  private service<T extends object> (current: () => T, mapSpace: boolean): T {
    const space = async (err: unknown): Promise<never> => {
      if (!mapSpace || err instanceof ShoalError || !(await lowOnSpace(this.paths.root))) throw err
      this.faulted = true
      throw ShoalError.NO_SPACE('cannot write to the room: no space left on the device; free some space and try again', err)
    }
    return new Proxy(Object.create(null) as T, {
      getPrototypeOf: () => Object.getPrototypeOf(current()) as object | null,
      has: (_target, prop) => Reflect.has(current(), prop),
      set: (_target, prop, value) => Reflect.set(current(), prop, value),
      get: (_target, prop) => {
        const svc = current()
        const value = Reflect.get(svc, prop, svc) as unknown
        if (typeof value !== 'function') return value
        if (!isAsync(value)) return (...args: unknown[]) => Reflect.apply(value as (...a: unknown[]) => unknown, current(), args)
        return async (...args: unknown[]) => {
          if (this.faulted || this.recovering !== null) await this.recover()
          const fresh = current()
          try {
            return await Reflect.apply(Reflect.get(fresh, prop, fresh) as (...a: unknown[]) => Promise<unknown>, fresh, args)
          } catch (err) {
            return await space(err)
          }
        }
      }
    })
  }

  /**
   * Which tracked feeds stay closed (lazy) and which to open now: those settled at the last clean
   * close stay closed. The open record of that close answers in one row when it belongs to these
   * views (`useRecord`, and the same views generation); else the tracked list, and the record's
   * or the legacy per-feed rows' settled feeds checked against the views' checkpoints (a wiped
   * view opens them all). The record is cleared until the next clean close, so after a crash
   * every feed is opened.
   */
  private async findLazy (state: NodeState, db: ViewDb, useRecord: boolean): Promise<FeedKey[]> {
    // Legacy rows beside a record were written after it, by an older version: they win.
    const [record, legacy, generation] = await Promise.all([state.openRecord(), state.legacySettledFeeds(), viewsGeneration(db, false)])
    if (useRecord && legacy.length === 0 && record !== null && generation !== null && b4a.equals(record.views, generation)) {
      await state.setOpenRecord(null)
      for (const s of record.settled) this.lazy.set(b4a.toString(s.feed, 'hex'), s)
      this.lazy.matchRecord()
      return record.unsettled
    }
    // Checked against the views' checkpoints, as versions before the record did.
    const settled = legacy.length > 0 || record === null ? legacy : record.settled.map((s) => ({ feed: s.feed, length: s.checkpoint.position }))
    await state.setOpenRecord(null)
    const tracked = await state.trackedFeeds()
    const raws = await db.getMany(settled.map((s) => viewKeys.checkpoint(s.feed)))
    settled.forEach((s, i) => {
      const raw = raws[i]
      const checkpoint = raw === null ? null : decode(checkpointEnc, raw)
      if (checkpoint !== null && checkpoint.position >= s.length) this.lazy.set(b4a.toString(s.feed, 'hex'), { feed: s.feed, checkpoint })
    })
    return tracked.filter((feed) => !this.lazy.has(b4a.toString(feed, 'hex')))
  }

  /**
   * Leaves the tracked feeds that may hold unindexed blocks closed (lazy, with their checkpoints)
   * and indexes them in the background, `indexingFeeds` open at a time (indexBacklogTurn).
   */
  private async startBacklog (feeds: FeedKey[]): Promise<void> {
    if (feeds.length === 0) return
    const raws = await this.need(this.db).getMany(feeds.map((feed) => viewKeys.checkpoint(feed)))
    feeds.forEach((feed, i) => {
      const raw = raws[i]
      const hex = b4a.toString(feed, 'hex')
      this.lazy.set(hex, { feed, checkpoint: raw === null ? { position: 0, messages: 0, malformed: 0, unknown: 0, clock: 0 } : decode(checkpointEnc, raw) })
      this.backlogged.add(hex)
    })
    const backlog = new IndexBacklog(feeds, this.opts.indexingFeeds ?? DEFAULT_INDEXING_FEEDS, (feed, stopped) => this.indexBacklogTurn(feed, stopped))
    backlog.on('error', (err: Error) => this.emit('error', err))
    this.backlog = backlog
    await backlog.ready()
  }

  /**
   * One backlog turn: opens a closed feed, waits until what it stores is indexed, and closes it
   * again, unless the network joined meanwhile, something asked for the feed meanwhile (keepOpen),
   * or something it holds is not indexed (a block).
   */
  private async indexBacklogTurn (feed: FeedKey, stopped: Promise<void>): Promise<void> {
    const hex = b4a.toString(feed, 'hex')
    if (!this.lazy.has(hex)) return // opened meanwhile (the network, a read): indexed as an open feed
    this.turnOnly.add(hex)
    try {
      await this.openRemote(feed)
      const core = this.remote.get(hex)
      if (core === undefined || this.watch.isRefused(feed)) return
      const indexed = this.indexer.waitFor(feed, core.contiguousLength)
      indexed.catch(safetyCatch) // CLOSED once the node closes; the race below has ended by then
      await Promise.race([indexed, stopped])
      if (this.turnOnly.has(hex) && this.network === null) await this.closeIndexed(feed, hex, core) // on the network, idle closes decide
    } finally {
      this.turnOnly.delete(hex)
      this.noteIdle(hex) // left open (on the network, or asked for meanwhile): idle from here, past the bound
    }
  }

  /**
   * The open tracked feed `hex` may have become idle (indexed to `position`, default its indexed
   * position; or its last peer or the peer that offered it left): once indexed to its whole
   * length, a candidate to close past `openFeeds` (closeIfIdle checks the rest).
   */
  private noteIdle (hex: string, position?: number): void {
    const core = this.remote.get(hex)
    const indexer = this.indexerInstance
    if (core === undefined || indexer === null || this.closing) return
    // An empty feed waits for its first blocks.
    if (core.length > 0 && (position ?? indexer.position(core.key as FeedKey)) >= core.length) this.idleFeeds.idle(hex)
  }

  /**
   * Closes the open tracked feed `hex` past `openFeeds` if it is still idle (IdleVerdict). Not
   * idle (`active`, noted again once it is): opening, in a backlog turn, waited on by
   * waitForIndexed, a peer attached to it, on the network offered by a connected peer
   * (Replicator.offers), or not indexed to its whole length. `busy` (tried again later): a block
   * being applied, the network being joined, or its header just sent to a peer (Replicator.awaits).
   */
  private async closeIfIdle (hex: string): Promise<IdleVerdict> {
    const core = this.remote.get(hex)
    const indexer = this.indexerInstance
    if (core === undefined || indexer === null || this.closing || !indexer.opened || indexer.closing || !core.opened || core.closing) return 'active'
    if (this.feedsOpening.has(hex) || this.turnOnly.has(hex) || this.waiters.has(hex) || core.peers.length > 0) return 'active'
    const replicator = this.replicatorInstance
    if (this.network !== null && replicator?.offers(hex) === true) return 'active'
    if (this.blockWork.size > 0 || (this.network !== null && (replicator === null || replicator.awaits(hex)))) return 'busy'
    return await this.closeIndexed(core.key as FeedKey, hex, core) ? 'closed' : 'active'
  }

  /**
   * Closes an open tracked feed indexed to its whole length, leaving it closed with its checkpoint
   * as a clean close would (else leaves it open and returns false): after its backlog turn off
   * the network, or idle past `openFeeds` (closeIfIdle).
   */
  private async closeIndexed (feed: FeedKey, hex: string, core: Hypercore): Promise<boolean> {
    const checkpoint = this.indexer.checkpointOf(feed)
    if (checkpoint === null || checkpoint.position < core.length || this.remote.get(hex) !== core || this.closing) return false
    this.remote.delete(hex)
    this.watch.remove(feed)
    this.downloads.remove(core)
    this.indexer.remove(feed)
    this.backlogged.delete(hex)
    this.lazy.set(hex, { feed, checkpoint })
    await core.close()
    return true
  }

  /**
   * Wipes the derived views and indexes every tracked feed again: the open ones first (my own
   * before anyone's, see Indexer.reindex), then the closed ones through a backlog, `indexingFeeds`
   * open at a time, so a rebuild holds as many feeds open as the bound, not as the node tracks.
   */
  private async rebuildViews (): Promise<void> {
    if (this.backlog !== null) { // replaced by one over every closed feed
      await this.backlog.close()
      this.backlog = null
    }
    await this.indexer.reindex({ compact: false })
    await this.startBacklog([...this.lazy.values()].map((l) => l.feed))
    await this.indexed()
    await this.need(this.db).compactDerived()
  }

  /** Opens lazily closed feeds (the open record was cleared at open: a crash from here opens them all). */
  private async openLazyFeeds (feeds: FeedKey[]): Promise<void> {
    const list = feeds.filter((f) => this.lazy.has(b4a.toString(f, 'hex')))
    if (list.length === 0) return
    await Promise.all(list.map((feed) => this.openRemote(feed)))
  }

  /**
   * Opens the lazily closed feeds that may be `identity`'s: those whose indexed header names it,
   * and those with no header indexed any more (a block purges it). The owners are read once, in
   * one batch; a header never changes, so they stay right for as long as the feed stays closed.
   */
  private async openLazyOf (identity: IdentityKey): Promise<void> {
    const unread = [...this.lazy.values()].filter((l) => l.owner === undefined)
    if (unread.length > 0) {
      const raws = await this.need(this.db).getMany(unread.map((l) => viewKeys.feedIdentity(l.feed)))
      unread.forEach((l, i) => {
        const raw = raws[i]
        const fi = raw === null ? null : decode(feedIdentityEnc, raw)
        l.owner = fi?.identity == null ? null : b4a.toString(fi.identity, 'hex')
      })
    }
    const hex = b4a.toString(identity, 'hex')
    await this.openLazyFeeds([...this.lazy.values()].filter((l) => l.owner === hex || l.owner === null).map((l) => l.feed))
  }

  /**
   * A tracked feed's core, opening it first if it was left closed (or waiting for an open in
   * progress: it resolves once the feed is indexed as an open feed); null for a feed not tracked.
   * Once idle (IDLE_GRACE_MS after its last use, past `openFeeds`) it may be closed again: a
   * caller that keeps it attaches a peer to it or waits on it (waitForIndexed).
   */
  async openFeed (feed: Uint8Array): Promise<Hypercore | null> {
    const hex = b4a.toString(feed, 'hex')
    this.keepOpen(hex)
    const lazy = this.lazy.get(hex)
    if (lazy !== undefined) await this.openRemote(lazy.feed)
    else await this.feedsOpening.get(hex)
    const core = this.core(feed)
    if (core !== null && !core.opened) await core.ready() // another call is opening it
    return core
  }

  /**
   * Records, at a clean close, every tracked feed in one open record: those indexed up to their
   * whole length (and those never opened) with their checkpoints, so the next open can leave them
   * closed without reading a row per feed. Only the record's shards that a feed opened, indexed or
   * untracked since the open changed are listed and written. A failure here only makes that open slower.
   */
  private async recordSettled (): Promise<void> {
    const state = this.stateInstance
    const indexer = this.indexerInstance
    const db = this.db
    if (state === null || indexer === null || db === null || this.opts.readOnly === true || !state.opened || state.closing || !indexer.opened || this.faulted) return
    const settled: OpenRecord['settled'] = []
    const unsettled: FeedKey[] = []
    try {
      const views = await viewsGeneration(db, true)
      if (views === null) return
      let shards = ALL_SHARDS
      if (state.recordOnDisk(views)) {
        shards = this.lazy.changed
        for (const core of this.remote.values()) shards |= core.key === null ? ALL_SHARDS : shardBit(core.key)
      }
      for (const [hex, l] of this.lazy) {
        if ((shards & shardBit(l.feed)) === 0) continue // as the record read at open holds it
        if (this.backlogged.has(hex)) unsettled.push(l.feed) // its backlog turn has not come: not indexed yet
        else settled.push(l) // an entry unchanged since the open record was read is copied, not encoded
      }
      for (const core of this.remote.values()) {
        const feed = core.key as FeedKey
        const checkpoint = core.opened && !core.closing && !this.watch.isRefused(feed) ? indexer.checkpointOf(feed) : null
        if (checkpoint !== null && checkpoint.position >= core.length) settled.push({ feed, checkpoint })
        else unsettled.push(feed)
      }
      await state.setOpenRecord({ views, settled, unsettled }, shards)
    } catch {
      // Nothing recorded: the next open opens every feed, as without this record.
    }
  }

  private async leaveNetwork (): Promise<void> {
    const replicator = this.replicatorInstance
    const network = this.network
    this.dmRequestsInstance?.detach()
    this.replicatorInstance = null
    this.network = null
    this.roomsInstance?.detach()
    if (replicator) await replicator.close()
    if (network) await network.close()
  }

  /**
   * Closes what openStorage opened (also after a partial open), in reverse order; `forget` drops
   * the closed parts so openStorage can open them again (keys stay readable after a final close).
   */
  private async closeStorage (forget = false): Promise<void> {
    if (this.backlog !== null) await this.backlog.close()
    await this.idleFeeds.clear()
    await this.recordSettled()
    if (this.dmTimer !== null) clearInterval(this.dmTimer)
    this.dmTimer = null
    if (this.roomsInstance) await this.roomsInstance.close()
    if (this.indexerInstance) await this.indexerInstance.close()
    if (this.dmInstance) await this.dmInstance.close()
    for (const core of this.remote.values()) await core.close()
    this.remote.clear()
    this.lazy.clear()
    this.backlog = null
    this.backlogged.clear()
    if (this.feedInstance) await this.feedInstance.close()
    if (this.storeInstance) await closeCorestore(this.storeInstance)
    if (this.db) await this.db.close()
    if (this.stateInstance) await this.stateInstance.close()
    if (!forget) return
    this.roomsInstance = null
    this.indexerInstance = null
    this.dmInstance = null
    this.dmRequestsInstance = null
    this.viewsInstance = null
    this.feedInstance = null
    this.storeInstance = null
    this.db = null
    this.stateInstance = null
    this.rolledBack = null
  }

  /** `e`, after marking the storage for reopening when it is a storage failure (the next write or reindex reopens it). */
  private noteFault (e: ShoalError): ShoalError {
    if (e.code === 'NO_SPACE' || e.code === 'STORAGE_ERROR') this.faulted = true
    return e
  }

  /**
   * The indexer failed in the background (a full disk: RocksDB says only "Batch was not
   * applied"): reported as a coded error, and the next write or reindex reopens the storage.
   */
  private async indexFault (err: Error): Promise<void> {
    this.emit('error', this.noteFault(await writeFault(this.paths.root, 'cannot update the views', err)))
  }

  /**
   * After a write failed in the storage (a full disk leaves RocksDB refusing every later write
   * until it is reopened): closes and reopens the storage, and rejoins the network if joined.
   * Fails with the reopen's error (NO_SPACE while the disk is still full); the next write retries.
   */
  private recover (): Promise<void> {
    if (this.recovering === null) {
      this.recovering = this.reopen().finally(() => { this.recovering = null })
    }
    return this.recovering
  }

  private async reopen (): Promise<void> {
    if (this.opts.readOnly === true) throw ShoalError.READ_ONLY('this node was opened read-only')
    if (await lowOnSpace(this.paths.root)) throw ShoalError.NO_SPACE(`the disk holding ${this.paths.root} is still full; free some space and try again`)
    const join = this.joined
    await this.leaveNetwork()
    await this.closeStorage(true)
    try {
      await this.openStorage()
    } catch (err) {
      await this.closeStorage(true)
      throw err
    }
    this.faulted = false
    if (join !== null) await this.joinNetwork(join)
  }

  /**
   * The views hit corruption while open: a fresh views database is built from the feeds (the
   * damaged one is moved aside by wipeDerived). Concurrent callers share one repair.
   */
  private repairViews (): Promise<void> {
    if (this.repairing === null) {
      const db = this.need(this.db)
      const reason = db.damaged
      this.repairing = (async () => {
        await this.rebuildViews()
        const w = db.txn()
        w.put(META_VERSION, b4a.from([VIEWS_VERSION]))
        await w.commit()
        this.viewsRebuilt = reason ?? 'damaged views'
      })().finally(() => { this.repairing = null })
    }
    return this.repairing
  }

  /** Runs a views read; if it failed on damaged views, repairs them and runs it once more. */
  private async read<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (this.opts.readOnly === true || (this.repairing === null && this.db?.damaged == null)) throw err
      await this.repairViews()
      return fn()
    }
  }

  /**
   * Brings back the blocks of my own feed that were lost locally (FEED_ROLLED_BACK) from the peers
   * it is replicating with (any peer that tracks my feed holds them), then allows appends again.
   * Resolves true once restored (or when nothing was lost), false when no peer had them all.
   * ShoalApp calls it on each new peer while `health.rolledBack` is set, and `shoal sync` after syncing.
   */
  async restoreFeed (): Promise<boolean> {
    const lost = this.rolledBack
    if (lost === null) return true
    const core = this.need(this.feedInstance).core
    await core.update({ force: true, wait: true })
    if (core.length < lost.expected) return false
    await core.download({ start: lost.length, end: core.length }).done()
    if (this.rolledBack !== lost) return this.rolledBack === null // another call restored it meanwhile
    await this.need(this.stateInstance).setDeviceFeed(core.key as FeedKey, core.length)
    this.rolledBack = null
    await this.read(() => untilIndexed(this.indexer, this.paths.root, core.key as FeedKey, core.length))
    return true
  }

  /** What went wrong with the local storage and how the node dealt with it. */
  get health (): StorageHealth {
    return { rolledBack: this.rolledBack, viewsRebuilt: this.viewsRebuilt, replacedFeed: this.replacedFeed }
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

  /** The rooms this device is in (src/node/room-service.ts). */
  get rooms (): RoomService {
    // A room write on a full disk closes its Autobase: NO_SPACE, and the next call reopens the storage.
    const of = this.need(this.roomsInstance)
    if (this.roomsThrough?.of !== of) this.roomsThrough = { of, through: this.service(() => this.need(this.roomsInstance), true) }
    return this.roomsThrough.through
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
  async addFeed (feed: FeedKey, owner: IdentityKey | null = null): Promise<void> {
    if (!(feed instanceof Uint8Array) || feed.byteLength !== 32) throw ShoalError.INVALID_ARGUMENT('a feed key is 32 bytes')
    const hex = b4a.toString(feed, 'hex')
    if (b4a.equals(feed, this.feedKey) || this.watch.isRefused(feed)) return
    if (this.remote.has(hex)) { // tracked: done once an open in progress is
      this.keepOpen(hex)
      return await this.feedsOpening.get(hex)
    }
    if (this.lazy.has(hex)) return this.openRemote(feed, owner)
    await this.need(this.stateInstance).track([feed])
    await this.openRemote(feed, owner)
  }

  /**
   * Opens a tracked feed (also one left closed: findLazy cleared the open record, so a crash
   * reopens it). Resolves once it is watched, downloading and indexed as an open feed; a call
   * while another is opening it waits for that one.
   */
  private openRemote (feed: FeedKey, owner: IdentityKey | null = null): Promise<void> {
    const hex = b4a.toString(feed, 'hex')
    const inProgress = this.feedsOpening.get(hex)
    if (inProgress !== undefined) return inProgress
    if (this.remote.has(hex)) return Promise.resolve()
    const opened = this.runOpenRemote(feed, hex, owner).finally(() => {
      this.feedsOpening.delete(hex)
      this.noteIdle(hex) // indexed whole already (nothing new in it): no 'indexed' comes, so it is idle from here
    })
    this.feedsOpening.set(hex, opened)
    return opened
  }

  private async runOpenRemote (feed: FeedKey, hex: string, owner: IdentityKey | null): Promise<void> {
    this.lazy.delete(hex)
    const core = this.store.get({ key: feed })
    this.remote.set(hex, core)
    await core.ready()
    this.watch.add(core, owner)
    if (this.watch.isRefused(feed)) return
    // The last peer replicating it left: idle now, if indexed to its whole length.
    core.on('peer-remove', () => { if (core.peers.length === 0) this.noteIdle(hex) })
    this.downloads.add(core)
    await this.indexer.add(core)
    if (this.remote.get(hex) !== core) this.indexer.remove(feed) // untracked while it was being added
  }

  /** Feeds this node tracks besides its own. */
  get trackedFeeds (): FeedKey[] {
    return [...[...this.remote.values()].map((c) => c.key as FeedKey), ...[...this.lazy.values()].map((l) => l.feed)]
  }

  /** How many feeds trackedFeeds lists, without listing them (a sync checks it every round). */
  get trackedCount (): number {
    return this.remote.size + this.lazy.size
  }

  /** The open tracked feeds (a lazily closed one opens when replicated or read). */
  trackedCores (): Hypercore[] {
    return [...this.remote.values()]
  }

  /** Blocks held over every tracked feed: open ones as stored, lazily closed ones as indexed. */
  trackedBlocks (): number {
    let n = 0
    for (const core of this.remote.values()) n += core.contiguousLength
    for (const l of this.lazy.values()) n += l.checkpoint.position
    return n
  }

  /** This device's feed or a tracked feed, or null. */
  core (feed: Uint8Array): Hypercore | null {
    if (b4a.equals(feed, this.feedKey)) return this.need(this.feedInstance).core
    return this.remote.get(b4a.toString(feed, 'hex')) ?? null
  }

  /** Signs with the identity key under a namespace-hashed payload (the peer channel's identify). */
  signIdentity (payload: Uint8Array): Uint8Array {
    const sig = b4a.alloc(64)
    sodium.crypto_sign_detached(sig, payload, this.need(this.keyPair).secretKey)
    return sig
  }

  /**
   * Stops holding an identity's feeds: no longer indexed, replicated or served, and their
   * blocks are purged from storage. (A block has already deleted what the views derived from them.)
   * Does nothing for an identity I do not block by then (see dropBlocked).
   */
  async dropIdentity (identity: IdentityKey): Promise<void> {
    if (b4a.equals(identity, this.identity)) return
    await this.blockTask(this.dropBlocked(identity))
  }

  /**
   * dropIdentity, for an identity I still block: a scope computed before an unblock may ask for
   * it after, and the unblock must keep their feeds. The check and the letting go of every feed
   * are one step with no wait, so no unblock is applied in between.
   */
  private async dropBlocked (identity: IdentityKey): Promise<void> {
    await this.openLazyOf(identity)
    await this.indexer.blocks(identity) // read once; kept current from then on by my contact records
    if (!this.indexer.blockedNow(identity) || this.closing) return
    // Every tracked feed whose header names it, whether or not the views have indexed it.
    const held: Array<[FeedKey, Hypercore]> = []
    for (const feed of [...this.watch.feedsOf(identity), ...this.indexer.feedsOf(identity)]) {
      const core = this.letGo(feed)
      if (core !== null) held.push([feed, core])
    }
    for (const [feed, core] of held) await this.purgeFeed(feed, core)
  }

  /** Tracked feeds whose attested header names `identity`. */
  feedsOfIdentity (identity: IdentityKey): FeedKey[] {
    return this.watch.feedsOf(identity)
  }

  /** A feed refused in this run (oversize block or storage cap); it is not tracked again. */
  isRefused (feed: Uint8Array): boolean {
    return this.watch.isRefused(feed)
  }

  /** Stops tracking one feed: no longer indexed, replicated or served; its blocks are purged. */
  private async untrack (feed: FeedKey): Promise<void> {
    const core = this.letGo(feed)
    if (core !== null) await this.purgeFeed(feed, core)
  }

  /** Stops indexing, replicating and serving an open tracked feed at once (no wait): its core, or null. */
  private letGo (feed: FeedKey): Hypercore | null {
    const hex = b4a.toString(feed, 'hex')
    const core = this.remote.get(hex)
    if (core === undefined || this.closing) return null
    this.remote.delete(hex)
    this.watch.remove(feed)
    this.indexer.remove(feed)
    return core
  }

  /** Forgets a feed let go (letGo) in the node state and purges its blocks. */
  private async purgeFeed (feed: FeedKey, core: Hypercore): Promise<void> {
    await this.need(this.stateInstance).untrack(feed)
    await core.purge()
    await core.close()
  }

  /**
   * Joins the network: announces and looks up the topics of every identity in scope, replicates
   * with every peer found, and keeps doing so until close().
   */
  async joinNetwork (opts: JoinOptions = {}): Promise<Replicator> {
    if (this.replicatorInstance) return this.replicatorInstance
    if (this.network !== null) throw ShoalError.NETWORK_ERROR('already joining the network')
    this.joined = opts
    // The storage's DHT key (stable, so our own stale announces are never dialled); LAN's is fresh.
    const keyPair = await this.store.createKeyPair(SWARM_KEY_NAME)
    const network = createNetwork({ keyPair, dht: opts.dht, bootstrap: opts.bootstrap, lan: opts.lan, lanOptions: opts.lanOptions })
    this.network = network // from here on close() tears it down, even mid-start
    try {
      await network.ready()
    } catch (err) {
      // Not joined: a later joinNetwork may try again (it refused with "already joining").
      if (this.network === network) this.network = null
      await network.close().catch(safetyCatch)
      throw err
    }
    // Lazily closed feeds stay closed: the replicator opens one when a peer offers it or asks for
    // its identity (openFeed), so the cost of joining follows the peers found, not the feeds held.
    if (this.closing) throw ShoalError.CLOSED('this Shoal closed while joining')
    const replicator = new Replicator(this, { hops: opts.hops, transports: network.transports, limits: opts.limits })
    replicator.on('error', (err: Error) => this.emit('error', err))
    this.replicatorInstance = replicator
    this.dmRequestsInstance?.attach(replicator)
    const rooms = this.need(this.roomsInstance) // the reopen that replaces it rejoins with the new one
    replicator.on('replicating', (conn: Connection) => rooms.onConnection(conn))
    replicator.on('peer', (s: PeerSession) => { if (s.remoteIdentity !== null && b4a.equals(s.remoteIdentity, this.identity)) rooms.onOwnDevice(s.conn) })
    replicator.on('released', (feeds: string[]) => { for (const hex of feeds) this.noteIdle(hex) }) // a closed session's offered feeds: maybe idle now
    await replicator.ready()
    rooms.attach(replicator)
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
  status (): Promise<Status> {
    return this.read(() => this.readStatus())
  }

  /**
   * A fingerprint of what status() reports, read from memory with no views read: it changes when
   * the status may have (something indexed, a feed's lengths, tracked feeds, a wire issue, peers,
   * drops), so a poller reads the whole status only then. Costs a sum over the open feeds.
   */
  statusStamp (): string {
    let length = 0
    let local = 0
    for (const core of this.remote.values()) { length += core.length; local += core.contiguousLength }
    const r = this.replicatorInstance
    const drops = r?.recentDrops() ?? []
    return [this.indexedEvents, this.trackedCount, length, local, this.watch.issueCount, drops.length, drops[drops.length - 1]?.at ?? 0, JSON.stringify(r?.peerList() ?? [])].join(' ')
  }

  /** The identities I block (hex), as the views say now. */
  private async blockedHex (): Promise<Set<string>> {
    return new Set((await this.views.blocking(this.identity)).map((k) => b4a.toString(k, 'hex')))
  }

  private async readStatus (): Promise<Status> {
    const blocked = await this.blockedHex()
    const identities: Status['identities'] = []
    const devices = await this.views.held()
    for (const [hex, { id, feeds }] of devices) {
      if (blocked.has(hex)) continue
      identities.push({ id: identityToString(id), feeds: await this.feedStatus(id, feeds) })
    }
    // Identities whose only feeds were refused (oversize, storage cap) are listed with the reason.
    for (const hex of this.watch.flaggedOwners()) {
      if (blocked.has(hex) || devices.has(hex)) continue
      const id = b4a.from(hex, 'hex') as IdentityKey
      identities.push({ id: identityToString(id), feeds: await this.feedStatus(id) })
    }
    return { peers: this.replicatorInstance?.peerList() ?? [], identities, drops: this.replicatorInstance?.recentDrops() ?? [] }
  }

  /** Progress and wire issues of an identity's feeds; refused ones stay listed with their reason. */
  private async feedStatus (id: IdentityKey, devices?: FeedKey[]): Promise<FeedStatus[]> {
    const keys = new Set([...(devices ?? await this.views.feedsOf(id)).map((f) => b4a.toString(f, 'hex')), ...this.watch.flaggedOf(b4a.toString(id, 'hex'))])
    const feeds: FeedStatus[] = []
    for (const hex of keys) {
      const feed = b4a.from(hex, 'hex')
      const core = this.core(feed)
      const issues = this.watch.issues(feed)
      const lengths = core !== null ? { local: core.contiguousLength, remote: core.length } : await this.closedLengths(hex)
      if (lengths !== null || issues.length > 0) feeds.push({ key: feedToString(feed), local: lengths?.local ?? 0, remote: lengths?.remote ?? 0, issues })
    }
    return feeds
  }

  /**
   * The lengths of a feed left closed, without opening it for good (status must not open thousands
   * of feeds): one settled at the last clean close was indexed to its whole length, its checkpoint's
   * position; one still waiting for its backlog turn is read from a session closed right after.
   * Null for a feed that is not lazily closed.
   */
  private async closedLengths (hex: string): Promise<{ local: number, remote: number } | null> {
    const lazy = this.lazy.get(hex)
    if (lazy === undefined) return null
    if (!this.backlogged.has(hex)) return { local: lazy.checkpoint.position, remote: lazy.checkpoint.position }
    const session = this.store.get({ key: lazy.feed })
    try {
      await session.ready()
      return { local: session.contiguousLength, remote: session.length }
    } finally {
      await session.close()
    }
  }

  /** Corestore replication over a stream (or a new one, given which side initiates). */
  replicate (isInitiatorOrStream: boolean | unknown): ReturnType<Corestore['replicate']> {
    return this.store.replicate(isInitiatorOrStream)
  }

  /**
   * Resolves once `feed` is indexed up to `length` blocks (e.g. after replication), or once nothing
   * more of it can be: refused in this run, or untracked while it opened. The feed stays open
   * while this waits: neither its backlog turn nor an idle close (openFeeds) closes it.
   */
  async waitForIndexed (feed: Uint8Array, length: number): Promise<void> {
    const hex = b4a.toString(feed, 'hex')
    if (this.watch.isRefused(feed)) return // never tracked again in this run: nothing more of it is indexed
    const lazy = this.lazy.get(hex)
    if (lazy !== undefined && lazy.checkpoint.position >= length) return // indexed that far while open
    this.keepOpen(hex) // a backlog turn would close it once what it stores is indexed: `length` may be more
    this.waiters.set(hex, (this.waiters.get(hex) ?? 0) + 1) // and no idle close takes it while this waits
    try {
      const opening = lazy !== undefined ? this.openRemote(lazy.feed) : this.feedsOpening.get(hex)
      if (opening !== undefined) {
        await opening // the indexer knows the feed once it is open,
        if (this.indexer.checkpointOf(feed) === null) return // unless it was refused or untracked meanwhile
      }
      await this.indexer.waitFor(feed, length)
    } finally {
      const n = (this.waiters.get(hex) ?? 1) - 1
      if (n > 0) this.waiters.set(hex, n)
      else {
        this.waiters.delete(hex)
        this.noteIdle(hex)
      }
    }
  }

  /** A feed someone asked for (hex) stays open after its backlog turn, if it is in one (turnOnly). */
  private keepOpen (hex: string): void {
    this.turnOnly.delete(hex)
  }

  /** Resolves when every block stored locally is indexed (the closed feeds' backlog included). */
  async indexed (): Promise<void> {
    await this.blockSettled()
    if (this.backlog !== null) await this.backlog.done()
    return this.indexer.idle()
  }

  // --- writing -------------------------------------------------------------------------

  private async write (rec: MessageRecord): Promise<MessageRef> {
    encodeRecord(rec) // every cap and shape rule, before anything is touched
    return this.writeWith(async () => rec)
  }

  /** Appends the record `build` makes for the seq it will get (no other append in between). */
  private async writeWith (build: (seq: number) => Promise<MessageRecord | DmRecord>): Promise<MessageRef> {
    if (this.faulted) await this.recover()
    const feed = this.need(this.feedInstance)
    if (this.rolledBack !== null) throw this.rolledBackError()
    if (this.opts.readOnly === true) throw ShoalError.READ_ONLY('this node was opened read-only')
    // Armed before the append: the indexer may fail on the new block before append() resolves.
    const watch = watchIndexer(this.indexer, this.paths.root)
    let ref: MessageRef | null = null
    try {
      ref = await feed.appendWith(build)
      await this.need(this.stateInstance).setFeedLength(ref.seq + 1)
      const written = ref
      await this.read(() => watch.until(feed.key, written.seq + 1))
      return ref
    } catch (err) {
      let e = this.noteFault(await writeFault(this.paths.root, 'cannot write to my feed', err))
      if (ref !== null && e.code === 'NO_SPACE') {
        e = ShoalError.NO_SPACE(`${e.detail} (the message itself was written as ${refToString(ref)}; it shows once the views catch up)`, err)
      }
      throw e
    } finally {
      watch.stop()
    }
  }

  private rolledBackError (): ShoalError {
    const r = this.rolledBack as { length: number, expected: number }
    return ShoalError.FEED_ROLLED_BACK(`my device feed has ${r.length} blocks but had ${r.expected} (blocks lost in a crash); ` +
      'appending now would fork it, so writing is paused until the lost blocks are restored from a peer that holds them ' +
      '(run "shoal sync", or keep "shoal serve" running, to reach a peer that follows me)')
  }

  private now (): number {
    return (this.opts.now ?? Date.now)()
  }

  /** Posts, or replies to `reply` in its thread (UNKNOWN_MESSAGE when that message is not known here or was deleted). */
  async post (input: PostInput): Promise<MessageRef> {
    checkNotBlank(input.text, 'a post')
    checkNotBlank(input.cw, 'the content warning')
    let root: MessageRef | null = null
    let parent: MessageRef | null = null
    if (input.reply) {
      parent = input.reply
      encodeRecord({ type: 'post', timestamp: 0, text: input.text, root: parent, parent, cw: input.cw ?? null, mentions: [] }) // shape and caps before the lookup
      // Its thread is the parent's: a parent not known here (not yet held, deleted, or by someone I
      // block) would make the reply the root of a thread of its own, listed under no thread.
      root = (await this.known(parent)).root ?? parent
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
    checkNotBlank(emoji, 'the emoji')
    const rec: MessageRecord = { type: 'reaction', timestamp: this.now(), target, emoji, remove: opts.remove === true }
    encodeRecord(rec) // shape and caps before the lookup
    await this.known(target)
    if (opts.remove === true && !(await this.read(() => this.views.reacted(this.identity, target, emoji)))) {
      throw ShoalError.NOT_REACTED(`you have no ${emoji} reaction on ${refToString(target)} to remove`)
    }
    return this.write(rec)
  }

  async edit (target: MessageRef, text: string): Promise<MessageRef> {
    checkNotBlank(text, 'an edit')
    const rec: MessageRecord = { type: 'edit', timestamp: this.now(), target, text }
    encodeRecord(rec)
    await this.own(target)
    return this.write(rec)
  }

  async delete (target: MessageRef): Promise<MessageRef> {
    const rec: MessageRecord = { type: 'delete', timestamp: this.now(), target }
    encodeRecord(rec)
    await this.own(target)
    return this.write(rec)
  }

  /** Follows `who`; BLOCKED while I block them (unblock first). */
  follow (who: IdentityKey): Promise<MessageRef> { return this.contact('follow', who) }

  unfollow (who: IdentityKey): Promise<MessageRef> { return this.contact('unfollow', who) }
  /**
   * Blocks `who`; their lazily closed feeds are opened first so the purge resets their checkpoints.
   * Joined to a network, their feeds are dropped (untracked and purged) by the time it resolves.
   */
  async block (who: IdentityKey): Promise<MessageRef> {
    encodeRecord({ type: 'block', timestamp: 0, target: who }) // a 32-byte key, before it is used
    await this.openLazyOf(who)
    const ref = await this.contact('block', who)
    await this.blockSettled()
    return ref
  }
  /** Unblocks `who`; resolves once the feeds of theirs that we hold are indexed again. */
  async unblock (who: IdentityKey): Promise<MessageRef> {
    encodeRecord({ type: 'unblock', timestamp: 0, target: who })
    await this.blockSettled() // a drop under way finishes first: what it let go is not waited for below
    await this.openLazyOf(who) // their feeds are indexed again from block 0
    const ref = await this.contact('unblock', who)
    await this.blockSettled()
    await this.indexer.waitForIdentity(who)
    return ref
  }

  /** Tracks work a block change started (see blockWork); its failure is not the caller's. */
  private blockTask (work: Promise<void>): Promise<void> {
    const task = work.catch(safetyCatch)
    this.blockWork.add(task)
    task.finally(() => this.blockWork.delete(task)).catch(safetyCatch)
    return task
  }

  /** Resolves once the work that block changes started (blockWork) is done. */
  private async blockSettled (): Promise<void> {
    while (this.blockWork.size > 0) await Promise.all(this.blockWork)
  }

  private async contact (type: ContactType, target: IdentityKey): Promise<MessageRef> {
    encodeRecord({ type, timestamp: 0, target }) // a 32-byte key, before it is compared
    if (b4a.equals(target, this.identity)) throw ShoalError.INVALID_ARGUMENT(`you cannot ${type} yourself`)
    if (type === 'follow' && await this.read(() => this.views.blocks(this.identity, target))) {
      throw ShoalError.BLOCKED(`you block ${identityToString(target)}; unblock them first`)
    }
    return this.write({ type, timestamp: this.now(), target })
  }

  async setProfile (p: { name?: string | null, bio?: string | null }): Promise<MessageRef> {
    checkNotBlank(p.name, 'the name')
    return this.write({ type: 'about', timestamp: this.now(), name: p.name ?? null, bio: p.bio ?? null })
  }

  private async known (ref: MessageRef): Promise<StoredPost> {
    const post = await this.read(() => this.views.post(ref))
    if (post === null) throw ShoalError.UNKNOWN_MESSAGE(`message ${refToString(ref)} is not known here (or was deleted)`)
    return post
  }

  private async own (ref: MessageRef): Promise<void> {
    const post = await this.known(ref)
    if (!b4a.equals(post.author, this.identity)) throw ShoalError.NOT_OWN_MESSAGE(`message ${refToString(ref)} was written by someone else`)
  }

  // --- reading -------------------------------------------------------------------------

  whoami (): Promise<WhoAmI> {
    return this.read(() => this.readWhoami())
  }

  private async readWhoami (): Promise<WhoAmI> {
    const feeds = await this.views.feedsOf(this.identity)
    return {
      id: this.id,
      name: await this.views.nameOf(this.identity),
      feed: feedToString(this.feedKey),
      feeds: feeds.map(feedToString)
    }
  }

  timeline (q: TimelineQuery = {}): Promise<Page> {
    return this.read(() => this.views.timeline(q))
  }

  /** One page of a thread (see Views.thread): root, up to `limit` replies, the `next` cursor. */
  thread (ref: MessageRef, q: ThreadQuery = {}): Promise<ThreadPage> {
    return this.read(() => this.views.thread(ref, q))
  }

  mentions (opts: { limit?: number } = {}): Promise<{ items: Item[] }> {
    return this.read(() => this.views.mentions(opts))
  }

  /** Notification time (ms) up to which the person has seen their notifications (node state). */
  notificationsSeen (): Promise<number> {
    return this.need(this.stateInstance).notificationsSeen()
  }

  /** Moves the notifications "seen" marker forward to `at` (ms); resolves to the marker. */
  markNotificationsSeen (at: number): Promise<number> {
    return this.need(this.stateInstance).setNotificationsSeen(at)
  }

  profile (who?: IdentityKey): Promise<Profile> {
    return this.read(() => this.views.profile(who ?? this.identity))
  }

  /** Rebuilds every view from the feeds; the result must equal the incremental one. */
  async reindex (): Promise<IndexTotals> {
    if (this.faulted) await this.recover()
    if (this.repairing !== null) await this.repairing
    const indexer = this.indexer
    await whileIndexing(indexer, this.paths.root, 'cannot rebuild the views', () => this.rebuildViews()).catch((err: ShoalError) => { throw this.noteFault(err) })
    const totals = this.totals()
    const db = this.need(this.db)
    if (db.repaired !== null && this.viewsRebuilt === null) this.viewsRebuilt = db.repaired
    if ((await db.get(META_VERSION)) === null) {
      const w = db.txn()
      w.put(META_VERSION, b4a.from([VIEWS_VERSION]))
      await w.commit()
    }
    return totals
  }

  /** Records indexed over every tracked feed (lazily closed ones by their checkpoints). */
  totals (): IndexTotals {
    const t = this.indexer.totals()
    for (const { checkpoint: c } of this.lazy.values()) {
      t.messages += c.messages
      t.malformed += c.malformed
      t.unknown += c.unknown
    }
    return t
  }
}
