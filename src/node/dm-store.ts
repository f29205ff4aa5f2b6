/**
 * The DM store: primary state (in `<storage>/state/`, never in views/ or cores/) that holds this
 * device's DM keys, the other devices' verified `keys` records, the ratchet sessions, the
 * per-feed DM checkpoints, and the decrypted DMs with their conversations. Every key starts with
 * one prefix byte (0x20) so it shares the node-state database without touching its other rows.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShoalError } from '../errors.js'
import { readUint64BE, writeUint64BE, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import { decodeDeviceKeys, decodeKeysBlock, decodeSession, encodeDeviceKeys, encodeKeysBlock, encodeSession, type DeviceKeys, type KeysRecord, type Session } from '../dm/index.js'
import type { NodeState } from './node-state.js'

const PREFIX = 0x20
const T = { deviceKeys: 1, remote: 2, sessions: 3, checkpoint: 4, message: 5, messageRef: 6, conversation: 7, published: 8, seenDevices: 9, request: 10, reaction: 11 } as const
const VERSION = 1

/** A decrypted DM as stored: its place, author, real time, text and the DM it replies to. */
export interface StoredDm {
  ref: MessageRef
  conversation: Uint8Array
  author: IdentityKey
  timestamp: number
  text: string
  parent: MessageRef | null
  /** Emoji → how many participants reacted with it (filled in when read). */
  reactions?: Record<string, number>
}

/** A conversation: its participants (sender included, sorted), the time of its last DM, unread DMs. */
export interface StoredConversation {
  id: Uint8Array
  participants: IdentityKey[]
  last: number
  unread: number
}

/** A remote device's DM keys: the identity its feed header names and its latest valid `keys` record. */
export interface RemoteDevice { feed: FeedKey, owner: IdentityKey, keys: KeysRecord }

export type Entry = [Uint8Array, Uint8Array | null]

function k (tag: number, ...parts: Uint8Array[]): Uint8Array {
  return b4a.concat([b4a.from([PREFIX, tag]), ...parts])
}

function u64 (n: number): Uint8Array {
  const b = b4a.alloc(8)
  writeUint64BE(b, 0, n)
  return b
}

/** Key builders and codecs of the DM rows; the service batches their entries. */
export const dmKeys = {
  deviceKeys: () => k(T.deviceKeys),
  published: () => k(T.published),
  remote: (feed: Uint8Array) => k(T.remote, feed),
  sessions: (feed: Uint8Array) => k(T.sessions, feed),
  checkpoint: (feed: Uint8Array) => k(T.checkpoint, feed),
  message: (conv: Uint8Array, ts: number, ref: MessageRef) => k(T.message, conv, u64(ts), ref.feed, u64(ref.seq)),
  messagesOf: (conv: Uint8Array) => k(T.message, conv),
  messageRef: (ref: MessageRef) => k(T.messageRef, ref.feed, u64(ref.seq)),
  messageRefsOf: (feed: Uint8Array) => k(T.messageRef, feed),
  conversation: (conv: Uint8Array) => k(T.conversation, conv),
  seenDevices: (identity: Uint8Array) => k(T.seenDevices, identity),
  request: (identity: Uint8Array) => k(T.request, identity),
  reaction: (target: MessageRef, author: Uint8Array) => k(T.reaction, target.feed, u64(target.seq), author),
  reactionsOf: (target: MessageRef) => k(T.reaction, target.feed, u64(target.seq)),
  all: () => b4a.from([PREFIX]),
  end: () => b4a.from([PREFIX + 1])
}

const parentFlag = 1

export function encodeDm (m: StoredDm): Uint8Array {
  const enc = (state: c.State, pre: boolean): void => {
    const uint = pre ? c.uint.preencode : c.uint.encode
    const k32 = pre ? c.fixed32.preencode : c.fixed32.encode
    uint(state, VERSION); uint(state, m.parent !== null ? parentFlag : 0)
    k32(state, m.ref.feed); uint(state, m.ref.seq); k32(state, m.conversation); k32(state, m.author)
    uint(state, m.timestamp); (pre ? c.string.preencode : c.string.encode)(state, m.text)
    if (m.parent !== null) { k32(state, m.parent.feed); uint(state, m.parent.seq) }
  }
  return run(enc)
}

export function decodeDm (buf: Uint8Array): StoredDm {
  return guard('stored DM', () => {
    const state = c.state(0, buf.byteLength, buf)
    version(state)
    const flags = c.uint.decode(state)
    const ref = { feed: c.fixed32.decode(state) as FeedKey, seq: c.uint.decode(state) }
    const conversation = c.fixed32.decode(state)
    const author = c.fixed32.decode(state) as IdentityKey
    const timestamp = c.uint.decode(state)
    const text = c.string.decode(state)
    const parent = (flags & parentFlag) !== 0 ? { feed: c.fixed32.decode(state) as FeedKey, seq: c.uint.decode(state) } : null
    return { ref, conversation, author, timestamp, text, parent }
  })
}

export function encodeConversation (conv: StoredConversation): Uint8Array {
  return run((state, pre) => {
    const uint = pre ? c.uint.preencode : c.uint.encode
    uint(state, VERSION); (pre ? c.fixed32.preencode : c.fixed32.encode)(state, conv.id)
    uint(state, conv.participants.length)
    for (const p of conv.participants) (pre ? c.fixed32.preencode : c.fixed32.encode)(state, p)
    uint(state, conv.last); uint(state, conv.unread)
  })
}

