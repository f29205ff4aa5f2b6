import test from 'brittle'
import b4a from 'b4a'
import { ROLE, type Role } from '../src/groups/room-caps.js'
import type { MemberRecord, MessageRecord, RoomInfo } from '../src/groups/room-schema.js'
import {
  hasRole, maySpeak, mayReact, mayEdit, mayDelete, mayMute, maySetRole, mayRemove, mayLeave, mayAddDevice, type Actor
} from '../src/groups/room-rules.js'

/*
 * Every rule over every combination of its inputs, against the meaning apply has had since room
 * version 1 (written out here as the handlers wrote it before the rules were shared). Rooms are
 * replicated: a rule that starts allowing or refusing something else forks replicas of different
 * builds, so such a change must fail here first.
 */

const X = b4a.alloc(32, 1)
const Y = b4a.alloc(32, 2)
const ROLES: Role[] = [ROLE.member, ROLE.moderator, ROLE.admin]
const BOOLS = [false, true]

const actors: Array<Actor | null> = [null]
for (const role of ROLES) for (const muted of BOOLS) actors.push({ device: X, identity: X, member: { role, muted, removed: false } })
const members: Array<MemberRecord | null> = [null]
for (const role of ROLES) for (const muted of BOOLS) for (const removed of BOOLS) members.push({ role, muted, removed })
const message = (author: Uint8Array, deleted: boolean): MessageRecord => ({ author, seq: 0, epoch: 0, nonce: b4a.alloc(24), body: b4a.alloc(32), replyTo: null, edits: 0, deleted })
const messages: Array<MessageRecord | null> = [null, message(X, false), message(X, true), message(Y, false), message(Y, true)]
const infos: RoomInfo[] = [1, 2].map(admins => ({ version: 3, name: 'r', creator: X, epoch: 0, needsRotation: false, admins, messages: 0 }))

const speaks = (a: Actor | null): boolean => a !== null && !a.member.muted
const rank = (a: Actor | null): number => a === null ? -1 : a.member.role
const isAdmin = (a: Actor | null): boolean => a !== null && a.member.role === ROLE.admin
const live = (m: MessageRecord | null): m is MessageRecord => m !== null && !m.deleted
const active = (m: MemberRecord | null): m is MemberRecord => m !== null && !m.removed

test('room rules – each rule allows exactly what apply always allowed', t => {
  let checked = 0
  let wrong = 0
  const expect = (what: string, got: unknown, allowed: boolean): void => {
    checked++
    if ((got === null) !== allowed) {
      wrong++
      if (wrong <= 10) t.fail(`${what}: ${allowed ? 'allowed before, refused now' : 'refused before, allowed now'}`)
    }
  }
  for (const a of actors) {
    const who = a === null ? 'nobody' : `role ${a.member.role}${a.member.muted ? ' muted' : ''}`
    for (const need of ROLES) expect(`hasRole ${need} by ${who}`, hasRole(a, need), a !== null && a.member.role >= need)
    expect(`speak by ${who}`, maySpeak(a), speaks(a))
    for (const m of messages) {
      for (const has of BOOLS) for (const add of BOOLS) expect(`react by ${who}`, mayReact(a, m, has, add, '👍'), speaks(a) && live(m) && has !== add)
      expect(`edit by ${who}`, mayEdit(a, m), speaks(a) && live(m) && b4a.equals(m.author, a!.identity))
      expect(`delete by ${who}`, mayDelete(a, m), a !== null && live(m) && (b4a.equals(m.author, a.identity) || rank(a) >= ROLE.moderator))
    }
    for (const info of infos) {
      expect(`leave by ${who}`, mayLeave(a, info), a !== null && !(a.member.role === ROLE.admin && info.admins <= 1))
      for (const m of members) {
        const lastAdmin = m !== null && m.role === ROLE.admin && info.admins <= 1
        for (const muted of BOOLS) expect(`mute by ${who}`, mayMute(a, m, Y, muted), rank(a) >= ROLE.moderator && active(m) && m.role < rank(a) && m.muted !== muted)
        for (const role of ROLES) expect(`set-role by ${who}`, maySetRole(a, info, m, Y, role), isAdmin(a) && active(m) && m.role !== role && !lastAdmin)
        expect(`remove by ${who}`, mayRemove(a, info, m, Y), isAdmin(a) && active(m) && !lastAdmin)
        for (const identity of [X, Y]) expect(`add-device by ${who}`, mayAddDevice(a, m, identity), a !== null && (b4a.equals(a.identity, identity) || isAdmin(a)) && active(m))
      }
    }
  }
  t.is(wrong, 0, `${checked} cases, each as before`)
})

test('room rules – refusals carry the codes the service throws', t => {
  const member: Actor = { device: X, identity: X, member: { role: ROLE.member, muted: false, removed: false } }
  const muted: Actor = { ...member, member: { ...member.member, muted: true } }
  const admin: Actor = { ...member, member: { ...member.member, role: ROLE.admin } }
  const info = infos[0]!
  t.is(maySpeak(null)?.code, 'NOT_MEMBER')
  t.is(maySpeak(muted)?.code, 'NOT_PERMITTED')
  t.is(mayReact(member, message(Y, false), false, false, '👍')?.code, 'NOT_REACTED')
  t.is(mayReact(member, message(Y, false), true, true, '👍')?.code, 'UNCHANGED')
  t.is(mayReact(member, message(Y, true), false, true, '👍')?.code, 'UNKNOWN_MESSAGE')
  t.is(mayEdit(member, message(Y, false))?.code, 'NOT_OWN_MESSAGE')
  t.is(mayDelete(member, message(Y, false))?.code, 'NOT_OWN_MESSAGE')
  t.is(mayMute(member, members[1]!, Y, true)?.code, 'NOT_PERMITTED')
  t.is(mayMute(admin, null, Y, true)?.code, 'NOT_MEMBER')
  t.is(maySetRole(admin, info, { role: ROLE.admin, muted: false, removed: false }, X, ROLE.member)?.code, 'LAST_ADMIN')
  t.is(maySetRole(admin, info, { role: ROLE.member, muted: false, removed: false }, Y, ROLE.member)?.code, 'UNCHANGED')
  t.is(mayRemove(admin, info, { role: ROLE.admin, muted: false, removed: false }, X)?.code, 'LAST_ADMIN')
  t.is(mayLeave(admin, info)?.code, 'LAST_ADMIN')
  t.is(hasRole(member, ROLE.admin, 'only admins make invite codes')?.message, 'only admins make invite codes')
})
