/**
 * Constants of the room format that must never drift between builds or peers: namespaces,
 * the room version (which op types are live), roles and size caps. Changing a value is a break.
 */
import { namespaceHash } from '../caps.js'

/**
 * Highest room version this build can apply. A `room-version` op above it stops the room.
 * Version 2 adds the leave op; version 3 changes how apply writes the view (VIEW_RUNS_VERSION).
 * New rooms are raised to it right after create, and an admin device raises an older room to it
 * when it opens the room (see docs/ROOMS.md, "Room versions").
 */
export const ROOM_VERSION = 3

/** The room version that made the leave op live. */
export const LEAVE_VERSION = 2

/** The room version that made the member-name op live. */
export const MEMBER_NAME_VERSION = 2

/**
 * The room version from which apply writes each run of consecutive view-only ops of one append
 * batch in one view batch: the same entries as one batch per op, but other view blocks, so
 * every replica of a room (every indexer above all) must switch at the same op.
 */
export const VIEW_RUNS_VERSION = 3

/** Format version written in every op envelope. */
export const OP_VERSION = 1

/** Namespace of an identity's signature over a room device (writer key + box key). */
export const ROOM_DEVICE_ATTESTATION = 'room-device-attestation/v1'

/** Roles, ordered by rank: a higher number may do everything a lower one may. */
export const ROLE = { member: 0, moderator: 1, admin: 2 } as const
export type Role = typeof ROLE[keyof typeof ROLE]

/** True when `n` is a known role number. */
export function isRole (n: number): n is Role {
  return n === ROLE.member || n === ROLE.moderator || n === ROLE.admin
}

/** Size caps in bytes (UTF-8 for strings), checked when appending and again in apply. */
export const ROOM_CAPS = {
  op: 64 * 1024,
  name: 128,
  text: 4096,
  /** An encrypted body: the encoded plaintext (text, timestamp) plus the secretbox MAC. */
  body: 4096 + 32,
  emoji: 32,
  shares: 256,
  uses: 1000
} as const

/** The message an identity signs to say "this writer of the room (discovery key) is my device". */
export function roomDevicePayload (discoveryKey: Uint8Array, identity: Uint8Array, device: Uint8Array, boxKey: Uint8Array): Uint8Array {
  return namespaceHash(ROOM_DEVICE_ATTESTATION, discoveryKey, identity, device, boxKey)
}
