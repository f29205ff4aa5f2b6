/**
 * Handlers of the membership ops: create, add-member, add-device, remove-member, leave, set-role,
 * rotate-epoch, member-name. Each validates shape, permission and signatures against the view, then writes.
 */
import b4a from 'b4a'
import { verifyReceipt } from 'blind-pairing-core'
import { ROLE, ROOM_CAPS, isRole } from './room-caps.js'
import { hasRole, mayAddDevice, mayLeave, mayRemove, maySetRole } from './room-rules.js'
import { verifyAttestation, SEALED_KEY_BYTES } from './room-crypto.js'
import {
  decode, encode, joinRequest, inviteRecord, OP, type OpBodies, type EpochShare, type DeviceAttestation, type RoomInfo, type MemberRecord
} from './room-schema.js'
import { keys, keyTail, getMember, getDevice, getInvite, activeDevices } from './room-view.js'
import { putInfo, putMember, putDevice, type ApplyContext, type Handler } from './room-apply-context.js'

/** Shares for one device: epochs unique and known, each a sealed 32-byte key. */
function validShares (shares: EpochShare[], epoch: number): boolean {
  if (shares.length > ROOM_CAPS.shares) return false
  const seen = new Set<number>()
  for (const s of shares) {
    if (s.epoch > epoch || seen.has(s.epoch) || s.sealed.byteLength !== SEALED_KEY_BYTES) return false
    seen.add(s.epoch)
  }
  return true
}

async function putShares (ctx: ApplyContext, device: Uint8Array, shares: EpochShare[]): Promise<void> {
  for (const s of shares) await ctx.batch.put(keys.share(s.epoch, device), s.sealed)
}

/** Adds a device of `identity` (an active member with `role`) as a writer, with its key shares. */
async function admitDevice (ctx: ApplyContext, info: RoomInfo, att: DeviceAttestation, shares: EpochShare[], isAdmin: boolean): Promise<boolean> {
  if (!verifyAttestation(att, ctx.discoveryKey)) return false
  if (await getDevice(ctx.batch, att.device) !== null) return false // a writer key is never reused
  if (!validShares(shares, info.epoch)) return false
  await putDevice(ctx, att.device, { identity: att.identity, boxKey: att.boxKey, removed: false })
  await putShares(ctx, att.device, shares)
  if (!shares.some(s => s.epoch === info.epoch)) await putInfo(ctx, { ...info, needsRotation: true })
  await ctx.host.addWriter(att.device, { indexer: isAdmin })
  return true
}

/** The active device keys of a member. */
async function memberDevices (ctx: ApplyContext, identity: Uint8Array): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const e of ctx.batch.createReadStream(keys.memberDevices(identity))) {
    const device = keyTail(e.key).subarray(32)
    const d = await getDevice(ctx.batch, device)
    if (d !== null && !d.removed) out.push(device)
  }
  return out
}

const isAdmin = (ctx: ApplyContext): boolean => hasRole(ctx.author, ROLE.admin) === null

export const create: Handler<OpBodies[typeof OP.create]> = async (ctx, op) => {
  if (ctx.info !== null) return false
  if (b4a.byteLength(op.name) > ROOM_CAPS.name) return false
  if (!b4a.equals(op.device.device, ctx.id.writer)) return false
  if (!verifyAttestation(op.device, ctx.discoveryKey)) return false
  if (op.shares.length !== 1 || op.shares[0]!.epoch !== 0 || op.shares[0]!.sealed.byteLength !== SEALED_KEY_BYTES) return false
  const identity = op.device.identity
  await putInfo(ctx, { version: 1, name: op.name, creator: identity, epoch: 0, needsRotation: false, admins: 1, messages: 0 })
  await putMember(ctx, identity, { role: ROLE.admin, muted: false, removed: false })
  await putDevice(ctx, op.device.device, { identity, boxKey: op.device.boxKey, removed: false })
  await putShares(ctx, op.device.device, op.shares)
  return true // the creating writer is the bootstrap indexer already
}

