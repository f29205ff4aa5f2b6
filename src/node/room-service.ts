/**
 * The rooms of one Shoal node: opens every room this device is in (the list and secrets are
 * primary state, room-state.ts), creates and joins rooms, and wires them to the network: one
 * shared protomux-wakeup for every room and connection, each room's discovery key joined on the
 * transports, invite pairing on every connection (room-pair-wire.ts). See docs/ROOMS.md.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import ProtomuxWakeup from 'protomux-wakeup'
import z32 from 'z32'
import type Corestore from 'corestore'
import { decodeInvite } from 'blind-pairing-core'
import { ShoalError } from '../errors.js'
import { Room, ROLE, MEMBER_NAME_VERSION, ROOM_CAPS, DEFAULT_STORAGE_PER_WRITER, checkStoragePerWriter, type Role, type MessageId, type RoomMessage } from '../groups/index.js'
import type { RoomMember } from '../groups/room-read.js'
import type { MemberRecord, RoomInfo } from '../groups/room-schema.js'
import { getInfo, getMember, getMessage, keys as viewKeys } from '../groups/room-view.js'
import { readActor, hasRole, maySpeak, mayReact, mayEdit, mayDelete, mayMute, maySetRole, mayRemove, allowed, type Actor } from '../groups/room-rules.js'
import type { SignKeyPair } from '../groups/room-crypto.js'
import { identityToString, parseIdentity, toHex } from '../ids.js'
import { PairingDialer, servePairing } from '../swarm/room-pair-wire.js'
import { syncOwnDevices, type RoomAttest, type RoomOffer } from '../swarm/room-devices-wire.js'
import { requestPairing, type PairingResult } from '../groups/room-pairing.js'
import { DhtPairing } from './room-dht-pairing.js'
import type { Connection } from '../swarm/peer-session.js'
import type { NodeState } from './node-state.js'
import { RoomState, newLocalId, roomNamespace } from './room-state.js'
import type { RoomListItem, RoomMessageItem, RoomMemberItem, RoomStatusItem } from './room-items.js'
import { checkTyped } from './input-checks.js'

/** Where rooms meet peers: join and leave a discovery topic, and see every connection. */
export interface RoomNetwork {
  joinTopic (topic: Uint8Array): void
  leaveTopic (topic: Uint8Array): void
  connections (): Connection[]
  /** Resolves when every topic joined has been announced and looked up once. */
  flushTopics (): Promise<void>
  /** Runs the first lookup of these joined topics now, ahead of any queued ones. */
  discoverTopics (topics: Uint8Array[]): Promise<void>
  /** The Hyperswarm on a DHT (for the blind-pairing rendezvous), or null on the LAN only. */
  hyperswarm (): unknown | null
}

export interface RoomServiceOptions {
  store: Corestore
  state: NodeState
  identity: SignKeyPair
  now?: () => number
  /** Passed to every room (tests: 0, explicit acks only). */
  ackInterval?: number
  /** Names of identities for display (the views' profile names), or null. */
  nameOf?: (identity: Uint8Array) => Promise<string | null>
  /** The identities I block now (hex): their messages and reactions are not shown. */
  blocked?: () => Promise<Set<string>>
  /** Bytes of each other device's writer log kept per room (default DEFAULT_STORAGE_PER_WRITER). */
  storagePerWriter?: number
}

export const ROLE_NAMES: Record<Role, string> = { [ROLE.member]: 'member', [ROLE.moderator]: 'moderator', [ROLE.admin]: 'admin' }

/** A role by name (member, moderator, admin); INVALID_ARGUMENT otherwise. */
export function parseRole (s: string): Role {
  const hit = Object.entries(ROLE_NAMES).find(([, n]) => n === s)
  if (hit === undefined) throw ShoalError.INVALID_ARGUMENT('a role is member, moderator or admin')
  return Number(hit[0]) as Role
}

/** A room message id as text: z-base32 of writer key (32 bytes) and length (uint64 BE). */
export function roomMessageIdToString (id: MessageId): string {
  const buf = b4a.alloc(40)
  buf.set(id.writer, 0)
  new DataView(buf.buffer, buf.byteOffset).setBigUint64(32, BigInt(id.length))
  return z32.encode(buf)
}

