/**
 * The permission rules of a room, written once: pure predicates saying whether an actor may do an
 * op to a target, given the records of the room's view. Apply skips an op a rule refuses; the room
 * service (src/node/room-service.ts) refuses the same call with the rule's code before anything is
 * appended, so a peer's op and a local call are judged by the same code. Shapes, sizes, epochs and
 * signatures stay in the handlers (room-ops-*.ts): they are validation, not permission.
 * Rooms are replicated: changing what a rule allows forks replicas of different builds.
 */
import b4a from 'b4a'
import { ROLE, type Role } from './room-caps.js'
import type { MemberRecord, MessageRecord, RoomInfo } from './room-schema.js'
import { getDevice, getMember, type ViewReader } from './room-view.js'
import { identityToString } from '../ids.js'
import { ShoalError } from '../errors.js'

/** Who acts: an active device (`device`) of an active member. */
export interface Actor { device: Uint8Array, identity: Uint8Array, member: MemberRecord }

/**
 * Why a rule refuses: a ShoalError code, or UNCHANGED when the op would change nothing (apply
 * skips it; the service resolves without appending).
 */
export type RuleCode = 'NOT_MEMBER' | 'NOT_PERMITTED' | 'LAST_ADMIN' | 'NOT_OWN_MESSAGE' | 'UNKNOWN_MESSAGE' | 'NOT_REACTED' | 'UNCHANGED'
export interface Refusal { code: RuleCode, message: string }
/** null: allowed. */
export type Verdict = Refusal | null

/**
 * For a local call: true when `verdict` allows it, false when it would change nothing (so there is
 * nothing to append), else throws the refusal as a ShoalError of its code.
 */
export function allowed (verdict: Verdict): boolean {
  if (verdict === null) return true
  if (verdict.code === 'UNCHANGED') return false
  throw new ShoalError(verdict.code, verdict.message)
}

const NOT_ME: Refusal = { code: 'NOT_MEMBER', message: 'you are not a member of this room (any more)' }
const MUTED: Refusal = { code: 'NOT_PERMITTED', message: 'you are muted in this room' }
const GONE: Refusal = { code: 'UNKNOWN_MESSAGE', message: 'that message is not in this room here (or was deleted)' }
const UNCHANGED: Refusal = { code: 'UNCHANGED', message: 'so it is already: nothing to write' }

/**
 * The actor behind writer `device` in the view (as apply attributes an op to its author), or null
 * when it is not a device of the room or it or its member was removed.
 */
export async function readActor (view: ViewReader, device: Uint8Array): Promise<Actor | null> {
  const d = await getDevice(view, device)
  if (d === null || d.removed) return null
  const member = await getMember(view, d.identity)
  if (member === null || member.removed) return null
  return { device, identity: d.identity, member }
}

/** The actor is a member with at least role `need` (NOT_MEMBER, NOT_PERMITTED with `why`). */
export function hasRole (actor: Actor | null, need: Role, why?: string): Verdict {
  if (actor === null) return NOT_ME
  if (actor.member.role >= need) return null
  return { code: 'NOT_PERMITTED', message: why ?? `only ${need === ROLE.admin ? 'admins' : 'moderators and admins'} can do that in this room` }
}

/** The actor may write content (post, react, edit): a member not muted. */
export function maySpeak (actor: Actor | null): Verdict {
  if (actor === null) return NOT_ME
  return actor.member.muted ? MUTED : null
}

const live = (m: MessageRecord | null): Verdict => m === null || m.deleted ? GONE : null

const active = (m: MemberRecord | null, identity: Uint8Array): Verdict =>
  m === null || m.removed ? { code: 'NOT_MEMBER', message: `${identityToString(identity)} is not a member of this room` } : null

/** Adding (`add`) or removing a reaction of the actor's, which it has (`has`) or not, on `target`. */
export function mayReact (actor: Actor | null, target: MessageRecord | null, has: boolean, add: boolean, emoji: string): Verdict {
  const v = maySpeak(actor) ?? live(target)
  if (v !== null || has !== add) return v
  return add ? UNCHANGED : { code: 'NOT_REACTED', message: `you have no ${emoji} reaction on that message to remove` }
}

/** Editing `target`: its author only, not muted. */
export function mayEdit (actor: Actor | null, target: MessageRecord | null): Verdict {
  const v = maySpeak(actor) ?? live(target)
  if (v !== null) return v
  return b4a.equals(target!.author, actor!.identity) ? null : { code: 'NOT_OWN_MESSAGE', message: 'only its author edits a room message' }
}

/** Deleting `target`: its author (muted or not), a moderator or an admin. */
export function mayDelete (actor: Actor | null, target: MessageRecord | null): Verdict {
  const v = actor === null ? NOT_ME : live(target)
  if (v !== null) return v
  if (b4a.equals(target!.author, actor!.identity) || actor!.member.role >= ROLE.moderator) return null
  return { code: 'NOT_OWN_MESSAGE', message: 'only its author, a moderator or an admin deletes a room message' }
}

/** Muting (or with `muted` false unmuting) `identity`, whose record is `target`: moderators and admins, on lower roles. */
export function mayMute (actor: Actor | null, target: MemberRecord | null, identity: Uint8Array, muted: boolean): Verdict {
  const v = hasRole(actor, ROLE.moderator) ?? active(target, identity)
  if (v !== null) return v
  if (target!.role >= actor!.member.role) return { code: 'NOT_PERMITTED', message: 'moderators and admins mute only members of a lower role' }
  return target!.muted === muted ? UNCHANGED : null
}

/** Giving `identity` (record `target`) the role `role`: admins; the last admin stays admin. */
export function maySetRole (actor: Actor | null, info: RoomInfo, target: MemberRecord | null, identity: Uint8Array, role: Role): Verdict {
  const v = hasRole(actor, ROLE.admin) ?? active(target, identity)
  if (v !== null) return v
  if (target!.role === role) return UNCHANGED
  if (target!.role === ROLE.admin && info.admins <= 1) return { code: 'LAST_ADMIN', message: 'the last admin of a room stays admin: make another member admin first' }
  return null
}

/** Removing `identity` (record `target`) and all its devices: admins; never the last admin. */
export function mayRemove (actor: Actor | null, info: RoomInfo, target: MemberRecord | null, identity: Uint8Array): Verdict {
  const v = hasRole(actor, ROLE.admin) ?? active(target, identity)
  if (v !== null) return v
  if (target!.role === ROLE.admin && info.admins <= 1) return { code: 'LAST_ADMIN', message: 'the last admin of a room cannot be removed: make another member admin first' }
  return null
}

/** The actor leaving the room (all its devices): any member but the last admin. */
export function mayLeave (actor: Pick<Actor, 'member'> | null, info: RoomInfo): Verdict {
  if (actor === null) return { code: 'NOT_MEMBER', message: 'not a member of this room' }
  if (actor.member.role === ROLE.admin && info.admins <= 1) return { code: 'LAST_ADMIN', message: 'the last admin cannot leave while others remain; make another member admin first' }
  return null
}

/** Adding a device of `identity` (record `target`): that member itself, or an admin, while the member is active. */
export function mayAddDevice (actor: Actor | null, target: MemberRecord | null, identity: Uint8Array): Verdict {
  if (actor === null) return NOT_ME
  if (!b4a.equals(actor.identity, identity)) {
    const v = hasRole(actor, ROLE.admin)
    if (v !== null) return v
  }
  return active(target, identity)
}
