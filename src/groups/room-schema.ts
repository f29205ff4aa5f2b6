/**
 * Every room op and view record, declared once with compact-encoding. An op is an envelope
 * `{ type, version, body }`; the body codec is chosen by type. Records evolve append-only: new
 * optional fields go at the end (older decoders ignore trailing bytes), new op types get new numbers.
 */
import c from 'compact-encoding'
import { LEAVE_VERSION, MEMBER_NAME_VERSION, type Role } from './room-caps.js'

type Enc<T> = c.Encoder<T>
type Fields<T> = { [K in keyof T]: Enc<T[K]> }

/** A struct codec from an ordered field table (the order is the wire order). */
function struct<T extends object> (fields: Fields<T>): Enc<T> {
  const entries = Object.entries(fields) as Array<[keyof T, Enc<unknown>]>
  return {
    preencode (state, v) { for (const [k, e] of entries) e.preencode(state, v[k]) },
    encode (state, v) { for (const [k, e] of entries) e.encode(state, v[k]) },
    decode (state) {
      const out: Partial<T> = {}
      for (const [k, e] of entries) out[k] = e.decode(state) as T[keyof T]
      return out as T
    }
  }
}

/** `null` or a value, behind a one-byte flag. */
function optional<T> (enc: Enc<T>): Enc<T | null> {
  return {
    preencode (state, v) { c.bool.preencode(state, v !== null); if (v !== null) enc.preencode(state, v) },
    encode (state, v) { c.bool.encode(state, v !== null); if (v !== null) enc.encode(state, v) },
    decode (state) { return c.bool.decode(state) ? enc.decode(state) : null }
  }
}

const role = c.uint as Enc<Role>

/** A room message id: the writer (device) key and the writer's length after the op. */
export interface MessageId { writer: Uint8Array, length: number }
export const messageId: Enc<MessageId> = struct<MessageId>({ writer: c.fixed32, length: c.uint })

/** An identity's attestation that a writer key (and its X25519 box key) is its device in this room. */
export interface DeviceAttestation { identity: Uint8Array, device: Uint8Array, boxKey: Uint8Array, signature: Uint8Array }
export const deviceAttestation: Enc<DeviceAttestation> = struct<DeviceAttestation>({
  identity: c.fixed32, device: c.fixed32, boxKey: c.fixed32, signature: c.fixed64
})

/** An epoch key sealed to one device (crypto_box_seal of 32 bytes: 80 bytes). */
export interface EpochShare { epoch: number, sealed: Uint8Array }
export const epochShare: Enc<EpochShare> = struct<EpochShare>({ epoch: c.uint, sealed: c.buffer })
/** An epoch key sealed to a named device, in a rotate op. */
export interface DeviceShare { device: Uint8Array, sealed: Uint8Array }
export const deviceShare: Enc<DeviceShare> = struct<DeviceShare>({ device: c.fixed32, sealed: c.buffer })

/** Op type numbers. Never reuse a number. */
export const OP = {
  create: 1,
  addMember: 2,
  addDevice: 3,
  removeMember: 4,
  setRole: 5,
  rotateEpoch: 6,
  post: 7,
  react: 8,
  edit: 9,
  delete: 10,
  mute: 11,
  inviteAdd: 12,
  inviteDel: 13,
  roomVersion: 14,
  leave: 15,
  memberName: 16
} as const
export type OpType = typeof OP[keyof typeof OP]