export function decodeConversation (buf: Uint8Array): StoredConversation {
  return guard('conversation', () => {
    const state = c.state(0, buf.byteLength, buf)
    version(state)
    const id = c.fixed32.decode(state)
    const n = c.uint.decode(state)
    if (n > 64) throw ShoalError.STORAGE_ERROR('conversation lists too many participants')
    const participants: IdentityKey[] = []
    for (let i = 0; i < n; i++) participants.push(c.fixed32.decode(state) as IdentityKey)
    return { id, participants, last: c.uint.decode(state), unread: c.uint.decode(state) }
  })
}

/** A message request received from `identity`: pending, accepted or declined, with what it named. */
export interface StoredRequest { identity: IdentityKey, status: 'pending' | 'accepted' | 'declined', at: number, conversations: Uint8Array[], feeds: FeedKey[] }
const STATUS = ['pending', 'accepted', 'declined'] as const

export function encodeRequest (r: StoredRequest): Uint8Array {
  return run((state, pre) => {
    const uint = pre ? c.uint.preencode : c.uint.encode
    const k32 = pre ? c.fixed32.preencode : c.fixed32.encode
    uint(state, VERSION); k32(state, r.identity); uint(state, STATUS.indexOf(r.status)); uint(state, r.at)
    uint(state, r.conversations.length); for (const x of r.conversations) k32(state, x)
    uint(state, r.feeds.length); for (const x of r.feeds) k32(state, x)
  })
}

export function decodeRequest (buf: Uint8Array): StoredRequest {
  return guard('message request', () => {
    const state = c.state(0, buf.byteLength, buf)
    version(state)
    const identity = c.fixed32.decode(state) as IdentityKey
    const status = STATUS[c.uint.decode(state)]
    if (status === undefined) throw ShoalError.STORAGE_ERROR('unknown request status')
    const at = c.uint.decode(state)
    const list = (): Uint8Array[] => {
      const n = c.uint.decode(state)
      if (n > 64) throw ShoalError.STORAGE_ERROR('request lists too many entries')
      const out: Uint8Array[] = []
      for (let i = 0; i < n; i++) out.push(c.fixed32.decode(state))
      return out
    }
    const conversations = list()
    return { identity, status, at, conversations, feeds: list() as FeedKey[] }
  })
}

export function encodeRemote (d: RemoteDevice): Uint8Array {
  return b4a.concat([d.owner, encodeKeysBlock(d.keys)])
}

export function decodeRemote (feed: FeedKey, buf: Uint8Array): RemoteDevice {
  return guard('remote device keys', () => ({ feed, owner: b4a.from(buf.subarray(0, 32)) as IdentityKey, keys: decodeKeysBlock(buf.subarray(32)) }))
}

export function encodeSessions (list: readonly Session[]): Uint8Array {
  return run((state, pre) => {
    (pre ? c.uint.preencode : c.uint.encode)(state, list.length)
    for (const s of list) (pre ? c.buffer.preencode : c.buffer.encode)(state, encodeSession(s))
  })
}

export function decodeSessions (buf: Uint8Array): Session[] {
  return guard('sessions', () => {
    const state = c.state(0, buf.byteLength, buf)
    const n = c.uint.decode(state)
    if (n > 16) throw ShoalError.STORAGE_ERROR('too many sessions with one device')
    const out: Session[] = []
    for (let i = 0; i < n; i++) out.push(decodeSession(c.buffer.decode(state) as Uint8Array))
    return out
  })
}

export { encodeDeviceKeys, decodeDeviceKeys, type DeviceKeys }

export function encodeU64 (n: number): Uint8Array {
  return u64(n)
}

export function decodeU64 (buf: Uint8Array): number {
  return readUint64BE(buf, 0)
}

function version (state: c.State): void {
  const v = c.uint.decode(state)
  if (v !== VERSION) throw ShoalError.STORAGE_ERROR(`DM store row version ${v} is not known`)
}

function run (enc: (state: c.State, pre: boolean) => void): Uint8Array {
  const state = c.state()
  enc(state, true)
  state.buffer = b4a.alloc(state.end)
  enc(state, false)
  return state.buffer
}

function guard<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof ShoalError && err.code === 'STORAGE_ERROR') throw err
    throw ShoalError.STORAGE_ERROR(`${what} in the DM store is malformed`, err)
  }
}

/** Reads the DM rows of the node state (writes go through `NodeState.writeRaw` in one batch). */
export class DmStore {
  constructor (readonly state: NodeState) {}

  get (key: Uint8Array): Promise<Uint8Array | null> {
    return this.state.getRaw(key)
  }

  async scan (prefix: Uint8Array, opts: { reverse?: boolean, limit?: number, lt?: Uint8Array, gte?: Uint8Array } = {}): Promise<Array<{ key: Uint8Array, value: Uint8Array }>> {
    const end = b4a.concat([prefix, b4a.alloc(80, 0xff)])
    return this.state.scanRaw({ gte: opts.gte ?? prefix, lt: opts.lt ?? end, reverse: opts.reverse, limit: opts.limit })
  }

  write (entries: Entry[]): Promise<void> {
    return this.state.writeRaw(entries)
  }

  /** Rewrites the DM rows' files so that deleted keys do not stay on disk until a later compaction. */
  compact (): Promise<void> {
    return this.state.compactRaw(dmKeys.all(), dmKeys.end())
  }
}
