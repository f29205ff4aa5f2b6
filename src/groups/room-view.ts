/**
 * The room view's key layout (a Hyperbee with binary keys) and typed reads over it. One prefix
 * byte per table; fixed-size big-endian numbers keep ranges ordered.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Hyperbee from 'hyperbee'
import {
  decode, roomInfo, memberRecord, deviceRecord, messageRecord, inviteRecord,
  type RoomInfo, type MemberRecord, type DeviceRecord, type MessageRecord, type InviteRecord, type MessageId
} from './room-schema.js'

const T = { info: 1, member: 2, device: 3, memberDevice: 4, message: 5, log: 6, reaction: 7, invite: 8, share: 9, memberName: 10 } as const

function u32 (n: number): Uint8Array {
  const b = b4a.alloc(4)
  new DataView(b.buffer, b.byteOffset, 4).setUint32(0, n)
  return b
}

function key (table: number, ...parts: Uint8Array[]): Uint8Array {
  return b4a.concat([b4a.from([table]), ...parts])
}

/** Keys of every table. */
export const keys = {
  info: () => key(T.info),
  member: (identity: Uint8Array) => key(T.member, identity),
  device: (device: Uint8Array) => key(T.device, device),
  memberDevice: (identity: Uint8Array, device: Uint8Array) => key(T.memberDevice, identity, device),
  memberDevices: (identity: Uint8Array) => ({ gt: key(T.memberDevice, identity), lt: key(T.memberDevice, identity, b4a.alloc(33, 0xff)) }),
  message: (id: MessageId) => key(T.message, id.writer, u32(id.length)),
  log: (seq: number) => key(T.log, u32(seq)),
  logRange: () => ({ gt: key(T.log), lt: key(T.log + 1) }),
  reaction: (id: MessageId, identity: Uint8Array, emoji: string) => key(T.reaction, id.writer, u32(id.length), identity, b4a.from(emoji)),
  reactions: (id: MessageId) => ({ gt: key(T.reaction, id.writer, u32(id.length)), lt: key(T.reaction, id.writer, u32(id.length + 1)) }),
  invite: (id: Uint8Array) => key(T.invite, id),
  share: (epoch: number, device: Uint8Array) => key(T.share, u32(epoch), device),
  memberName: (identity: Uint8Array) => key(T.memberName, identity),
  members: () => ({ gt: key(T.member), lt: key(T.member + 1) }),
  devices: () => ({ gt: key(T.device), lt: key(T.device + 1) })
}

/** The pieces of a key after its table byte. */
export function keyTail (k: Uint8Array): Uint8Array {
  return k.subarray(1)
}

/** A message id from the value stored in the log table. */
export function logEntryId (v: Uint8Array): MessageId {
  return { writer: v.subarray(0, 32), length: new DataView(v.buffer, v.byteOffset + 32, 4).getUint32(0) }
}

/** The value stored in the log table for a message id. */
export function logEntry (id: MessageId): Uint8Array {
  return b4a.concat([id.writer, u32(id.length)])
}

/** Anything with a Hyperbee-style get: the bee itself or a batch. */
export interface ViewReader { get (key: Uint8Array): Promise<{ value: Uint8Array } | null> }
/** Anything with Hyperbee-style range reads: the bee itself or a batch. */
export interface ViewRanges { createReadStream (range?: Hyperbee.Range): AsyncIterable<Hyperbee.Entry> }

async function read<T> (v: ViewReader, k: Uint8Array, enc: Parameters<typeof decode<T>>[0]): Promise<T | null> {
  const e = await v.get(k)
  return e === null ? null : decode(enc, e.value)
}

export const getInfo = (v: ViewReader): Promise<RoomInfo | null> => read(v, keys.info(), roomInfo)
export const getMember = (v: ViewReader, identity: Uint8Array): Promise<MemberRecord | null> => read(v, keys.member(identity), memberRecord)
export const getDevice = (v: ViewReader, device: Uint8Array): Promise<DeviceRecord | null> => read(v, keys.device(device), deviceRecord)
export const getMessage = (v: ViewReader, id: MessageId): Promise<MessageRecord | null> => read(v, keys.message(id), messageRecord)
export const getInvite = (v: ViewReader, id: Uint8Array): Promise<InviteRecord | null> => read(v, keys.invite(id), inviteRecord)

/** The display name a member set in the room (member-name op), or null. */
export async function getMemberName (v: ViewReader, identity: Uint8Array): Promise<string | null> {
  const e = await v.get(keys.memberName(identity))
  return e === null ? null : b4a.toString(e.value)
}

/** The sealed epoch-key share of a device, or null. */
export async function getShare (v: ViewReader, epoch: number, device: Uint8Array): Promise<Uint8Array | null> {
  const e = await v.get(keys.share(epoch, device))
  return e === null ? null : e.value
}

/** The active devices of active members, sorted by key, with their box keys. */
export async function activeDevices (bee: ViewRanges): Promise<Array<{ device: Uint8Array, identity: Uint8Array, boxKey: Uint8Array }>> {
  const out: Array<{ device: Uint8Array, identity: Uint8Array, boxKey: Uint8Array }> = []
  for await (const e of bee.createReadStream(keys.devices())) {
    const d = decode(deviceRecord, e.value)
    if (!d.removed) out.push({ device: keyTail(e.key), identity: d.identity, boxKey: d.boxKey })
  }
  return out
}

/** A BLAKE2b hash of every key and value in the view: equal views have equal hashes. */
export async function viewHash (bee: ViewRanges): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const e of bee.createReadStream()) {
    parts.push(u32(e.key.byteLength), e.key, u32(e.value.byteLength), e.value)
  }
  const out = b4a.alloc(32)
  sodium.crypto_generichash_batch(out, parts)
  return out
}
