/**
 * A group room: an Autobase in its own Corestore namespace whose view (a Hyperbee) holds the room
 * info, members, devices, messages, reactions, invites and epoch-key shares. Writes are ops
 * (room-schema.ts) applied by room-apply.ts; secrets live in the owner's RoomKeyStore. See docs/ROOMS.md.
 */
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import Hypercore from 'hypercore'
import type Corestore from 'corestore'
import { createInvite, decodeInvite } from 'blind-pairing-core'
import { ShoalError } from '../errors.js'
import { LEAVE_VERSION, OP_VERSION, ROLE, ROOM_CAPS, ROOM_VERSION, type Role } from './room-caps.js'
import { checkKey, checkId, checkRole } from './room-args.js'
import { boxKeyPair, randomKey, attestDevice, verifyAttestation, sealBody, sealKey, type BoxKeyPair, type SignKeyPair } from './room-crypto.js'
import type { RoomKeyStore } from './room-keys.js'
import { encodeOp, encode, decode, joinRequest, messageBody, OP, OP_CODECS, type OpType, type OpBodies, type MessageId, type RoomInfo, type DeviceAttestation, type EpochShare } from './room-schema.js'
import { getInfo, getMember, getDevice, getInvite, viewHash } from './room-view.js'
import { roomApply } from './room-apply.js'
import { readMembers, readMessages, type RoomMessage, type RoomMember } from './room-read.js'
import { EpochKeys, rotation } from './room-epochs.js'
import { PostQueue } from './room-posts.js'
import { allowed, mayLeave } from './room-rules.js'
import { answerPairing, answerRequest, requestPairing, type MessageChannel, type RequestPairer } from './room-pairing.js'
import { RoomWriterWatch, type WriterReport } from './room-writer-watch.js'
import type { MemberRequest } from 'blind-pairing-core'

export interface RoomOptions {
  /** The Corestore namespace of this room, chosen by the owner; one per room (two rooms in one are the same base). */
  namespace: string
  /** The member's identity key pair (ed25519): signs this device's attestation. */
  identity: SignKeyPair
  /** Primary state: the room key, this device's box key pair and cached epoch keys. */
  keys: RoomKeyStore
  /** Name of a new room (key null). */
  name?: string
  /** Clock in ms since the epoch: invite expiry, message timestamps. Default Date.now. */
  now?: () => number
  /** Act as a build that applies room versions up to this (tests of version gating); default ROOM_VERSION. */
  supportedVersion?: number
  /** Passed to Autobase: false makes a new replica apply every op instead of fast-forwarding to the signed view. */
  fastForward?: boolean
  /** Passed to Autobase: indexers ack in the background every N ms (0: only explicit acks; default Autobase's). */
  ackInterval?: number
  /**
   * A protomux-wakeup shared by every room of the node, so one `wakeup` channel per connection
   * serves them all (streams are then added to it once, not per room); default: the room's own.
   */
  wakeup?: unknown
  /** Counts the nodes this replica's apply was given (benchmarks: reorders apply nodes again). */
  stats?: { applied: number }
  /** Bytes of each other device's writer log kept here (room-writer-watch.ts); default 64 MiB. */
  storagePerWriter?: number
}

/** Options of a new invite: role granted, number of uses (default 1), expiry in ms since the epoch (0: none). */
export interface InviteOptions { role?: Role, uses?: number, expires?: number }

type View = Hyperbee

async function loadBoxKeyPair (store: RoomKeyStore): Promise<BoxKeyPair> {
  const publicKey = await store.get('box-public')
  const secretKey = await store.get('box-secret')
  if (publicKey !== null && secretKey !== null) return { publicKey, secretKey }
  const kp = boxKeyPair()
  await store.put('box-secret', kp.secretKey)
  await store.put('box-public', kp.publicKey)
  return kp
}

/**
 * This device's writer key in the room's namespace: the key Autobase.getLocalKey gives, derived
 * without creating the core, so a join that is refused leaves nothing behind in the store.
 */
