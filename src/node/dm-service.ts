/**
 * The DM service owned by Shoal: wires the crypto core (src/dm) to this device's feed, the
 * indexer and the DM store (primary state). It publishes this device's `keys` record, keeps the
 * other devices' keys, seals DMs for every device of every participant (own devices included),
 * and opens the boxes the indexer hands it, exactly once per (feed, seq). See docs/DM.md.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import { namespaceHash } from '../caps.js'
import { ShoalError } from '../errors.js'
import { identityToString, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import {
  DM_CAPS, createDeviceKeys, keepSession, maintainDeviceKeys, openBox, sealBox, sendingSession, startSession, verifyKeysRecord,
  type DeviceKeys, type KeyPolicy, type Session, type Signer
} from '../dm/index.js'
import { coarseTime } from '../dm/envelope.js'
import { CAPS, type DmRecord } from '../feeds/schema.js'
import type { DmItem } from '../views/indexer.js'
import {
  DmStore, decodeConversation, decodeDeviceKeys, decodeDm, decodeRemote, decodeSessions, decodeU64, dmKeys, encodeConversation,
  encodeDeviceKeys, encodeDm, encodeRemote, encodeSessions, encodeU64, type Entry, type RemoteDevice, type StoredConversation, type StoredDm
} from './dm-store.js'
import type { NodeState } from './node-state.js'
import { checkTyped } from './input-checks.js'

/** What the service needs from the node that owns it. */
export interface DmHost {
  state: NodeState
  identity: IdentityKey
  feedKey: FeedKey
  /** Signs this device's `keys` records: the identity key pair, naming my feed key in the payload. */
  signer: Signer
  /** How long my feed is (or was, before blocks lost in a crash that a peer will restore). */
  feedLength: () => number
  now: () => number
  /** Appends one record built for the seq it will get, with no other append in between. */
  appendAt: (build: (seq: number) => Promise<DmRecord>) => Promise<MessageRef>
  /** The identities I block now (hex): their DMs and reactions are kept but not shown. */
  blocked?: () => Promise<Set<string>>
}

export interface DmOptions { policy?: KeyPolicy }

/** Counts since open: boxes opened, boxes not for this device, and boxes refused with a coded error. */
export interface DmStats { opened: number, notForMe: number, rejected: number, keysRejected: number }

export interface DmSendInput {
  to: IdentityKey[]
  text: string
  parent?: MessageRef | null
  /** Send `text` (an emoji) as a reaction to `parent`. */
  reaction?: boolean
}

export interface DmPage { items: StoredDm[], next: string | null }

const CONVERSATION = 'dm-conversation/v1'
const SAFETY = 'dm-safety/v1'
/** Quiet time after receiving before the DM rows are compacted (used keys leave the files). */
const COMPACT_AFTER_MS = 2000

/** The conversation id of a set of identities (sender included): a hash of the sorted keys. */
export function conversationId (participants: readonly Uint8Array[]): Uint8Array {
  return namespaceHash(CONVERSATION, ...sortedUnique(participants))
}

function sortedUnique (ids: readonly Uint8Array[]): IdentityKey[] {
  const seen = new Map<string, IdentityKey>()
  for (const id of ids) seen.set(b4a.toString(id, 'hex'), id as IdentityKey)
  return [...seen.keys()].sort().map((h) => seen.get(h) as IdentityKey)
}

export class DmService extends ReadyResource {
  private readonly store: DmStore
  private keys: DeviceKeys | null = null
  private readonly remote = new Map<string, RemoteDevice>()
  private readonly sessions = new Map<string, Session[]>()
  private readonly checkpoints = new Map<string, number>()
  private readonly wrapCache = new Map<string, Uint8Array>()
  private lock: Promise<void> = Promise.resolve()
  private readonly counts: DmStats = { opened: 0, notForMe: 0, rejected: 0, keysRejected: 0 }
  /** Ratchet states were replaced since the last compaction (old message keys may sit on disk). */
  private stale = false
  private compactTimer: ReturnType<typeof setTimeout> | null = null