export interface CreateOp { name: string, device: DeviceAttestation, shares: EpochShare[] }
export interface AddMemberOp { invite: Uint8Array, receipt: Uint8Array, shares: EpochShare[] }
export interface AddDeviceOp { device: DeviceAttestation, shares: EpochShare[] }
export interface RemoveMemberOp { identity: Uint8Array }
export interface SetRoleOp { identity: Uint8Array, role: Role }
export interface RotateEpochOp { epoch: number, shares: DeviceShare[] }
export interface PostOp { epoch: number, nonce: Uint8Array, body: Uint8Array, replyTo: MessageId | null }
export interface ReactOp { target: MessageId, emoji: string, add: boolean }
export interface EditOp { target: MessageId, epoch: number, nonce: Uint8Array, body: Uint8Array }
export interface DeleteOp { target: MessageId }
export interface MuteOp { identity: Uint8Array, muted: boolean }
export interface InviteAddOp { id: Uint8Array, publicKey: Uint8Array, role: Role, uses: number, expires: number }
export interface InviteDelOp { id: Uint8Array }
export interface RoomVersionOp { version: number }
/** A member removes its own identity (all its devices); `identity` must be the author's. */
export interface LeaveOp { identity: Uint8Array }
/** A member sets the display name the room shows for it (its own identity only; '' clears it). */
export interface MemberNameOp { name: string }

/** The body of each op type, by type. */
export interface OpBodies {
  [OP.create]: CreateOp
  [OP.addMember]: AddMemberOp
  [OP.addDevice]: AddDeviceOp
  [OP.removeMember]: RemoveMemberOp
  [OP.setRole]: SetRoleOp
  [OP.rotateEpoch]: RotateEpochOp
  [OP.post]: PostOp
  [OP.react]: ReactOp
  [OP.edit]: EditOp
  [OP.delete]: DeleteOp
  [OP.mute]: MuteOp
  [OP.inviteAdd]: InviteAddOp
  [OP.inviteDel]: InviteDelOp
  [OP.roomVersion]: RoomVersionOp
  [OP.leave]: LeaveOp
  [OP.memberName]: MemberNameOp
}

const nonce = c.fixed(24)

/** Body codecs by op type, with the room version that made each type live. */
export const OP_CODECS: { [K in OpType]: { since: number, enc: Enc<OpBodies[K]> } } = {
  [OP.create]: { since: 1, enc: struct<CreateOp>({ name: c.string, device: deviceAttestation, shares: c.array(epochShare) }) },
  [OP.addMember]: { since: 1, enc: struct<AddMemberOp>({ invite: c.fixed32, receipt: c.buffer, shares: c.array(epochShare) }) },
  [OP.addDevice]: { since: 1, enc: struct<AddDeviceOp>({ device: deviceAttestation, shares: c.array(epochShare) }) },
  [OP.removeMember]: { since: 1, enc: struct<RemoveMemberOp>({ identity: c.fixed32 }) },
  [OP.setRole]: { since: 1, enc: struct<SetRoleOp>({ identity: c.fixed32, role }) },
  [OP.rotateEpoch]: { since: 1, enc: struct<RotateEpochOp>({ epoch: c.uint, shares: c.array(deviceShare) }) },
  [OP.post]: { since: 1, enc: struct<PostOp>({ epoch: c.uint, nonce, body: c.buffer, replyTo: optional(messageId) }) },
  [OP.react]: { since: 1, enc: struct<ReactOp>({ target: messageId, emoji: c.string, add: c.bool }) },
  [OP.edit]: { since: 1, enc: struct<EditOp>({ target: messageId, epoch: c.uint, nonce, body: c.buffer }) },
  [OP.delete]: { since: 1, enc: struct<DeleteOp>({ target: messageId }) },
  [OP.mute]: { since: 1, enc: struct<MuteOp>({ identity: c.fixed32, muted: c.bool }) },
  [OP.inviteAdd]: { since: 1, enc: struct<InviteAddOp>({ id: c.fixed32, publicKey: c.fixed32, role, uses: c.uint, expires: c.uint }) },
  [OP.inviteDel]: { since: 1, enc: struct<InviteDelOp>({ id: c.fixed32 }) },
  [OP.roomVersion]: { since: 1, enc: struct<RoomVersionOp>({ version: c.uint }) },
  [OP.leave]: { since: LEAVE_VERSION, enc: struct<LeaveOp>({ identity: c.fixed32 }) },
  [OP.memberName]: { since: MEMBER_NAME_VERSION, enc: struct<MemberNameOp>({ name: c.string }) }
}

/** A decoded op: its type, envelope version and body. */
export type Op = { [K in OpType]: { type: K, version: number, body: OpBodies[K] } }[OpType]

