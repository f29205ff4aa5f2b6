/**
 * The room's Autobase `apply`: a dispatcher of deterministic handlers, one per op type. Every op is
 * decoded, gated by the room version, attributed to its author from the view and validated; an
 * invalid op (or a handler failure) changes nothing and never throws (a throw closes the base).
 * No clock, randomness or local secrets: every replica computes the same view.
 */
import safetyCatch from 'safety-catch'
import type Hyperbee from 'hyperbee'
import type Autobase from 'autobase'
import { OP_VERSION, ROOM_CAPS, ROOM_VERSION } from './room-caps.js'
import { decodeOp, OP, OP_CODECS, type OpType, type OpBodies } from './room-schema.js'
import { getInfo, getDevice, getMember } from './room-view.js'
import type { ApplyContext, Author, Handler } from './room-apply-context.js'
import * as m from './room-ops-membership.js'
import * as c from './room-ops-messages.js'

const HANDLERS: { [K in OpType]: Handler<OpBodies[K]> } = {
  [OP.create]: m.create,
  [OP.addMember]: m.addMember,
  [OP.addDevice]: m.addDevice,
  [OP.removeMember]: m.removeMember,
  [OP.setRole]: m.setRole,
  [OP.rotateEpoch]: m.rotateEpoch,
  [OP.post]: c.post,
  [OP.react]: c.react,
  [OP.edit]: c.edit,
  [OP.delete]: c.del,
  [OP.mute]: c.mute,
  [OP.inviteAdd]: c.inviteAdd,
  [OP.inviteDel]: c.inviteDel,
  [OP.roomVersion]: c.roomVersion,
  [OP.leave]: m.leave,
  [OP.memberName]: m.memberName
}

async function resolveAuthor (batch: Hyperbee.Batch, writer: Uint8Array): Promise<Author | null> {
  const device = await getDevice(batch, writer)
  if (device === null || device.removed) return null
  const member = await getMember(batch, device.identity)
  if (member === null || member.removed) return null
  return { device: writer, identity: device.identity, member }
}

/**
 * Applies one node; true when the op was valid and written. Never throws, except Autobase's own
 * interrupt (a `room-version` this build cannot apply), which must reach Autobase to stop the base.
 */
export async function applyNode (node: Autobase.Node, view: Hyperbee, host: Autobase.Host, supportedVersion = ROOM_VERSION): Promise<boolean> {
  const value = node.value
  if (value === null || value.byteLength > ROOM_CAPS.op) return false
  const op = decodeOp(value)
  if (op === null || op.version !== OP_VERSION) return false // newer envelopes: kept in the log, skipped
  const batch = view.batch()
  let ctx: ApplyContext | null = null
  let ok = false
  try {
    const info = await getInfo(batch)
    if (info === null ? op.type !== OP.create : OP_CODECS[op.type].since > info.version) return false
    ctx = {
      batch,
      host,
      discoveryKey: host.discoveryKey,
      id: { writer: node.from.key, length: node.length },
      info,
      author: await resolveAuthor(batch, node.from.key),
      supportedVersion,
      interrupted: false
    }
    const handler = HANDLERS[op.type] as Handler<typeof op.body>
    ok = await handler(ctx, op.body)
    if (ok) await batch.flush()
    return ok
  } catch (err) {
    ok = false
    if (ctx?.interrupted === true) throw err
    return false // invalid input that got past validation: skip the op, keep the base alive
  } finally {
    if (!ok) await batch.close().catch(safetyCatch)
  }
}

/** The Autobase `apply` of a room, for a build that applies room versions up to `supportedVersion`. */
export function roomApply (supportedVersion = ROOM_VERSION): (nodes: Autobase.Node[], view: Hyperbee, host: Autobase.Host) => Promise<void> {
  return async (nodes, view, host) => {
    for (const node of nodes) await applyNode(node, view, host, supportedVersion)
  }
}