  constructor (private readonly host: DmHost, private readonly opts: DmOptions = {}) {
    super()
    this.store = new DmStore(host.state)
  }

  protected override async _open (): Promise<void> {
    const raw = await this.store.get(dmKeys.deviceKeys())
    if (raw !== null) {
      this.keys = decodeDeviceKeys(raw)
    } else {
      // Random keys, never derived from the identity seed; committed before anything is published.
      this.keys = createDeviceKeys({ signer: this.host.signer, now: this.host.now(), policy: this.opts.policy })
      await this.store.write([[dmKeys.deviceKeys(), encodeDeviceKeys(this.keys)]])
    }
    for (const { key, value } of await this.store.scan(dmKeys.remote(b4a.alloc(0)))) {
      const feed = b4a.from(key.subarray(2)) as FeedKey
      this.remote.set(b4a.toString(feed, 'hex'), decodeRemote(feed, value))
    }
    for (const { key, value } of await this.store.scan(dmKeys.sessions(b4a.alloc(0)))) this.sessions.set(b4a.toString(key.subarray(2), 'hex'), decodeSessions(value))
    for (const { key, value } of await this.store.scan(dmKeys.checkpoint(b4a.alloc(0)))) this.checkpoints.set(b4a.toString(key.subarray(2), 'hex'), decodeU64(value))
    await this.dropUnwritten()
  }

  /** Compacts what receiving left behind, so a storage folder copied after close holds no used keys. */
  protected override async _close (): Promise<void> {
    if (this.compactTimer !== null) clearTimeout(this.compactTimer)
    this.compactTimer = null
    await this.lock
    if (this.stale) await this.store.compact()
    this.stale = false
  }

  /**
   * Overwritten ratchet states stay in RocksDB's files until a compaction: compact the DM rows
   * once receiving has been quiet for COMPACT_AFTER_MS (and on close), not once per message.
   */
  private staleSessions (): void {
    this.stale = true
    if (this.compactTimer !== null) clearTimeout(this.compactTimer)
    this.compactTimer = setTimeout(() => {
      this.compactTimer = null
      this.exclusive(async () => {
        if (!this.stale || this.closing) return
        this.stale = false
        await this.store.compact()
      }).catch(safetyCatch)
    }, COMPACT_AFTER_MS)
  }

  /**
   * A DM whose sessions were committed but whose block never reached the feed (a crash between
   * the two) is removed: the receivers see a skipped message number, nothing else.
   */
  private async dropUnwritten (): Promise<void> {
    const length = this.host.feedLength()
    const drop: Entry[] = []
    for (const { key, value } of await this.store.scan(dmKeys.messageRefsOf(this.host.feedKey))) {
      const seq = decodeU64(key.subarray(key.byteLength - 8))
      if (seq < length) continue
      const conv = value.subarray(0, 32)
      drop.push([key, null], [dmKeys.message(conv, decodeU64(value.subarray(32, 40)), { feed: this.host.feedKey, seq }), null])
    }
    if (drop.length > 0) await this.store.write(drop)
  }

