/**
 * Handlers of the content and moderation ops: post, react, edit, delete, mute, invite-add,
 * invite-del, room-version. Bodies stay encrypted; apply checks sizes and permissions only.
 */
import b4a from 'b4a'
import { ROLE, ROOM_CAPS, isRole } from './room-caps.js'
import { hasRole, maySpeak, mayReact, mayEdit, mayDelete, mayMute } from './room-rules.js'
import { encode, messageRecord, inviteRecord, OP, type OpBodies, type MessageRecord } from './room-schema.js'
import { keys, logEntry, getMessage, getMember, getInvite } from './room-view.js'
import { putInfo, putMember, type ApplyContext, type Handler } from './room-apply-context.js'

const MAC_BYTES = 16

function validBody (body: Uint8Array): boolean {
  return body.byteLength >= MAC_BYTES && body.byteLength <= ROOM_CAPS.body
}

async function putMessage (ctx: ApplyContext, id: OpBodies[typeof OP.delete]['target'], m: MessageRecord): Promise<void> {
  await ctx.batch.put(keys.message(id), encode(messageRecord, m))
}

export const post: Handler<OpBodies[typeof OP.post]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || maySpeak(ctx.author) !== null || op.epoch > info.epoch || !validBody(op.body)) return false
  if (op.replyTo !== null && await getMessage(ctx.batch, op.replyTo) === null) return false
  const seq = info.messages
  await putMessage(ctx, ctx.id, {
    author: ctx.author!.identity, seq, epoch: op.epoch, nonce: op.nonce, body: op.body, replyTo: op.replyTo, edits: 0, deleted: false
  })
  await ctx.batch.put(keys.log(seq), logEntry(ctx.id))
  await putInfo(ctx, { ...info, messages: seq + 1 })
  return true
}

export const react: Handler<OpBodies[typeof OP.react]> = async (ctx, op) => {
  const size = b4a.byteLength(op.emoji)
  if (size === 0 || size > ROOM_CAPS.emoji) return false
  const target = await getMessage(ctx.batch, op.target)
  const k = ctx.author === null ? null : keys.reaction(op.target, ctx.author.identity, op.emoji)
  const has = k !== null && await ctx.batch.get(k) !== null
  if (mayReact(ctx.author, target, has, op.add, op.emoji) !== null || k === null) return false
  if (op.add) await ctx.batch.put(k, new Uint8Array(1))
  else await ctx.batch.del(k)
  return true
}

export const edit: Handler<OpBodies[typeof OP.edit]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || op.epoch > info.epoch || !validBody(op.body)) return false
  const target = await getMessage(ctx.batch, op.target)
  if (mayEdit(ctx.author, target) !== null || target === null) return false
  await putMessage(ctx, op.target, { ...target, epoch: op.epoch, nonce: op.nonce, body: op.body, edits: target.edits + 1 })
  return true
}

export const del: Handler<OpBodies[typeof OP.delete]> = async (ctx, op) => {
  const target = await getMessage(ctx.batch, op.target)
  if (mayDelete(ctx.author, target) !== null || target === null) return false
  await putMessage(ctx, op.target, { ...target, body: new Uint8Array(0), deleted: true })
  return true
}

export const mute: Handler<OpBodies[typeof OP.mute]> = async (ctx, op) => {
  const member = await getMember(ctx.batch, op.identity)
  if (mayMute(ctx.author, member, op.identity, op.muted) !== null || member === null) return false
  await putMember(ctx, op.identity, { ...member, muted: op.muted })
  return true
}

export const inviteAdd: Handler<OpBodies[typeof OP.inviteAdd]> = async (ctx, op) => {
  if (hasRole(ctx.author, ROLE.admin) !== null || !isRole(op.role) || op.uses < 1 || op.uses > ROOM_CAPS.uses) return false
  if (await getInvite(ctx.batch, op.id) !== null) return false
  await ctx.batch.put(keys.invite(op.id), encode(inviteRecord, {
    publicKey: op.publicKey, role: op.role, uses: op.uses, used: 0, expires: op.expires, deleted: false
  }))
  return true
}

export const inviteDel: Handler<OpBodies[typeof OP.inviteDel]> = async (ctx, op) => {
  if (hasRole(ctx.author, ROLE.admin) !== null) return false
  const invite = await getInvite(ctx.batch, op.id)
  if (invite === null || invite.deleted) return false
  await ctx.batch.put(keys.invite(op.id), encode(inviteRecord, { ...invite, deleted: true }))
  return true
}

/**
 * Raises the room version (which op types are live). A build that cannot apply the new version
 * interrupts the base instead of applying on: views never diverge between builds.
 */
export const roomVersion: Handler<OpBodies[typeof OP.roomVersion]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || hasRole(ctx.author, ROLE.admin) !== null || op.version <= info.version) return false
  if (op.version > ctx.supportedVersion) {
    ctx.interrupted = true
    ctx.host.interrupt({ code: 'ROOM_VERSION_UNSUPPORTED', version: op.version })
    return false
  }
  await putInfo(ctx, { ...info, version: op.version })
  return true
}