/** Parses a room message id (INVALID_ID). */
export function parseRoomMessageId (s: string): MessageId {
  let buf: Uint8Array
  try {
    buf = z32.decode(s)
  } catch (err) {
    throw new ShoalError('INVALID_ID', 'not a room message id: ' + String(s).slice(0, 80), { cause: err })
  }
  if (buf.byteLength !== 40 || z32.encode(buf) !== s) throw ShoalError.INVALID_ID('not a room message id: ' + s.slice(0, 80))
  const length = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(32))
  if (length < 1 || !Number.isSafeInteger(length)) throw ShoalError.INVALID_ID('not a room message id: ' + s)
  return { writer: b4a.from(buf.subarray(0, 32)), length }
}

export type { RoomListItem, RoomMessageItem, RoomMemberItem, RoomStatusItem }

/** An invite code's bytes and the room's discovery key; INVITE_INVALID for anything else. */
export function parseInviteCode (code: string): { invite: Uint8Array, discoveryKey: Uint8Array } {
  try {
    const invite = z32.decode(code)
    return { invite, discoveryKey: decodeInvite(invite).discoveryKey }
  } catch (err) {
    throw ShoalError.INVITE_INVALID('not an invite code', err)
  }
}

/** The first characters of an id, where no name is known (as the UI's shortId). */
export function shortId (id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id
}

/** Messages read at once when counting the unread ones of a room with someone I block in it. */
const UNREAD_PAGE = 500

interface Open { localId: Uint8Array, room: Room }

export class RoomService extends ReadyResource {
  readonly #opts: RoomServiceOptions
  readonly #state: RoomState
  readonly #wakeup = new ProtomuxWakeup()
  readonly #rooms = new Map<string, Open>()
  readonly #dialers = new Set<PairingDialer>()
  readonly #connections = new WeakSet<Connection>()
  readonly #adopting = new Set<string>()
  /** Re-offer my rooms to my other devices connected now (after a room was added here). */
  readonly #ownDevices = new Set<() => void>()
  #network: RoomNetwork | null = null
  #dht: DhtPairing | null = null

  /** INVALID_ARGUMENT for a `storagePerWriter` under one op (every room would fail to open). */
  constructor (opts: RoomServiceOptions) {
    super()
    if (opts.storagePerWriter !== undefined) checkStoragePerWriter(opts.storagePerWriter)
    this.#opts = opts
    this.#state = new RoomState(opts.state)
  }

  /** Rooms in the list that failed to open in this run (z-base32 id → coded error); the node runs without them. */
  readonly failed = new Map<string, ShoalError>()

  override async _open (): Promise<void> {
    for (const e of await this.#state.rooms()) {
      try {
        await this.#openRoom(e.localId, e.key)
      } catch (err) {
        this.failed.set(z32.encode(e.key), ShoalError.from(err))
      }
    }
  }