async function localWriterKey (store: Corestore, namespace: string): Promise<Uint8Array> {
  const session = store.namespace(namespace)
  try {
    return Hypercore.key((await session.createKeyPair('local')).publicKey)
  } finally {
    await session.close()
  }
}

/**
 * Events of a Room: `update` (the view changed), `writable` (this device was added as a writer),
 * `writer-issue` (another device's writer got a flag: see writerIssues), `error` (fatal: Autobase failed, or ROOM_VERSION_UNSUPPORTED when an admin raised the room
 * version above this build; the room stops applying and should be closed).
 */
export interface RoomEvents {
  update: () => void
  writable: () => void
  'writer-issue': () => void
  error: (err: Error) => void
}

export interface Room {
  on<E extends keyof RoomEvents> (event: E, listener: RoomEvents[E]): this
  once<E extends keyof RoomEvents> (event: E, listener: RoomEvents[E]): this
  off<E extends keyof RoomEvents> (event: E, listener: RoomEvents[E]): this
}

export class Room extends ReadyResource {
  readonly #store: Corestore
  readonly #bootstrap: Uint8Array | null
  readonly #opts: RoomOptions
  #base: Autobase<View> | null = null
  #watch: RoomWriterWatch | null = null
  get #supportedVersion (): number { return this.#opts.supportedVersion ?? ROOM_VERSION }
  /** The version an admin device raises the room to: this build's, or less when acting as an older build. */
  get #targetVersion (): number { return Math.min(ROOM_VERSION, this.#supportedVersion) }
  #box: BoxKeyPair | null = null
  #epochs: EpochKeys | null = null
  #encryptionKey: Uint8Array | null = null
  #rotating: Promise<void> | null = null
  readonly #posts = new PostQueue({
    currentKey: async () => this.#currentKey(),
    encode: (epoch, key, text, replyTo) => this.#encodeOp(OP.post, { epoch, ...this.#sealText(key, text), replyTo }),
    append: async blocks => this.#live().append(blocks)
  })
  #writers = 0
  #recheck = false

  /** Opens the room `key` (null: a new room named `opts.name`) in `store`'s namespace `opts.namespace`. */
  constructor (store: Corestore, key: Uint8Array | null, opts: RoomOptions) {
    super()
    this.#store = store
    this.#bootstrap = key
    this.#opts = opts
  }

  /** This device's attestation for a room, for an existing member device to add with `addDevice`. */
  static async attestDevice (store: Corestore, discoveryKey: Uint8Array, opts: Pick<RoomOptions, 'namespace' | 'identity' | 'keys'>): Promise<DeviceAttestation> {
    const device = await localWriterKey(store, opts.namespace)
    const box = await loadBoxKeyPair(opts.keys)
    return attestDevice(opts.identity, discoveryKey, device, box.publicKey)
  }

  /**
   * Joins a room with an invite code over `channel` (an admin runs `answerInvite` on the other end).
   * Resolves with the opened room once the keys arrived; it becomes writable when the admin's
   * add-member op replicates (`whenWritable`). Throws INVITE_INVALID, INVITE_USED or INVITE_EXPIRED.
   */
  static async join (store: Corestore, channel: MessageChannel | RequestPairer, invite: Uint8Array, opts: RoomOptions): Promise<Room> {
    let discoveryKey: Uint8Array
    try {
      discoveryKey = decodeInvite(invite).discoveryKey
    } catch (err) {
      throw ShoalError.INVITE_INVALID('not an invite code', err)
    }
    const att = await Room.attestDevice(store, discoveryKey, opts)
    const userData = encode(joinRequest, att)
    const res = typeof channel === 'function' ? await channel(invite, userData) : await requestPairing(channel, invite, userData)
    await opts.keys.put('room-key', res.encryptionKey)
    const room = new Room(store, res.key, opts)
    await room.ready()
    return room
  }

  get key (): Uint8Array { return this.#live().key }
  get discoveryKey (): Uint8Array { return this.#live().discoveryKey }
  /** This device's writer key in the room. */
  get writerKey (): Uint8Array { return this.#live().local.key! }
  get writable (): boolean { return this.#live().writable }
  /** The underlying Autobase (replication, heads); its view is derived state only. */
  get base (): Autobase<View> { return this.#live() }

  #live (): Autobase<View> {
    if (this.#base === null) throw ShoalError.CLOSED('the room is not open')
    return this.#base
  }

  override async _open (): Promise<void> {
    if (b4a.byteLength(this.#opts.name ?? '') > ROOM_CAPS.name) throw ShoalError.INVALID_ARGUMENT('room name over ' + ROOM_CAPS.name + ' bytes')
    const ks = this.#opts.keys
    this.#box = await loadBoxKeyPair(ks)
    this.#epochs = new EpochKeys(ks, this.#box)
    let encryptionKey = await ks.get('room-key')
    if (encryptionKey === null) {
      if (this.#bootstrap !== null) throw ShoalError.ROOM_KEY_MISSING('no encryption key for this room in the key store')
      encryptionKey = randomKey()
      await ks.put('room-key', encryptionKey)
    }
    this.#encryptionKey = encryptionKey
    const base = new Autobase<View>(this.#store.namespace(this.#opts.namespace), this.#bootstrap, {
      open: store => new Hyperbee(store.get('view'), { keyEncoding: 'binary', valueEncoding: 'binary', extension: false }),
      apply: this.#countedApply(),
      close: view => view.close(),
      encryptionKey,
      ...(this.#opts.ackInterval === undefined ? {} : { ackInterval: this.#opts.ackInterval }),
      ...(this.#opts.fastForward === undefined ? {} : { fastForward: this.#opts.fastForward }),
      ...(this.#opts.wakeup === undefined ? {} : { wakeup: this.#opts.wakeup })
    })
    this.#base = base
    this.#watch = new RoomWriterWatch(base, {
      ...(this.#opts.storagePerWriter === undefined ? {} : { storagePerWriter: this.#opts.storagePerWriter }),
      ...(this.#opts.now === undefined ? {} : { now: this.#opts.now }),
      onFlag: () => this.emit('writer-issue')
    })
    base.on('error', err => this.emit('error', err))
    base.on('interrupt', () => this.emit('error', ShoalError.ROOM_VERSION_UNSUPPORTED('the room needs a newer version of Shoal')))
    base.on('writable', () => this.emit('writable'))
    base.on('update', () => {
      this.#watch!.update()
      this.#checkWriters()
      this.emit('update')
      this.#checkRotation()
    })
    await base.ready()
    // the creator writes create as its first block (also after a crash between opening and writing it)
    if (b4a.equals(base.local.key!, base.key) && base.local.length === 0 && await getInfo(base.view) === null) await this.#create()
    this.#checkRotation()
  }

  #countedApply (): Autobase.Options<View>['apply'] {
    const apply = roomApply(this.#supportedVersion)
    const stats = this.#opts.stats
    if (stats === undefined) return apply
    return async (nodes, view, host) => {
      stats.applied += nodes.length
      await apply(nodes, view, host)
    }
  }

  override async _close (): Promise<void> {
    while (this.#rotating !== null) await this.#rotating
    await this.#posts.idle()
    await this.#watch?.close()
    if (this.#base !== null) await this.#base.close()
  }

  async #create (): Promise<void> {
    const name = this.#opts.name ?? ''
    const base = this.#live()
    const epochKey = randomKey()
    const device = attestDevice(this.#opts.identity, base.discoveryKey, base.local.key!, this.#box!.publicKey)
    await this.#append(OP.create, { name, device, shares: [{ epoch: 0, sealed: sealKey(epochKey, this.#box!.publicKey) }] })
    // create records version 1 on every build; a new room is raised to this build's version at once
    if (this.#targetVersion > 1) await this.#append(OP.roomVersion, { version: this.#targetVersion })
  }

  /** Appends an op; resolves with this writer's length after it (the op's message id length). */
  async #append<K extends OpType> (type: K, body: OpBodies[K]): Promise<number> {
    return this.#live().append(this.#encodeOp(type, body))
  }

  #encodeOp<K extends OpType> (type: K, body: OpBodies[K]): Uint8Array {
    const buf = encodeOp(type, OP_VERSION, body)
    if (buf.byteLength > ROOM_CAPS.op) throw ShoalError.MESSAGE_TOO_LARGE('room op over ' + ROOM_CAPS.op + ' bytes')
    return buf
  }

  /**
   * Adds a Corestore replication stream to the room's wakeup protocol, which tells readers and
   * writers which writers have new nodes. Replicating the store alone moves the blocks, but a peer
   * only learns of an unsigned writer's new nodes through wakeup. Call it for every connection.
   */
  addStream (stream: unknown): void {
    this.#live().wakeupProtocol.addStream(stream)
  }

  /** Resolves when this device can write (its add-member or add-device op has been applied). */
  async whenWritable (): Promise<void> {
    const base = this.#live()
    if (base.writable) return
    await new Promise<void>(resolve => base.once('writable', () => resolve()))
  }

  /** Brings the view up to date with what has replicated, and finishes any pending rotation. */
  async update (): Promise<void> {
    await this.#live().update()
    while (this.#rotating !== null) await this.#rotating
  }

  /** The room info (name, epoch, counts), or null before the create op is known. */
  info (): Promise<RoomInfo | null> { return getInfo(this.#live().view) }

  /**
   * Other devices' writers flagged on the wire (an op over the cap, the storage cap reached),
   * with the member each is a device of (null: not a device in the view): what their logs state,
   * what was cleared here, and why. Kept for this run only.
   */
  async writerIssues (): Promise<Array<WriterReport & { member: Uint8Array | null }>> {
    const view = this.#live().view
    const out: Array<WriterReport & { member: Uint8Array | null }> = []
    for (const r of this.#watch!.reports()) out.push({ ...r, member: (await getDevice(view, r.writer))?.identity ?? null })
    return out
  }

  /** Clears what Autobase has indexed of the flagged writers, and resolves when every check and clear so far is done. */
  writersChecked (): Promise<void> { return this.#watch!.idle() }

  /** A hash of the whole view: equal on every replica that applied the same ops. */
  viewHash (): Promise<Uint8Array> { return viewHash(this.#live().view) }

  /** The epoch key for `epoch` from this device's share, cached in the key store; null without a share. */
  epochKey (epoch: number): Promise<Uint8Array | null> {
    return this.#epochs!.key(this.#live().view, this.writerKey, epoch)
  }

  async #currentKey (): Promise<{ epoch: number, key: Uint8Array }> {
    const info = await this.info()
    if (info === null) throw ShoalError.ROOM_KEY_MISSING('the room is not known yet')
    const key = await this.epochKey(info.epoch)
    if (key === null) throw ShoalError.ROOM_KEY_MISSING('no key for the current epoch ' + info.epoch)
    return { epoch: info.epoch, key }
  }

  #sealText (key: Uint8Array, text: string): { nonce: Uint8Array, body: Uint8Array } {
    if (b4a.byteLength(text) > ROOM_CAPS.text) throw ShoalError.MESSAGE_TOO_LARGE('room message over ' + ROOM_CAPS.text + ' bytes')
    return sealBody(key, encode(messageBody, { text, timestamp: this.#now() }))
  }

  #now (): number { return (this.#opts.now ?? Date.now)() }

  /**
   * Posts an encrypted message (optionally a reply) under the current epoch key; resolves with its
   * id (writer key, length). Posts made together (not awaited one by one) share one key read and
   * one append, in call order. MESSAGE_TOO_LARGE, ROOM_KEY_MISSING.
   */
  async post (text: string, opts: { replyTo?: MessageId } = {}): Promise<MessageId> {
    if (opts.replyTo !== undefined) checkId(opts.replyTo)
    if (b4a.byteLength(text) > ROOM_CAPS.text) throw ShoalError.MESSAGE_TOO_LARGE('room message over ' + ROOM_CAPS.text + ' bytes')
    const writer = this.writerKey
    const length = await this.#posts.push(text, opts.replyTo ?? null)
    return { writer, length }
  }

  /** Replaces the text of one of this identity's messages. */
  async edit (target: MessageId, text: string): Promise<void> {
    checkId(target)
    const { epoch, key } = await this.#currentKey()
    const { nonce, body } = this.#sealText(key, text)
    await this.#append(OP.edit, { target, epoch, nonce, body })
  }

  /** Deletes a message (one's own, or anyone's for moderators and admins). */
  async delete (target: MessageId): Promise<void> {
    checkId(target)
    await this.#append(OP.delete, { target })
  }

  /** Adds (or with `add` false removes) a reaction (1..32 bytes of UTF-8). */
  async react (target: MessageId, emoji: string, add = true): Promise<void> {
    checkId(target)
    const size = b4a.byteLength(emoji)
    if (size === 0 || size > ROOM_CAPS.emoji) throw ShoalError.INVALID_ARGUMENT('a reaction is 1..' + ROOM_CAPS.emoji + ' bytes')
    await this.#append(OP.react, { target, emoji, add })
  }

  /** Mutes or unmutes a member (moderators and admins, on lower roles). */
  async mute (identity: Uint8Array, muted = true): Promise<void> {
    checkKey('identity', identity)
    await this.#append(OP.mute, { identity, muted })
  }

  /** Changes a member's role (admins). */
  async setRole (identity: Uint8Array, role: Role): Promise<void> {
    checkKey('identity', identity)
    checkRole(role)
    await this.#append(OP.setRole, { identity, role })
  }

  /** Removes a member and all their devices (admins); an admin device then rotates the epoch key. */
  async removeMember (identity: Uint8Array): Promise<void> {
    checkKey('identity', identity)
    await this.#append(OP.removeMember, { identity })
  }

  /** Raises the room version (admins), making newer op types live for every build that knows them. */
  async setRoomVersion (version: number): Promise<void> {
    if (!Number.isInteger(version) || version < 1) throw ShoalError.INVALID_ARGUMENT('room versions are positive integers')
    if (version > this.#supportedVersion) throw ShoalError.ROOM_VERSION_UNSUPPORTED('this build applies room versions up to ' + this.#supportedVersion)
    await this.#append(OP.roomVersion, { version })
  }

  /** Sets the display name the room shows for this identity ('' clears it); room version 2 and later. */
  async setName (name: string): Promise<void> {
    if (typeof name !== 'string' || b4a.byteLength(name) > ROOM_CAPS.name) throw ShoalError.INVALID_ARGUMENT('a name is at most ' + ROOM_CAPS.name + ' bytes')
    const info = await this.info()
    const since = OP_CODECS[OP.memberName].since
    if (info === null || info.version < since) throw ShoalError.ROOM_VERSION_UNSUPPORTED('member names need room version ' + since)
    await this.#append(OP.memberName, { name })
  }

  /**
   * Leaves the room: appends a leave op for this identity (all its devices) and resolves once it is
   * applied here; an admin device then rotates the epoch key, so this device reads nothing written
   * after. A member alone in the room appends nothing (no one is left to tell). NOT_MEMBER when this
   * identity is not an active member; LAST_ADMIN when it is the last admin and others remain;
   * ROOM_VERSION_UNSUPPORTED when a member is in a version-1 room that no admin has raised yet.
   */
  async leave (): Promise<void> {
    const base = this.#live()
    await base.update()
    const me = this.#opts.identity.publicKey
    const members = await this.members()
    const mine = members.find(m => b4a.equals(m.identity, me))
    if (mine === undefined || mine.removed || !base.writable) throw ShoalError.NOT_MEMBER('not a member of this room')
    if (!members.some(m => !m.removed && !b4a.equals(m.identity, me))) return
    const info = (await this.info())!
    allowed(mayLeave({ member: mine }, info))
    if (info.version < LEAVE_VERSION) {
      if (mine.role !== ROLE.admin || this.#targetVersion < LEAVE_VERSION) {
        throw ShoalError.ROOM_VERSION_UNSUPPORTED('room version ' + info.version + ' has no leave; an admin device raises it when it opens the room')
      }
      await this.#append(OP.roomVersion, { version: this.#targetVersion }) // the admin raises the room when it first needs the op
    }
    await this.#append(OP.leave, { identity: me })
    await base.update()
    const after = await getMember(base.view, me)
    if (after === null || !after.removed) throw ShoalError.LAST_ADMIN('the leave was not applied (the last admin of the room cannot leave)')
  }

  /**
   * Resolves true once a connected peer holds this device's writer up to its current length (say,
   * a leave op reached someone who will pass it on), or with that answer after `timeout` ms.
   */
  async delivered (timeout: number): Promise<boolean> {
    const core = this.#live().local
    const length = core.length
    const held = (): boolean => (core.peers as Array<{ remoteLength: number }>).some(p => p.remoteLength >= length)
    if (length === 0 || held()) return true
    return new Promise<boolean>(resolve => {
      const onUpload = (index: number): void => { if (index === length - 1 || held()) done(true) }
      const done = (v: boolean): void => {
        clearTimeout(timer)
        core.off('upload', onUpload)
        resolve(v)
      }
      const timer = setTimeout(() => done(held()), timeout)
      core.on('upload', onUpload)
    })
  }

  /** Appends a raw op envelope, as a newer or a hostile build might (tests of apply's validation). */
  appendRaw (buf: Uint8Array): Promise<number> { return this.#live().append(buf) }

  async #sharesFor (boxKey: Uint8Array): Promise<EpochShare[]> {
    return this.#epochs!.sharesFor(this.#live().view, this.writerKey, boxKey)
  }

  /** Adds another device of a member (that member's own device, or an admin), sharing every epoch key. */
  async addDevice (att: DeviceAttestation): Promise<void> {
    if (!verifyAttestation(att, this.discoveryKey)) throw ShoalError.INVALID_ARGUMENT('device attestation does not verify')
    await this.#append(OP.addDevice, { device: att, shares: await this.#sharesFor(att.boxKey) })
  }

  /** Makes an invite code (a bearer secret) and records the invite; admins only. */
  async createInvite (opts: InviteOptions = {}): Promise<{ id: Uint8Array, invite: Uint8Array }> {
    const uses = opts.uses ?? 1
    const role = opts.role ?? ROLE.member
    if (!Number.isInteger(uses) || uses < 1 || uses > ROOM_CAPS.uses) throw ShoalError.INVALID_ARGUMENT('uses must be 1..' + ROOM_CAPS.uses)
    checkRole(role)
    const inv = createInvite(this.key, { expires: opts.expires ?? 0 })
    await this.#append(OP.inviteAdd, { id: inv.id, publicKey: inv.publicKey, role, uses, expires: opts.expires ?? 0 })
    return { id: inv.id, invite: inv.invite }
  }

  /** Revokes an invite (admins). */
  async deleteInvite (id: Uint8Array): Promise<void> {
    checkKey('invite id', id)
    await this.#append(OP.inviteDel, { id })
  }

  /**
   * Answers one join request on `channel`: checks the invite (INVITE_INVALID, INVITE_USED,
   * INVITE_EXPIRED), appends add-member with the receipt and this device's epoch keys for the new
   * device, then sends the room keys. Resolves with the new member's identity.
   */
  async answerInvite (channel: MessageChannel): Promise<Uint8Array> {
    const { host, joined } = this.#inviteHost()
    await answerPairing(channel, host)
    return joined()
  }

  /** As answerInvite, for a request that came over the blind-pairing DHT rendezvous. */
  async answerRequest (req: MemberRequest): Promise<Uint8Array> {
    const { host, joined } = this.#inviteHost()
    await answerRequest(req, host)
    return joined()
  }

  #inviteHost (): { host: Parameters<typeof answerPairing>[1], joined: () => Uint8Array } {
    const view = this.#live().view
    let identity: Uint8Array | null = null
    const host: Parameters<typeof answerPairing>[1] = {
      lookup: async id => (await getInvite(view, id))?.publicKey ?? null,
      accept: async ({ inviteId, userData, receipt }) => {
        const invite = await getInvite(view, inviteId)
        if (invite === null || invite.deleted) throw ShoalError.INVITE_INVALID('the invite was revoked')
        if (invite.used >= invite.uses) throw ShoalError.INVITE_USED('the invite has been used')
        const now = this.#now()
        if (invite.expires !== 0 && now > invite.expires) throw ShoalError.INVITE_EXPIRED('the invite has expired')
        let att: DeviceAttestation
        try {
          att = decode(joinRequest, userData)
        } catch (err) {
          throw ShoalError.INVITE_INVALID('malformed join request', err)
        }
        if (!verifyAttestation(att, this.discoveryKey)) throw ShoalError.INVITE_INVALID('join request signature does not verify')
        const member = await getMember(view, att.identity)
        if (member !== null && !member.removed) throw ShoalError.INVITE_INVALID('already a member')
        await this.#append(OP.addMember, { invite: inviteId, receipt, shares: await this.#sharesFor(att.boxKey) })
        identity = att.identity
        return { key: this.key, encryptionKey: this.#encryptionKey! }
      }
    }
    return { host, joined: () => identity! }
  }

  /** Every member (removed ones flagged) with their active devices, in identity order. */
  members (): Promise<RoomMember[]> { return readMembers(this.#live().view) }

  /** Messages in room order (from `start`, at most `limit`), decrypted where this device holds the epoch key. */
  messages (opts: { start?: number, limit?: number } = {}): Promise<RoomMessage[]> {
    return readMessages(this.#live().view, epoch => this.epochKey(epoch), opts)
  }

  /**
   * Autobase drops a wakeup announcement for a writer it does not know yet (its add op not applied
   * here yet), and peers announce only on connect and on their own appends: so a replica that
   * learns of a writer whose unacked nodes nothing references would never fetch them. When the
   * writer set grows, ask every peer to announce its writers' heads again.
   */
  #checkWriters (): void {
    const base = this.#live()
    const writers = base.system?.members ?? 0
    if (writers <= this.#writers) {
      this.#writers = writers
      return
    }
    this.#writers = writers
    base.wakeupSession?.broadcastLookup({})
  }

  #checkRotation (): void {
    if (this.closing !== null) return
    if (this.#rotating !== null) {
      this.#recheck = true
      return
    }
    // a rotate that fails (the base closed, this device was removed meanwhile) is retried by the next update
    this.#rotating = this.#rotateWhileNeeded()
      .catch(safetyCatch)
      .finally(() => { this.#rotating = null })
  }

  async #rotateWhileNeeded (): Promise<void> {
    do {
      this.#recheck = false
      await this.#rotateIfNeeded()
    } while (this.#recheck && this.closing === null)
  }

  /**
   * After a removal or a leave (or a join that lacks the current key), an admin device seals a new
   * epoch key to every member device; an admin device also raises an older room to this build's version.
   */
  async #rotateIfNeeded (): Promise<void> {
    const base = this.#live()
    if (!base.writable || base.closing !== null) return
    const op = await rotation(base.view, this.writerKey)
    if (op !== null) await this.#append(OP.rotateEpoch, op)
    const info = await getInfo(base.view)
    if (info !== null && info.version < this.#targetVersion && await this.#isActiveAdmin()) {
      await this.#append(OP.roomVersion, { version: this.#targetVersion })
    }
  }

  async #isActiveAdmin (): Promise<boolean> {
    const view = this.#live().view
    const device = await getDevice(view, this.writerKey)
    if (device === null || device.removed) return false
    const member = await getMember(view, device.identity)
    return member !== null && !member.removed && member.role === ROLE.admin
  }
}