  /** Runs `fn` with no other change to the DM state in between. */
  private exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn)
    this.lock = run.then(() => {}, () => {})
    return run
  }

  get stats (): DmStats {
    return { ...this.counts }
  }

  /** This device's DM identity key (X25519, 32 bytes). */
  get identityKey (): Uint8Array {
    return this.need().identity.publicKey
  }

  private need (): DeviceKeys {
    if (this.keys === null) throw ShoalError.CLOSED('the DM service is not open')
    return this.keys
  }

  /**
   * Applies the key policy (rotation, deletion after grace) and appends this device's `keys`
   * record when it is new or was never published. Call on open and once a day.
   */
  async maintainKeys (): Promise<void> {
    const next = await this.exclusive(async () => {
      const keys = this.need()
      const next = maintainDeviceKeys(keys, { signer: this.host.signer, now: this.host.now(), policy: this.opts.policy })
      if (next !== keys) {
        await this.store.write([[dmKeys.deviceKeys(), encodeDeviceKeys(next)]])
        this.keys = next
        if (next.prekeys.length < keys.prekeys.length) await this.store.compact()
      }
      return next
    })
    const published = await this.store.get(dmKeys.published())
    if (published !== null && decodeU64(published) === next.record.createdAt) return
    await this.host.appendAt(async () => ({ type: 'keys', timestamp: next.record.createdAt, keys: next.record }))
    await this.store.write([[dmKeys.published(), encodeU64(next.record.createdAt)]])
  }

  /** The devices (feed and keys) of `identity` that have published DM keys; for me, my other devices. */
  devicesOf (identity: Uint8Array): RemoteDevice[] {
    const out: RemoteDevice[] = []
    for (const d of this.remote.values()) {
      if (b4a.equals(d.owner, identity) && !b4a.equals(d.feed, this.host.feedKey)) out.push(d)
    }
    return out.sort((a, b) => b4a.compare(a.feed, b.feed))
  }

  /**
   * Seals one DM for every device of every participant (my other devices included) and appends
   * it. Participants are `to` plus me: 2 to 16 identities (DM_TOO_MANY_RECIPIENTS beyond). Throws
   * DM_NO_DEVICES when a participant has no known device keys, BLOCKED when I block one of them
   * (unblock first; nothing is written), INVALID_ARGUMENT for bad input.
   */
  async send (input: DmSendInput): Promise<{ ref: MessageRef, conversation: Uint8Array }> {
    checkTyped(input.text, input.reaction === true ? CAPS.emoji : DM_CAPS.text, input.reaction === true ? 'an emoji' : 'a DM')
    if (!Array.isArray(input.to)) throw ShoalError.INVALID_ARGUMENT('recipients must be a list')
    for (const id of input.to) if (!(id instanceof Uint8Array) || id.byteLength !== 32) throw ShoalError.INVALID_ARGUMENT('a recipient is a 32-byte identity key')
    const participants = sortedUnique([...input.to, this.host.identity])
    if (participants.length < 2) throw ShoalError.INVALID_ARGUMENT('a DM needs at least one recipient besides yourself')
    if (participants.length > DM_CAPS.recipients) throw ShoalError.DM_TOO_MANY_RECIPIENTS(`${participants.length} identities, the cap is ${DM_CAPS.recipients} (you included)`)
    const blocked = await this.blocked()
    const refused = input.to.find((p) => blocked.has(b4a.toString(p, 'hex')))
    if (refused !== undefined) throw ShoalError.BLOCKED(`you block ${identityToString(refused)}; unblock them first`)
    const devices: RemoteDevice[] = []
    for (const p of participants) {
      const ds = this.devicesOf(p)
      if (ds.length === 0 && !b4a.equals(p, this.host.identity)) {
        throw ShoalError.DM_NO_DEVICES(`no DM keys are known for ${identityToString(p)}: follow them and let their feed sync first`)
      }
      devices.push(...ds)
    }
    const conversation = conversationId(participants)
    if (input.parent != null) {
      const at = await this.store.get(dmKeys.messageRef(input.parent))
      if (at === null || !b4a.equals(at.subarray(0, 32), conversation)) throw ShoalError.UNKNOWN_MESSAGE('the DM replied to is not in this conversation here')
    }
    const timestamp = this.host.now()
    if (input.reaction === true && input.parent == null) throw ShoalError.INVALID_ARGUMENT('a reaction names the DM it reacts to')
    const content = { timestamp, recipients: participants, text: input.text, parent: input.parent ?? null, reaction: input.reaction === true }
    const ref = await this.host.appendAt((seq) => this.exclusive(async () => {
      const keys = this.need()
      const chosen = devices.map((d) => {
        const list = this.sessions.get(b4a.toString(d.feed, 'hex')) ?? []
        const s = sendingSession(list)
        return s !== null ? { d, list, s, index: list.indexOf(s) } : { d, list, s: startSession(keys, d.keys, d.feed, undefined, d.owner), index: -1 }
      })
      const place = { feed: this.host.feedKey, seq }
      const sealed = chosen.length > 0
        ? sealBox({ ...place, content, sessions: chosen.map((x) => x.s) })
        : null
      if (sealed === null) throw ShoalError.DM_NO_DEVICES('no device to send to')
      const entries: Entry[] = []
      const lists = new Map<string, Session[]>()
      chosen.forEach((x, i) => {
        const list = keepSession(x.list, sealed.sessions[i], x.index)
        lists.set(b4a.toString(x.d.feed, 'hex'), list)
        entries.push([dmKeys.sessions(x.d.feed), encodeSessions(list)])
      })
      const dm: StoredDm = { ref: place as MessageRef, conversation, author: this.host.identity, timestamp, text: input.text, parent: input.parent ?? null }
      entries.push(...(input.reaction === true ? this.reactionEntries(dm) : await this.messageEntries(dm, participants, false)))
      // Committed before the append (docs/DM.md, wiring): a message key is never reused.
      await this.store.write(entries)
      for (const [hex, list] of lists) this.sessions.set(hex, list)
      return { type: 'box', timestamp: coarseTime(timestamp), block: sealed.block }
    }))
    this.emit('message', { conversation, ref, participants })
    return { ref, conversation }
  }

  /** A reaction: one emoji per (target, participant), the latest replacing the earlier. */
  private reactionEntries (dm: StoredDm): Entry[] {
    const target = dm.parent as MessageRef
    return [[dmKeys.reaction(target, dm.author), b4a.concat([encodeU64(dm.timestamp), b4a.from(dm.text)])]]
  }

  private async reactionsOf (ref: MessageRef, blocked: Set<string>): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const { key, value } of await this.store.scan(dmKeys.reactionsOf(ref))) {
      if (blocked.has(b4a.toString(key.subarray(key.byteLength - 32), 'hex'))) continue // the reactor (the key's tail)
      const emoji = b4a.toString(value.subarray(8))
      out[emoji] = (out[emoji] ?? 0) + 1
    }
    return out
  }

  private async messageEntries (dm: StoredDm, participants: IdentityKey[], unread: boolean, cache?: Map<string, StoredConversation>): Promise<Entry[]> {
    const key = b4a.toString(dm.conversation, 'hex')
    let conv = cache?.get(key)
    if (conv === undefined) {
      const raw = await this.store.get(dmKeys.conversation(dm.conversation))
      conv = raw !== null ? decodeConversation(raw) : { id: dm.conversation, participants, last: 0, unread: 0 }
      cache?.set(key, conv)
    }
    conv.last = Math.max(conv.last, dm.timestamp)
    if (unread) conv.unread++
    return [
      [dmKeys.message(dm.conversation, dm.timestamp, dm.ref), encodeDm(dm)],
      [dmKeys.messageRef(dm.ref), b4a.concat([dm.conversation, encodeU64(dm.timestamp)])],
      [dmKeys.conversation(dm.conversation), encodeConversation(conv)]
    ]
  }

  /**
   * The indexer's hook: `keys` and `box` records of one chunk of one feed, in feed order, before
   * the chunk's views commit. Each box is processed exactly once (the per-feed DM checkpoint
   * commits with its result); boxes from my own feed were stored when sent.
   */
  async receive (items: DmItem[]): Promise<void> {
    return await this.exclusive(async () => {
      // One batch per chunk: sessions, plaintext, conversations and checkpoints commit together.
      const batch: Entry[] = []
      const convs = new Map<string, StoredConversation>()
      const events: Array<{ conversation: Uint8Array, ref: MessageRef }> = []
      const sessions = new Map<string, Session[]>()
      const checkpoints = new Map<string, Entry>()
      for (const item of items) {
        const hex = b4a.toString(item.feed, 'hex')
        if (item.seq < (this.checkpoints.get(hex) ?? 0)) continue
        if (item.rec.type === 'keys') {
          // Once each, in feed order (the checkpoint): the later record of a feed wins, whatever its date.
          await this.receiveKeys(item)
          checkpoints.set(hex, [dmKeys.checkpoint(item.feed), encodeU64(item.seq + 1)])
          continue
        }
        if (b4a.equals(item.feed, this.host.feedKey)) continue
        const opened = this.openOne(item, hex, sessions.get(hex))
        if (opened !== null) {
          const mine = b4a.equals(item.author, this.host.identity)
          sessions.set(hex, opened.sessions)
          const stored = opened.reaction ? this.reactionEntries(opened.dm) : await this.messageEntries(opened.dm, opened.participants, !mine, convs)
          batch.push([dmKeys.sessions(item.feed), encodeSessions(opened.sessions)], ...stored)
          events.push({ conversation: opened.dm.conversation, ref: opened.dm.ref })
        }
        checkpoints.set(hex, [dmKeys.checkpoint(item.feed), encodeU64(item.seq + 1)])
      }
      if (checkpoints.size === 0) return
      await this.store.write([...batch, ...checkpoints.values()]) // one checkpoint per feed, after its DMs
      for (const item of items) {
        if (item.rec.type === 'box' && b4a.equals(item.feed, this.host.feedKey)) continue
        const hex = b4a.toString(item.feed, 'hex')
        if (item.seq + 1 > (this.checkpoints.get(hex) ?? 0)) this.checkpoints.set(hex, item.seq + 1)
      }
      for (const [hex, list] of sessions) this.sessions.set(hex, list)
      if (sessions.size > 0) this.staleSessions()
      this.counts.opened += events.length
      for (const ev of events) this.emit('message', ev)
    })
  }

  private async receiveKeys (item: DmItem): Promise<void> {
    if (item.rec.type !== 'keys') return
    try {
      verifyKeysRecord(item.rec.keys, item.feed, this.host.now(), item.author)
    } catch (err) {
      if (!(err instanceof ShoalError)) throw err
      this.counts.keysRejected++
      return
    }
    const hex = b4a.toString(item.feed, 'hex')
    const d: RemoteDevice = { feed: item.feed, owner: item.author, keys: item.rec.keys }
    await this.store.write([[dmKeys.remote(item.feed), encodeRemote(d)]])
    this.remote.set(hex, d)
  }

  /** Trial-decrypts one box; null when it is not for me or was refused (counted, no state changed). */
  private openOne (item: DmItem, hex: string, pending?: Session[]): Opened | null {
    if (item.rec.type !== 'box') return null
    const sender = this.remote.get(hex)
    if (sender === undefined) { this.counts.notForMe++; return null }
    const sessions = pending ?? this.sessions.get(hex) ?? []
    try {
      const opened = openBox({
        feed: item.feed, seq: item.seq, block: item.rec.block, keys: this.need(), senderIdentityKey: sender.keys.identityKey,
        sessions, wrapCache: this.wrapCache
      })
      if (opened === null) { this.counts.notForMe++; return null }
      const participants = sortedUnique(opened.content.recipients)
      const me = participants.some((p) => b4a.equals(p, this.host.identity))
      const author = participants.some((p) => b4a.equals(p, item.author))
      if (!me || !author || participants.length !== opened.content.recipients.length || participants.length < 2) {
        throw ShoalError.INVALID_MESSAGE('a box must name its author and me among 2 to 16 distinct participants')
      }
      const dm: StoredDm = {
        ref: { feed: item.feed, seq: item.seq },
        conversation: conversationId(participants),
        author: item.author,
        timestamp: opened.content.timestamp,
        text: opened.content.text,
        parent: opened.content.parent != null ? { feed: opened.content.parent.feed as FeedKey, seq: opened.content.parent.seq } : null
      }
      return { dm, participants, sessions: keepSession(sessions, opened.session, opened.index), reaction: opened.content.reaction === true }
    } catch (err) {
      if (!(err instanceof ShoalError)) throw err
      this.counts.rejected++
      return null
    }
  }

  /** Identities I block (hex), whose DMs and reactions are not shown. */
  private async blocked (): Promise<Set<string>> {
    return this.host.blocked === undefined ? new Set() : await this.host.blocked()
  }

  /**
   * Conversations, the latest first. One whose other participants I all block is not listed,
   * `lastDm` is the last DM not written by someone I block (and `last` its time: their DMs do not
   * move a conversation up), and `unread` counts none of theirs (their DMs come back, and count
   * again, on an unblock).
   */
  async conversations (): Promise<Array<StoredConversation & { lastDm: StoredDm | null }>> {
    const out: Array<StoredConversation & { lastDm: StoredDm | null }> = []
    const blocked = await this.blocked()
    for (const { value } of await this.store.scan(dmKeys.conversation(b4a.alloc(0)))) {
      const conv = decodeConversation(value)
      const others = conv.participants.filter((p) => !b4a.equals(p, this.host.identity))
      if (others.length > 0 && others.every((p) => blocked.has(b4a.toString(p, 'hex')))) continue
      let lastDm: StoredDm | null = null
      for await (const dm of this.newestFirst(conv.id, 16)) {
        if (!blocked.has(b4a.toString(dm.author, 'hex'))) { lastDm = dm; break }
      }
      if (!others.some((p) => blocked.has(b4a.toString(p, 'hex')))) { out.push({ ...conv, lastDm }); continue }
      // With someone I block in it, it sorts by the last DM shown, not by theirs.
      const unread = conv.unread > 0 ? await this.unreadShown(conv, blocked) : 0
      out.push({ ...conv, last: lastDm?.timestamp ?? 0, unread, lastDm })
    }
    return out.sort((a, b) => b.last - a.last)
  }

  /**
   * The unread DMs of `conv` not written by someone I block. The stored count says how many DMs
   * from others arrived since it was last read; they are taken as its newest DMs from others.
   */
  private async unreadShown (conv: StoredConversation, blocked: Set<string>): Promise<number> {
    let seen = 0
    let shown = 0
    for await (const dm of this.newestFirst(conv.id, 64)) {
      if (b4a.equals(dm.author, this.host.identity)) continue
      if (!blocked.has(b4a.toString(dm.author, 'hex'))) shown++
      if (++seen === conv.unread) break
    }
    return shown
  }

  /** The DMs of conversation `id`, newest first, read `page` at a time as the caller goes on. */
  private async * newestFirst (id: Uint8Array, page: number): AsyncGenerator<StoredDm> {
    let lt: Uint8Array | undefined
    while (true) {
      const rows = await this.store.scan(dmKeys.messagesOf(id), { reverse: true, limit: page, lt })
      for (const r of rows) yield decodeDm(r.value)
      if (rows.length < page) return
      lt = rows[rows.length - 1].key
    }
  }

  /** One conversation or null. */
  async conversation (id: Uint8Array): Promise<StoredConversation | null> {
    const raw = await this.store.get(dmKeys.conversation(id))
    return raw === null ? null : decodeConversation(raw)
  }

  /** DMs of a conversation, newest first, but those of someone I block; `before` is the `next` cursor of the previous page. */
  async read (id: Uint8Array, opts: { limit?: number, before?: string | null } = {}): Promise<DmPage> {
    const limit = opts.limit ?? 50
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) throw ShoalError.INVALID_ARGUMENT('limit must be an integer from 1 to 500')
    const prefix = dmKeys.messagesOf(id)
    let lt: Uint8Array | undefined
    if (opts.before != null) {
      if (typeof opts.before !== 'string' || !/^[0-9a-f]{96}$/.test(opts.before)) throw ShoalError.INVALID_ARGUMENT('before must be a cursor from a previous page')
      lt = b4a.concat([prefix, b4a.from(opts.before, 'hex')])
    }
    const rows = await this.store.scan(prefix, { reverse: true, limit: limit + 1, lt })
    const blocked = await this.blocked()
    // DMs of someone I block are left out (a page may then hold fewer than `limit`).
    const items = rows.slice(0, limit).map((r) => decodeDm(r.value)).filter((m) => !blocked.has(b4a.toString(m.author, 'hex')))
    for (const m of items) m.reactions = await this.reactionsOf(m.ref, blocked)
    const next = rows.length > limit ? b4a.toString(rows[limit - 1].key.subarray(prefix.byteLength), 'hex') : null
    return { items, next }
  }

  /** Reacts to a DM with an emoji (1–32 bytes), sent to the DM's conversation. UNKNOWN_MESSAGE when it is not here. */
  async react (target: MessageRef, emoji: string): Promise<{ ref: MessageRef, conversation: Uint8Array }> {
    checkTyped(emoji, CAPS.emoji, 'an emoji')
    const at = await this.store.get(dmKeys.messageRef(target))
    if (at === null) throw ShoalError.UNKNOWN_MESSAGE('no such DM here')
    const conv = await this.conversation(at.subarray(0, 32))
    if (conv === null) throw ShoalError.UNKNOWN_MESSAGE('no such conversation here')
    const to = conv.participants.filter((p) => !b4a.equals(p, this.host.identity))
    return this.send({ to, text: emoji, parent: target, reaction: true })
  }

  /** Marks a conversation read (its unread count becomes 0). */
  async markRead (id: Uint8Array): Promise<void> {
    await this.exclusive(async () => {
      const conv = await this.conversation(id)
      if (conv === null || conv.unread === 0) return
      await this.store.write([[dmKeys.conversation(id), encodeConversation({ ...conv, unread: 0 })]])
    })
  }

  /** Deletes one DM from this device only (it stays deleted: its box is never processed again). */
  async deleteLocal (ref: MessageRef): Promise<void> {
    await this.exclusive(async () => {
      const at = await this.store.get(dmKeys.messageRef(ref))
      if (at === null) throw ShoalError.UNKNOWN_MESSAGE('no such DM here')
      await this.store.write([[dmKeys.messageRef(ref), null], [dmKeys.message(at.subarray(0, 32), decodeU64(at.subarray(32, 40)), ref), null]])
      await this.store.compact()
    })
  }

  /**
   * A contact's safety code: 60 digits (12 groups of 5) from a hash over their devices' feed keys
   * and DM identity keys, sorted, so both sides compute the same code for one contact. `changed`
   * is true when their set of devices differs from the one confirmed (first seen is trusted).
   */
  async safety (identity: IdentityKey, opts: { confirm?: boolean } = {}): Promise<{ code: string, devices: number, changed: boolean }> {
    const devices = this.devicesOfAll(identity)
    const hash = namespaceHash(SAFETY, ...devices.flatMap((d) => [d.feed, d.keys.identityKey]))
    const digits: string[] = []
    for (let i = 0; i < 12; i++) {
      const n = ((hash[i * 2] << 16) | (hash[i * 2 + 1] << 8) | hash[24 + (i % 8)]) % 100000
      digits.push(String(n).padStart(5, '0'))
    }
    const seen = await this.store.get(dmKeys.seenDevices(identity))
    if (seen === null || opts.confirm === true) await this.store.write([[dmKeys.seenDevices(identity), hash]])
    const changed = seen !== null && opts.confirm !== true && !b4a.equals(seen, hash)
    return { code: digits.join(' '), devices: devices.length, changed }
  }

  /** Every device of `identity` with DM keys (mine included when it is me). */
  private devicesOfAll (identity: Uint8Array): RemoteDevice[] {
    const out = [...this.remote.values()].filter((d) => b4a.equals(d.owner, identity))
    return out.sort((a, b) => b4a.compare(a.feed, b.feed))
  }

  /** Every stored DM (tests and export): across conversations. */
  async all (): Promise<StoredDm[]> {
    return (await this.store.scan(dmKeys.messagesOf(b4a.alloc(0)))).map((r) => decodeDm(r.value))
  }

  /** Compacts the DM rows so used message keys leave the files on disk (forward secrecy at rest). */
  async compact (): Promise<void> {
    await this.store.compact()
  }
}

interface Opened { dm: StoredDm, participants: IdentityKey[], sessions: Session[], reaction: boolean }
