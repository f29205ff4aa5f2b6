/**
 * Reads of a room's view for its members: the member list and the message log, decrypted with
 * whatever epoch keys the caller holds.
 */
import b4a from 'b4a'
import type Hyperbee from 'hyperbee'
import type { Role } from './room-caps.js'
import { openBody } from './room-crypto.js'
import { decode, memberRecord, messageRecord, messageBody, type MessageId, type MessageBody } from './room-schema.js'
import { keys, keyTail, logEntryId, getDevice, getMemberName } from './room-view.js'

/**
 * A message as read by a member; `text` and `timestamp` are null when this device has no key for
 * its epoch (or the body does not open). `timestamp` is the author's clock when the current text was
 * written (the post, or its latest edit).
 */
export interface RoomMessage {
  id: MessageId
  seq: number
  author: Uint8Array
  epoch: number
  text: string | null
  timestamp: number | null
  replyTo: MessageId | null
  edits: number
  deleted: boolean
  reactions: Array<{ identity: Uint8Array, emoji: string }>
}

/** A member; `name` is the display name it set in the room (member-name op), or null. */
export interface RoomMember { identity: Uint8Array, name: string | null, role: Role, muted: boolean, removed: boolean, devices: Uint8Array[] }

function decodeBody (plain: Uint8Array): MessageBody | null {
  try {
    return decode(messageBody, plain)
  } catch {
    return null // a member wrote a body this build cannot read: shown as unreadable
  }
}

/** Every member (removed ones flagged) with their active devices, in identity order. */
export async function readMembers (view: Hyperbee): Promise<RoomMember[]> {
  const out: RoomMember[] = []
  for await (const e of view.createReadStream(keys.members())) {
    const identity = keyTail(e.key)
    const m = decode(memberRecord, e.value)
    const devices: Uint8Array[] = []
    for await (const d of view.createReadStream(keys.memberDevices(identity))) {
      const device = keyTail(d.key).subarray(32)
      const rec = await getDevice(view, device)
      if (rec !== null && !rec.removed) devices.push(device)
    }
    out.push({ identity, name: await getMemberName(view, identity), role: m.role, muted: m.muted, removed: m.removed, devices })
  }
  return out
}

/** Messages in room order from `start` (at most `limit`), bodies opened with `epochKey(epoch)`. */
export async function readMessages (
  view: Hyperbee,
  epochKey: (epoch: number) => Promise<Uint8Array | null>,
  opts: { start?: number, limit?: number } = {}
): Promise<RoomMessage[]> {
  const out: RoomMessage[] = []
  const epochKeys = new Map<number, Uint8Array | null>()
  const range = { ...keys.logRange(), gte: keys.log(opts.start ?? 0), limit: opts.limit ?? -1 }
  for await (const e of view.createReadStream(range)) {
    const id = logEntryId(e.value)
    const rec = await view.get(keys.message(id))
    if (rec === null) continue
    const m = decode(messageRecord, rec.value)
    let body: MessageBody | null = null
    if (!m.deleted) {
      let key = epochKeys.get(m.epoch)
      if (key === undefined) epochKeys.set(m.epoch, key = await epochKey(m.epoch))
      const plain = key === null ? null : openBody(key, m.nonce, m.body)
      body = plain === null ? null : decodeBody(plain)
    }
    const reactions: RoomMessage['reactions'] = []
    for await (const r of view.createReadStream(keys.reactions(id))) {
      const tail = keyTail(r.key).subarray(36)
      reactions.push({ identity: tail.subarray(0, 32), emoji: b4a.toString(tail.subarray(32)) })
    }
    out.push({ id, seq: m.seq, author: m.author, epoch: m.epoch, text: body?.text ?? null, timestamp: body?.timestamp ?? null, replyTo: m.replyTo, edits: m.edits, deleted: m.deleted, reactions })
  }
  return out
}
