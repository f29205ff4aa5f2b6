/**
 * What a room op handler sees: the view batch it writes, the Autobase host (membership), the op's
 * author resolved from the view, and the room info. Handlers return false to skip an invalid op.
 */
import type Hyperbee from 'hyperbee'
import type Autobase from 'autobase'
import { encode, roomInfo, memberRecord, deviceRecord, type RoomInfo, type MemberRecord, type DeviceRecord, type MessageId } from './room-schema.js'
import { keys } from './room-view.js'
import type { Actor } from './room-rules.js'

/** The author of an op: an active device of an active member (room-rules.ts). */
export type Author = Actor

export interface ApplyContext {
  batch: Hyperbee.Batch
  host: Autobase.Host
  /** The room's discovery key, which attestations are bound to. */
  discoveryKey: Uint8Array
  /** The id a message written by this op gets: (writer key, writer length). */
  id: MessageId
  /** Null only before the room exists (the create op). */
  info: RoomInfo | null
  /** Null when the writer is not an active device of an active member. */
  author: Author | null
  /** The highest room version this build applies (ROOM_VERSION; tests act as newer builds). */
  supportedVersion: number
  /** Set by a handler before it calls host.interrupt (which throws): the dispatcher lets that throw through. */
  interrupted: boolean
}

/** A deterministic handler for one op type; false means "invalid, change nothing". */
export type Handler<B> = (ctx: ApplyContext, body: B) => Promise<boolean>

export async function putInfo (ctx: ApplyContext, info: RoomInfo): Promise<void> {
  ctx.info = info
  await ctx.batch.put(keys.info(), encode(roomInfo, info))
}

export async function putMember (ctx: ApplyContext, identity: Uint8Array, m: MemberRecord): Promise<void> {
  await ctx.batch.put(keys.member(identity), encode(memberRecord, m))
}

export async function putDevice (ctx: ApplyContext, device: Uint8Array, d: DeviceRecord): Promise<void> {
  await ctx.batch.put(keys.device(device), encode(deviceRecord, d))
  await ctx.batch.put(keys.memberDevice(d.identity, device), new Uint8Array(1))
}