/** True when `n` names an op type this build knows. */
export function isOpType (n: number): n is OpType {
  return Object.prototype.hasOwnProperty.call(OP_CODECS, n)
}

/** Encodes an op envelope. */
export function encodeOp<K extends OpType> (type: K, version: number, body: OpBodies[K]): Uint8Array {
  const enc = OP_CODECS[type].enc as Enc<OpBodies[K]>
  const state = c.state()
  c.uint.preencode(state, type)
  c.uint.preencode(state, version)
  enc.preencode(state, body)
  state.buffer = new Uint8Array(state.end)
  c.uint.encode(state, type)
  c.uint.encode(state, version)
  enc.encode(state, body)
  return state.buffer
}

/** Decodes an op envelope; null for an unknown type or a body that does not decode (never throws). */
export function decodeOp (buf: Uint8Array): Op | null {
  try {
    const state = c.state(0, buf.byteLength, buf)
    const type = c.uint.decode(state)
    const version = c.uint.decode(state)
    if (!isOpType(type)) return null
    const body = OP_CODECS[type].enc.decode(state)
    return { type, version, body } as Op
  } catch {
    return null // malformed input from a peer: the caller skips it
  }
}

// View records

/** The room as a whole. `needsRotation` is set by removals and joins that lack the current epoch key. */
export interface RoomInfo {
  version: number
  name: string
  creator: Uint8Array
  epoch: number
  needsRotation: boolean
  admins: number
  messages: number
}
export const roomInfo: Enc<RoomInfo> = struct<RoomInfo>({
  version: c.uint, name: c.string, creator: c.fixed32, epoch: c.uint, needsRotation: c.bool, admins: c.uint, messages: c.uint
})

/** A member (an identity). Removed members are kept, flagged, so history stays attributed. */
export interface MemberRecord { role: Role, muted: boolean, removed: boolean }
export const memberRecord: Enc<MemberRecord> = struct<MemberRecord>({ role, muted: c.bool, removed: c.bool })

/** A device (a writer of the room) and the identity it speaks for. */
export interface DeviceRecord { identity: Uint8Array, boxKey: Uint8Array, removed: boolean }
export const deviceRecord: Enc<DeviceRecord> = struct<DeviceRecord>({ identity: c.fixed32, boxKey: c.fixed32, removed: c.bool })

/** A message as stored: the latest body (encrypted), who wrote it, and its place in the room log. */
export interface MessageRecord {
  author: Uint8Array
  seq: number
  epoch: number
  nonce: Uint8Array
  body: Uint8Array
  replyTo: MessageId | null
  edits: number
  deleted: boolean
}
export const messageRecord: Enc<MessageRecord> = struct<MessageRecord>({
  author: c.fixed32, seq: c.uint, epoch: c.uint, nonce, body: c.buffer, replyTo: optional(messageId), edits: c.uint, deleted: c.bool
})

/** A recorded invite: the pairing public key that verifies its receipts, its role, uses and expiry (ms). */
export interface InviteRecord { publicKey: Uint8Array, role: Role, uses: number, used: number, expires: number, deleted: boolean }
export const inviteRecord: Enc<InviteRecord> = struct<InviteRecord>({
  publicKey: c.fixed32, role, uses: c.uint, used: c.uint, expires: c.uint, deleted: c.bool
})

/**
 * The plaintext of a message body, encrypted under the epoch key: the text and the author's
 * clock when it was written (ms since the epoch; informative only, apply never reads it).
 */
export interface MessageBody { text: string, timestamp: number }
export const messageBody: Enc<MessageBody> = struct<MessageBody>({ text: c.string, timestamp: c.uint })

/** What a joining device sends inside the pairing request (and what the receipt proves). */
export const joinRequest = deviceAttestation

/** Encodes a value with a codec. */
export function encode<T> (enc: Enc<T>, v: T): Uint8Array {
  return c.encode(enc, v)
}

/** Decodes a value with a codec (throws on malformed input). */
export function decode<T> (enc: Enc<T>, buf: Uint8Array): T {
  return c.decode(enc, buf)
}