export const addMember: Handler<OpBodies[typeof OP.addMember]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || !isAdmin(ctx)) return false
  const invite = await getInvite(ctx.batch, op.invite)
  if (invite === null || invite.deleted || invite.used >= invite.uses) return false
  let att: DeviceAttestation
  try {
    const userData = verifyReceipt(op.receipt, invite.publicKey)
    if (userData === null) return false
    att = decode(joinRequest, userData)
  } catch {
    return false // a malformed receipt is an invalid op
  }
  const existing = await getMember(ctx.batch, att.identity)
  if (existing !== null && !existing.removed) return false
  await ctx.batch.put(keys.invite(op.invite), encode(inviteRecord, { ...invite, used: invite.used + 1 }))
  await putMember(ctx, att.identity, { role: invite.role, muted: false, removed: false })
  const admin = invite.role === ROLE.admin
  if (admin) await putInfo(ctx, { ...info, admins: info.admins + 1 })
  return admitDevice(ctx, ctx.info!, att, op.shares, admin)
}

export const addDevice: Handler<OpBodies[typeof OP.addDevice]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null) return false
  const member = await getMember(ctx.batch, op.device.identity)
  if (mayAddDevice(ctx.author, member, op.device.identity) !== null) return false
  return admitDevice(ctx, info, op.device, op.shares, member!.role === ROLE.admin)
}

export const removeMember: Handler<OpBodies[typeof OP.removeMember]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null) return false
  const member = await getMember(ctx.batch, op.identity)
  if (mayRemove(ctx.author, info, member, op.identity) !== null) return false
  return dropMember(ctx, info, op.identity, member!)
}

/** A member (any role) removes itself; the last admin stays, as with remove-member. */
export const leave: Handler<OpBodies[typeof OP.leave]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || ctx.author === null || !b4a.equals(ctx.author.identity, op.identity)) return false
  if (mayLeave(ctx.author, info) !== null) return false
  return dropMember(ctx, info, op.identity, ctx.author.member)
}

/**
 * Marks an active member (that the rules let go) and all its devices removed, removes the writers
 * and asks for a rotation; false when Autobase cannot remove a writer now.
 */
async function dropMember (ctx: ApplyContext, info: RoomInfo, identity: Uint8Array, member: MemberRecord): Promise<boolean> {
  const wasAdmin = member.role === ROLE.admin
  const devices = await memberDevices(ctx, identity)
  for (const d of devices) if (!ctx.host.removeable(d)) return false
  await putMember(ctx, identity, { ...member, removed: true })
  for (const d of devices) {
    const rec = await getDevice(ctx.batch, d)
    await putDevice(ctx, d, { ...rec!, removed: true })
  }
  await putInfo(ctx, { ...info, admins: info.admins - (wasAdmin ? 1 : 0), needsRotation: true })
  for (const d of devices) await ctx.host.removeWriter(d)
  return true
}

export const setRole: Handler<OpBodies[typeof OP.setRole]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || !isRole(op.role)) return false
  const member = await getMember(ctx.batch, op.identity)
  if (maySetRole(ctx.author, info, member, op.identity, op.role) !== null || member === null) return false
  const wasAdmin = member.role === ROLE.admin
  const nowAdmin = op.role === ROLE.admin
  await putMember(ctx, op.identity, { ...member, role: op.role, muted: nowAdmin ? false : member.muted })
  if (wasAdmin !== nowAdmin) {
    await putInfo(ctx, { ...info, admins: info.admins + (nowAdmin ? 1 : -1) })
    for (const d of await memberDevices(ctx, op.identity)) await ctx.host.addWriter(d, { indexer: nowAdmin })
  }
  return true
}

export const rotateEpoch: Handler<OpBodies[typeof OP.rotateEpoch]> = async (ctx, op) => {
  const info = ctx.info
  if (info === null || !isAdmin(ctx) || op.epoch !== info.epoch + 1) return false
  const current = await activeDevices(ctx.batch)
  if (op.shares.length !== current.length) return false
  const wanted = new Set(current.map(d => b4a.toString(d.device, 'hex')))
  for (const s of op.shares) {
    if (s.sealed.byteLength !== SEALED_KEY_BYTES) return false
    if (!wanted.delete(b4a.toString(s.device, 'hex'))) return false // unknown, removed or repeated
  }
  for (const s of op.shares) await ctx.batch.put(keys.share(op.epoch, s.device), s.sealed)
  await putInfo(ctx, { ...info, epoch: op.epoch, needsRotation: false })
  return true
}

export const memberName: Handler<OpBodies[typeof OP.memberName]> = async (ctx, op) => {
  if (ctx.info === null || hasRole(ctx.author, ROLE.member) !== null) return false
  if (b4a.byteLength(op.name) > ROOM_CAPS.name) return false
  if (op.name === '') await ctx.batch.del(keys.memberName(ctx.author!.identity))
  else await ctx.batch.put(keys.memberName(ctx.author!.identity), b4a.from(op.name))
  return true
}