  override async _close (): Promise<void> {
    for (const d of this.#dialers) d.close()
    await this.#dht?.close()
    for (const { room } of [...this.#rooms.values()].reverse()) await room.close()
    this.#rooms.clear()
    this.#wakeup.destroy()
  }

  async #openRoom (localId: Uint8Array, key: Uint8Array | null, name?: string): Promise<Room> {
    const room = new Room(this.#opts.store, key, {
      namespace: roomNamespace(localId),
      identity: this.#opts.identity,
      keys: this.#state.keys(localId),
      wakeup: this.#wakeup,
      ...this.#writerCap(),
      ...(name === undefined ? {} : { name }),
      ...(this.#opts.now === undefined ? {} : { now: this.#opts.now }),
      ...(this.#opts.ackInterval === undefined ? {} : { ackInterval: this.#opts.ackInterval })
    })
    try {
      await room.ready()
    } catch (err) {
      await room.close().catch(safetyCatch)
      throw err
    }
    this.#add(localId, room)
    return room
  }

  #add (localId: Uint8Array, room: Room): void {
    this.#rooms.set(toHex(room.key), { localId, room })
    room.on('update', () => this.emit('update', z32.encode(room.key)))
    room.on('error', (err: Error) => this.emit('room-error', z32.encode(room.key), err))
    this.#network?.joinTopic(room.discoveryKey)
    this.#network?.discoverTopics([room.discoveryKey]).catch(safetyCatch) // announced ahead of queued identity topics
    this.#serveDht(room)
    for (const resend of this.#ownDevices) resend()
    this.emit('rooms')
  }

  /** Starts meeting peers for every room over `network`; rooms opened later join it too. */
  attach (network: RoomNetwork): void {
    this.#network = network
    for (const { room } of this.#rooms.values()) network.joinTopic(room.discoveryKey)
    if (this.#rooms.size > 0) network.discoverTopics(this.topics()).catch(safetyCatch)
    const swarm = network.hyperswarm()
    if (swarm !== null && this.#dht === null) {
      this.#dht = new DhtPairing(swarm)
      for (const { room } of this.#rooms.values()) this.#serveDht(room)
    }
    for (const conn of network.connections()) this.onConnection(conn)
  }

  /** Resolves when every room's topic has been announced once (immediately without a network). */
  async announced (): Promise<void> {
    await this.#network?.flushTopics()
  }

  /** Stops using the network (it is closing). */
  detach (): void {
    this.#network = null
    const dht = this.#dht
    this.#dht = null
    dht?.close().catch(safetyCatch)
  }

  /** Answers invites of `room` over the DHT rendezvous too, while this device is an admin there. */
  #serveDht (room: Room): void {
    this.#dht?.serve(toHex(room.key), room.discoveryKey, async (req) => {
      if (!await this.#isAdmin(room)) return // left unanswered: an admin device may answer
      await room.answerRequest(req)
    })
  }

  async #isAdmin (room: Room): Promise<boolean> {
    if (room.closing !== null || !room.writable) return false
    return hasRole(await this.#actor(room), ROLE.admin) === null
  }

  /** Every replication connection (after the Corestore replicates on it): wakeup and pairing. */
  onConnection (conn: Connection): void {
    if (this.#connections.has(conn)) return
    this.#connections.add(conn)
    this.#wakeup.addStream(conn)
    servePairing(conn, async (dk) => {
      const open = [...this.#rooms.values()].find(o => b4a.equals(o.room.discoveryKey, dk))
      if (open === undefined || !await this.#isAdmin(open.room)) return null
      return async (ch) => { await open.room.answerInvite(ch) }
    })
    for (const d of this.#dialers) d.add(conn)
  }

  /**
   * A connection whose remote proved my own identity (another device of mine): offer it my rooms,
   * join the rooms it offers (a device restored later), and add it to mine (room-devices-wire.ts).
   */
  onOwnDevice (conn: Connection): void {
    const me = this.#opts.identity.publicKey
    let resend: (() => void) | null = null
    resend = syncOwnDevices(conn, {
      offers: async () => {
        const out: RoomOffer[] = []
        for (const { localId, room } of this.#rooms.values()) {
          const encryptionKey = await this.#state.keys(localId).get('room-key')
          if (encryptionKey !== null) out.push({ key: room.key, encryptionKey })
        }
        return out
      },
      onOffer: async (offers) => {
        const out: RoomAttest[] = []
        for (const o of offers) {
          if (this.closing !== null || this.#rooms.has(toHex(o.key)) || this.#adopting.has(toHex(o.key))) continue
          this.#adopting.add(toHex(o.key))
          try {
            const localId = newLocalId()
            const keys = this.#state.keys(localId)
            await keys.put('room-key', o.encryptionKey)
            const room = await this.#openRoom(localId, o.key)
            await this.#state.addRoom({ localId, key: room.key, added: this.#now() })
            out.push({ key: room.key, attestation: await Room.attestDevice(this.#opts.store, room.discoveryKey, { namespace: roomNamespace(localId), identity: this.#opts.identity, keys }) })
          } finally {
            this.#adopting.delete(toHex(o.key))
          }
        }
        return out
      },
      onAttest: async (attests) => {
        for (const a of attests) {
          const open = this.#rooms.get(toHex(a.key))
          if (open === undefined || !open.room.writable || !b4a.equals(a.attestation.identity, me)) continue
          const mine = (await open.room.members()).find(m => b4a.equals(m.identity, me))
          if (mine === undefined || mine.removed || mine.devices.some(d => b4a.equals(d, a.attestation.device))) continue
          await open.room.addDevice(a.attestation)
        }
      }
    }, () => { if (resend !== null) this.#ownDevices.delete(resend) })
    if (resend !== null) this.#ownDevices.add(resend)
  }

  #get (id: string): Open {
    let key: Uint8Array
    try {
      key = z32.decode(id)
    } catch (err) {
      throw new ShoalError('INVALID_ID', 'not a room id: ' + String(id).slice(0, 80), { cause: err })
    }
    const open = this.#rooms.get(toHex(key))
    if (open === undefined) throw ShoalError.UNKNOWN_ROOM('not in room ' + String(id).slice(0, 80))
    return open
  }

  /** The open Room behind a room id (UNKNOWN_ROOM). */
  room (id: string): Room { return this.#get(id).room }

  /** Creates a room named `name`; resolves with its id (z-base32 room key). */
  async create (name: string): Promise<{ id: string }> {
    checkTyped(name, ROOM_CAPS.name, 'a room name')
    const localId = newLocalId()
    const room = await this.#openRoom(localId, null, name)
    await this.#state.addRoom({ localId, key: room.key, added: this.#now() })
    await this.#shareName(room).catch(safetyCatch) // a name the room lacks is shown as a short id; never fails the create or join
    return { id: z32.encode(room.key) }
  }

  #now (): number { return (this.#opts.now ?? Date.now)() }

  #writerCap (): { storagePerWriter?: number } {
    return this.#opts.storagePerWriter === undefined ? {} : { storagePerWriter: this.#opts.storagePerWriter }
  }

  /**
   * A room's counts and the writers of other devices flagged on the wire in this run (an op over
   * the cap, the per-writer storage cap reached), each with the member it belongs to.
   */
  async status (id: string): Promise<RoomStatusItem> {
    const room = this.#get(id).room
    const info = await room.info()
    const members = await room.members()
    const writers: RoomStatusItem['writers'] = []
    for (const w of await room.writerIssues()) {
      const m = w.member === null ? undefined : members.find(x => b4a.equals(x.identity, w.member!))
      writers.push({
        writer: z32.encode(w.writer),
        member: w.member === null ? null : identityToString(w.member),
        memberName: w.member === null ? null : await this.#nameOf(w.member, m?.name ?? null),
        bytes: w.bytes,
        clearedBlocks: w.clearedBlocks,
        kept: w.kept,
        issues: w.issues
      })
    }
    return {
      id: z32.encode(room.key),
      name: info?.name ?? '',
      members: members.filter(m => !m.removed).length,
      messages: info?.messages ?? 0,
      storagePerWriter: this.#opts.storagePerWriter ?? DEFAULT_STORAGE_PER_WRITER,
      writers
    }
  }

  /** Rooms with my role and unread count (messages of someone I block are not counted). */
  async list (): Promise<{ items: RoomListItem[] }> {
    const items: RoomListItem[] = []
    const blocked = await this.#opts.blocked?.() ?? new Set<string>()
    for (const { localId, room } of this.#rooms.values()) {
      const info = await room.info()
      const members = await room.members()
      const me = members.find(m => b4a.equals(m.identity, this.#opts.identity.publicKey))
      const read = await this.#state.readCount(localId)
      const total = info?.messages ?? 0
      const withBlocked = members.some(m => blocked.has(b4a.toString(m.identity, 'hex')))
      items.push({
        id: z32.encode(room.key),
        name: info?.name ?? '',
        role: me === undefined ? 'pending' : me.removed ? 'removed' : ROLE_NAMES[me.role],
        unread: withBlocked && total > read ? await unreadShown(room, read, total, blocked) : Math.max(0, total - read)
      })
    }
    return { items }
  }

  /** Makes an invite code (admins): role, uses (default 1), expires in ms since the epoch (0: never). */
  async invite (id: string, opts: { role?: Role, uses?: number, expires?: number } = {}): Promise<{ code: string }> {
    const room = this.#get(id).room
    // apply skips a member's invite-add: the code would be printed and never work
    allowed(hasRole(await this.#actor(room), ROLE.admin, 'only admins make invite codes'))
    const { invite } = await room.createInvite(opts)
    return { code: z32.encode(invite) }
  }

  /**
   * Joins a room with an invite code: joins the room's discovery key and asks every connected
   * peer (now and later) over `shoal/room-pair/v1`; an admin device answers. Resolves once this
   * device is a writer. INVITE_INVALID / _USED / _EXPIRED from the admin, INVITE_TIMEOUT after
   * `timeout` ms with no answer (nothing is recorded then).
   */
  async join (code: string, opts: { timeout?: number } = {}): Promise<{ id: string, name: string }> {
    const { invite, discoveryKey } = parseInviteCode(code)
    if ([...this.#rooms.values()].some(o => b4a.equals(o.room.discoveryKey, discoveryKey))) throw ShoalError.INVITE_INVALID('already in this room')
    const network = this.#network
    if (network === null) throw ShoalError.NETWORK_ERROR('joining a room needs the network (run it through "shoal serve")')
    const localId = newLocalId()
    const keys = this.#state.keys(localId)
    const dialer = new PairingDialer(discoveryKey)
    this.#dialers.add(dialer)
    network.joinTopic(discoveryKey)
    network.discoverTopics([discoveryKey]).catch(safetyCatch) // ahead of a long queue of identity topics
    for (const conn of network.connections()) dialer.add(conn)
    let timer: ReturnType<typeof setTimeout> | null = null
    let timedOut = false
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { timedOut = true; reject(ShoalError.INVITE_TIMEOUT('no admin of the room answered within ' + Math.round((opts.timeout ?? 60_000) / 1000) + ' s')) }, opts.timeout ?? 60_000)
    })
    let room: Room
    let cancels: { cancelled: boolean, fns: Array<() => void> } | null = null
    try {
      const dht = this.#dht
      const cancel = { cancelled: false, fns: [] as Array<() => void>, onCancel (fn: () => void) { this.fns.push(fn) } }
      cancels = cancel
      // over Shoal's channel on every connection, and over the DHT rendezvous when on a DHT: the first answer wins
      const pairer = (code: Uint8Array, userData: Uint8Array): Promise<PairingResult> => {
        const paths = [requestPairing(dialer, code, userData)]
        if (dht !== null) paths.push(dht.request(code, userData, cancel))
        return Promise.race(paths)
      }
      const joining = Room.join(this.#opts.store, pairer, invite, {
        namespace: roomNamespace(localId),
        identity: this.#opts.identity,
        keys,
        wakeup: this.#wakeup,
        ...this.#writerCap(),
        ...(this.#opts.now === undefined ? {} : { now: this.#opts.now }),
        ...(this.#opts.ackInterval === undefined ? {} : { ackInterval: this.#opts.ackInterval })
      })
      // after a timeout the join may still finish: then it is abandoned (nothing was recorded)
      joining.then(r => { if (timedOut) r.close().then(() => this.#state.removeRoom(localId)).catch(safetyCatch) }, safetyCatch)
      room = await Promise.race([joining, timeout])
    } catch (err) {
      network.leaveTopic(discoveryKey)
      await this.#state.removeRoom(localId) // the box key pair made for the request: nothing of a refused join stays
      throw err
    } finally {
      if (timer !== null) clearTimeout(timer)
      if (cancels !== null) { cancels.cancelled = true; for (const fn of cancels.fns) fn() }
      dialer.close()
      this.#dialers.delete(dialer)
    }
    await this.#state.addRoom({ localId, key: room.key, added: this.#now() })
    this.#add(localId, room)
    await room.whenWritable()
    await this.#shareName(room).catch(safetyCatch) // a name the room lacks is shown as a short id; never fails the create or join
    const info = await room.info()
    return { id: z32.encode(room.key), name: info?.name ?? '' }
  }

  /**
   * Writes my profile name into the room's member data, so members who do not follow me (and so
   * hold no profile of mine) see a name. Skipped without a profile name or in a version-1 room.
   */
  async #shareName (room: Room): Promise<void> {
    const name = await this.#opts.nameOf?.(this.#opts.identity.publicKey) ?? null
    const info = await room.info()
    if (name === null || name.trim() === '' || info === null || info.version < MEMBER_NAME_VERSION) return
    let n = name
    while (b4a.byteLength(n) > ROOM_CAPS.name) n = n.slice(0, -1)
    await room.setName(n)
  }

  /** The name shown for a member: its profile if held, else the name it set in the room, else a short id. */
  async #nameOf (identity: Uint8Array, roomName: string | null): Promise<string> {
    const profile = await this.#opts.nameOf?.(identity) ?? null
    if (profile !== null && profile.trim() !== '') return profile
    if (roomName !== null && roomName.trim() !== '') return roomName
    return shortId(identityToString(identity))
  }

  /** Posts a message (optionally a reply); resolves with its id. */
  async post (id: string, text: string, opts: { reply?: string } = {}): Promise<{ id: string }> {
    checkTyped(text, ROOM_CAPS.text, 'a room message')
    const room = this.#get(id).room
    const replyTo = opts.reply === undefined ? undefined : parseRoomMessageId(opts.reply)
    const verdict = maySpeak(await this.#actor(room))
    // a removed member without the current epoch key fails on its own (ROOM_KEY_MISSING), as it always has
    if (verdict?.code !== 'NOT_MEMBER' || await this.#holdsCurrentKey(room)) allowed(verdict)
    const mid = await room.post(text, replyTo === undefined ? {} : { replyTo })
    return { id: roomMessageIdToString(mid) }
  }

  async react (id: string, target: string, emoji: string, add = true): Promise<void> {
    checkTyped(emoji, ROOM_CAPS.emoji, 'an emoji')
    const room = this.#get(id).room
    const mid = parseRoomMessageId(target)
    const view = room.base.view
    const me = await this.#actor(room)
    const has = me !== null && await view.get(viewKeys.reaction(mid, me.identity, emoji)) !== null
    if (!allowed(mayReact(me, await getMessage(view, mid), has, add, emoji))) return
    await room.react(mid, emoji, add)
  }

  async edit (id: string, target: string, text: string): Promise<void> {
    checkTyped(text, ROOM_CAPS.text, 'a room message')
    const room = this.#get(id).room
    const mid = parseRoomMessageId(target)
    allowed(mayEdit(await this.#actor(room), await getMessage(room.base.view, mid)))
    await room.edit(mid, text)
  }

  async delete (id: string, target: string): Promise<void> {
    const room = this.#get(id).room
    const mid = parseRoomMessageId(target)
    allowed(mayDelete(await this.#actor(room), await getMessage(room.base.view, mid)))
    await room.delete(mid)
  }

  /**
   * Messages newest first: at most `limit` (default 50) before the cursor `before` (a position
   * in room order, from a previous page's `next`); marks them read. Messages and reactions of
   * identities I block are left out (a page may then hold fewer).
   */
  async read (id: string, opts: { limit?: number, before?: number } = {}): Promise<{ items: RoomMessageItem[], next: number | null }> {
    const { localId, room } = this.#get(id)
    const limit = opts.limit ?? 50
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw ShoalError.INVALID_ARGUMENT('limit is 1..1000')
    const info = await room.info()
    const total = info?.messages ?? 0
    const end = Math.min(opts.before ?? Number.MAX_SAFE_INTEGER, total)
    if (!Number.isInteger(end) || end < 0) throw ShoalError.INVALID_ARGUMENT('before is a cursor from a previous page')
    const start = Math.max(0, end - limit)
    const messages = end === 0 ? [] : await room.messages({ start, limit: end - start })
    const roomNames = new Map<string, string | null>()
    for (const m of await room.members()) roomNames.set(identityToString(m.identity), m.name)
    const names = new Map<string, string>()
    const items: RoomMessageItem[] = []
    const blocked = await this.#opts.blocked?.() ?? new Set<string>()
    const shown = (who: Uint8Array): boolean => !blocked.has(b4a.toString(who, 'hex'))
    for (const m of messages.reverse()) {
      if (shown(m.author)) items.push(await this.#item({ ...m, reactions: m.reactions.filter((r) => shown(r.identity)) }, names, roomNames))
    }
    if (opts.before === undefined && total > await this.#state.readCount(localId)) await this.#state.setReadCount(localId, total)
    return { items, next: start > 0 ? start : null }
  }

  async #item (m: RoomMessage, names: Map<string, string>, roomNames: Map<string, string | null>): Promise<RoomMessageItem> {
    const author = identityToString(m.author)
    if (!names.has(author)) names.set(author, await this.#nameOf(m.author, roomNames.get(author) ?? null))
    const reactions: Record<string, number> = {}
    for (const r of m.reactions) reactions[r.emoji] = (reactions[r.emoji] ?? 0) + 1
    return {
      id: roomMessageIdToString(m.id),
      author,
      authorName: names.get(author)!,
      text: m.deleted ? null : m.text,
      timestamp: m.timestamp,
      parent: m.replyTo === null ? null : roomMessageIdToString(m.replyTo),
      reactions,
      edited: m.edits > 0
    }
  }

  /** Current members with roles and mutes. */
  async members (id: string): Promise<{ items: RoomMemberItem[] }> {
    const items: RoomMemberItem[] = []
    for (const m of await this.#get(id).room.members()) {
      if (m.removed) continue
      items.push({ id: identityToString(m.identity), name: await this.#nameOf(m.identity, m.name), role: ROLE_NAMES[m.role], muted: m.muted })
    }
    return { items }
  }

  async setRole (id: string, member: string, role: Role): Promise<void> {
    const room = this.#get(id).room
    const who = parseIdentity(member)
    const { me, them, info } = await this.#facts(room, who)
    if (!allowed(maySetRole(me, info, them, who, role))) return
    await room.setRole(who, role)
  }

  async remove (id: string, member: string): Promise<void> {
    const room = this.#get(id).room
    const who = parseIdentity(member)
    const { me, them, info } = await this.#facts(room, who)
    allowed(mayRemove(me, info, them, who))
    await room.removeMember(who)
    await room.update() // the rotation of the epoch key runs after the removal is applied
  }

  async mute (id: string, member: string, muted = true): Promise<void> {
    const room = this.#get(id).room
    const who = parseIdentity(member)
    const { me, them } = await this.#facts(room, who)
    if (!allowed(mayMute(me, them, who, muted))) return
    await room.mute(who, muted)
  }

  /*
   * What apply would skip is refused before the op is appended (a skipped op would be written and
   * reported as done): the rules apply runs (src/groups/room-rules.ts), on this device's view of
   * the room, for this device as apply would attribute its op.
   */

  /** This device in `room` as apply sees the author of its ops, or null when it is not (or no longer) a member's active device. */
  #actor (room: Room): Promise<Actor | null> {
    return readActor(room.base.view, room.writerKey)
  }

  /** What the rules on a member need: me, `target`'s record and the room info (NOT_MEMBER before the room is known here). */
  async #facts (room: Room, target: Uint8Array): Promise<{ me: Actor | null, them: MemberRecord | null, info: RoomInfo }> {
    const view = room.base.view
    const info = await getInfo(view)
    if (info === null) throw ShoalError.NOT_MEMBER('you are not a member of this room (any more)') // nor is anyone, here, yet
    return { me: await this.#actor(room), them: await getMember(view, target), info }
  }

  /** Whether this device holds the key of the room's current epoch. */
  async #holdsCurrentKey (room: Room): Promise<boolean> {
    const info = await room.info()
    return info !== null && await room.epochKey(info.epoch) !== null
  }

  /**
   * Leaves a room: appends a leave op for my identity (every device of mine) and waits until it is
   * applied here, after which an admin device rotates the epoch key so I read nothing written after;
   * then closes the room and forgets its keys and state on this device (its blocks stay in cores/,
   * encrypted under a key this device no longer has). A room I was removed from, or in which I am
   * alone, is only forgotten. UNKNOWN_ROOM for a room not in my list, LAST_ADMIN while I am the last
   * admin and others remain, ROOM_VERSION_UNSUPPORTED in a version-1 room no admin device raised yet
   * (each changes nothing). On a network it first waits (up to `timeout` ms, default 20 s) until a
   * peer holds the leave op, since the forgotten room is no longer served: `delivered` says whether one did.
   */
  async leave (id: string, opts: { timeout?: number } = {}): Promise<{ delivered: boolean }> {
    const open = this.#get(id)
    const me = (await open.room.members()).find(m => b4a.equals(m.identity, this.#opts.identity.publicKey))
    let delivered = true
    if (me !== undefined && !me.removed && open.room.writable) {
      const before = open.room.base.local.length
      await open.room.leave()
      if (open.room.base.local.length > before) delivered = this.#network === null ? false : await open.room.delivered(opts.timeout ?? 20_000)
    }
    this.#rooms.delete(toHex(open.room.key))
    this.#network?.leaveTopic(open.room.discoveryKey)
    this.#dht?.unserve(toHex(open.room.key))
    await open.room.close()
    await this.#state.removeRoom(open.localId)
    this.emit('rooms')
    return { delivered }
  }

  /** Every open room (tests, benchmarks). */
  get rooms (): Room[] { return [...this.#rooms.values()].map(o => o.room) }

  /** Rooms with their discovery keys (for the network). */
  topics (): Uint8Array[] { return this.rooms.map(r => r.discoveryKey) }
}

/** Messages `read`..`total` of `room` not written by someone I block (`blocked`: hex), read in pages. */
async function unreadShown (room: Room, read: number, total: number, blocked: Set<string>): Promise<number> {
  let shown = 0
  for (let start = read; start < total; start += UNREAD_PAGE) {
    for (const m of await room.messages({ start, limit: Math.min(UNREAD_PAGE, total - start) })) {
      if (!blocked.has(b4a.toString(m.author, 'hex'))) shown++
    }
  }
  return shown
}
