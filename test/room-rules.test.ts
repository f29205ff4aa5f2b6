import test from 'brittle'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { Shoal } from '../src/node/shoal.js'
import { parseRoomMessageId, roomMessageIdToString } from '../src/node/room-service.js'
import { ROLE, type Room } from '../src/groups/index.js'
import { OP_VERSION } from '../src/groups/room-caps.js'
import { encodeOp, OP, type OpType, type OpBodies, type MessageId } from '../src/groups/room-schema.js'
import { identityToString } from '../src/ids.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { converge } from './helpers/rooms.js'
import { codeOf } from './helpers/codes.js'

type T = Parameters<Parameters<typeof test>[1]>[0]

/** An op as a peer's build would append it, without any check of its own. */
type Raw = { [K in OpType]: [K, OpBodies[K]] }[OpType]


function random (n: number): Uint8Array {
  const b = b4a.alloc(n)
  sodium.randombytes_buf(b)
  return b
}

/**
 * One rule through both paths: the local call on `node` is refused with `code` (or, with
 * 'resolved', changes nothing) and appends nothing; the same op appended raw by that device is
 * skipped by apply (the view is the same after it).
 */
async function bothPaths (t: T, node: Shoal, id: string, what: string, code: string, local: () => Promise<unknown>, raw: () => Promise<Raw>): Promise<void> {
  const room = node.rooms.room(id)
  await converge(team.get(node)!()) // nothing of the other devices left to arrive meanwhile
  const length = room.base.local.length
  const hash = b4a.toString(await room.viewHash(), 'hex')
  t.is(await codeOf(local()), code, `${what}: the local call is ${code === 'resolved' ? 'a no-op' : code}`)
  t.is(room.base.local.length, length, `${what}: and appends nothing`)
  const [type, body] = await raw()
  await room.appendRaw(encodeOp(type, OP_VERSION, body as never))
  await room.update()
  t.is(room.base.local.length, length + 1, `${what}: the raw op is appended`)
  t.is(b4a.toString(await room.viewHash(), 'hex'), hash, `${what}: and apply skips it`)
}

/** The rooms of each node's team (bothPaths converges them first). */
const team = new Map<Shoal, () => Room[]>()

async function teamOfThree (t: T): Promise<{ a: Shoal, b: Shoal, c: Shoal, id: string, rooms: () => Room[] }> {
  const testnet = await createLocalDht(t)
  // no background acks: a device's writer grows only by the ops this test appends
  const a = await createSwarmPeer(t, testnet, { name: 'alice', roomAckInterval: 0 })
  const b = await createSwarmPeer(t, testnet, { name: 'bob', roomAckInterval: 0 })
  const c = await createSwarmPeer(t, testnet, { name: 'carol', roomAckInterval: 0 })
  const { id } = await a.rooms.create('rules')
  await a.rooms.announced()
  await b.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  await c.rooms.join((await a.rooms.invite(id, { role: ROLE.moderator })).code, { timeout: 60_000 })
  const rooms = (): Room[] => [a, b, c].map(n => n.rooms.room(id))
  await converge(rooms())
  for (const n of [a, b, c]) team.set(n, rooms)
  return { a, b, c, id, rooms }
}

test('room rules – every refusal of the room service is a skip of apply for the same op (one set of rules)', async t => {
  const { a, b, c, id, rooms } = await teamOfThree(t)
  const A = parseRoomMessageId((await a.rooms.post(id, 'by the admin')).id)
  const B = parseRoomMessageId((await b.rooms.post(id, 'by the member')).id)
  const B2 = parseRoomMessageId((await b.rooms.post(id, 'by the member, kept')).id)
  await converge(rooms())
  const epoch = async (n: Shoal): Promise<number> => (await n.rooms.room(id).info())!.epoch
  const text = async (n: Shoal, target: MessageId): Promise<Raw> => [OP.edit, { target, epoch: await epoch(n), nonce: random(24), body: random(48) }]
  const str = roomMessageIdToString

  // a member: no moderation, no invites, only its own messages, only its own reactions
  await bothPaths(t, b, id, 'a member removes the admin', 'NOT_PERMITTED', () => b.rooms.remove(id, a.id), async () => [OP.removeMember, { identity: a.identity }])
  await bothPaths(t, b, id, 'a member changes a role', 'NOT_PERMITTED', () => b.rooms.setRole(id, c.id, ROLE.member), async () => [OP.setRole, { identity: c.identity, role: ROLE.member }])
  await bothPaths(t, b, id, 'a member mutes', 'NOT_PERMITTED', () => b.rooms.mute(id, c.id), async () => [OP.mute, { identity: c.identity, muted: true }])
  await bothPaths(t, b, id, 'a member makes an invite', 'NOT_PERMITTED', () => b.rooms.invite(id), async () => [OP.inviteAdd, { id: random(32), publicKey: random(32), role: ROLE.member, uses: 1, expires: 0 }])
  await bothPaths(t, b, id, 'a member deletes another\'s message', 'NOT_OWN_MESSAGE', () => b.rooms.delete(id, str(A)), async () => [OP.delete, { target: A }])
  await bothPaths(t, b, id, 'a member edits another\'s message', 'NOT_OWN_MESSAGE', () => b.rooms.edit(id, str(A), 'mine now'), () => text(b, A))
  await bothPaths(t, b, id, 'a member removes a reaction it has not made', 'NOT_REACTED', () => b.rooms.react(id, str(A), '👍', false), async () => [OP.react, { target: A, emoji: '👍', add: false }])
  await b.rooms.react(id, str(A), '👍')
  await bothPaths(t, b, id, 'a member reacts again with the same emoji', 'resolved', () => b.rooms.react(id, str(A), '👍'), async () => [OP.react, { target: A, emoji: '👍', add: true }])

  // a moderator: only on lower roles, and no admin ops
  await bothPaths(t, c, id, 'a moderator mutes the admin', 'NOT_PERMITTED', () => c.rooms.mute(id, a.id), async () => [OP.mute, { identity: a.identity, muted: true }])
  await bothPaths(t, c, id, 'a moderator changes a role', 'NOT_PERMITTED', () => c.rooms.setRole(id, b.id, ROLE.admin), async () => [OP.setRole, { identity: b.identity, role: ROLE.admin }])
  await bothPaths(t, c, id, 'a moderator removes a member', 'NOT_PERMITTED', () => c.rooms.remove(id, b.id), async () => [OP.removeMember, { identity: b.identity }])

  // the last admin stays, and what is so already writes nothing
  await bothPaths(t, a, id, 'the last admin demotes itself', 'LAST_ADMIN', () => a.rooms.setRole(id, a.id, ROLE.member), async () => [OP.setRole, { identity: a.identity, role: ROLE.member }])
  await bothPaths(t, a, id, 'the last admin removes itself', 'LAST_ADMIN', () => a.rooms.remove(id, a.id), async () => [OP.removeMember, { identity: a.identity }])
  await bothPaths(t, a, id, 'the last admin leaves', 'LAST_ADMIN', () => a.rooms.leave(id), async () => [OP.leave, { identity: a.identity }])
  const stranger = random(32)
  await bothPaths(t, a, id, 'a mute of someone not in the room', 'NOT_MEMBER', () => a.rooms.mute(id, identityToString(stranger)), async () => [OP.mute, { identity: stranger, muted: true }])
  await bothPaths(t, a, id, 'a removal of someone not in the room', 'NOT_MEMBER', () => a.rooms.remove(id, identityToString(stranger)), async () => [OP.removeMember, { identity: stranger }])
  await bothPaths(t, a, id, 'a role given again', 'resolved', () => a.rooms.setRole(id, c.id, ROLE.moderator), async () => [OP.setRole, { identity: c.identity, role: ROLE.moderator }])
  await bothPaths(t, a, id, 'an unmute of someone not muted', 'resolved', () => a.rooms.mute(id, b.id, false), async () => [OP.mute, { identity: b.identity, muted: false }])

  // a deleted message takes nothing more
  await a.rooms.delete(id, str(B))
  await converge(rooms())
  await bothPaths(t, b, id, 'an edit of a deleted message', 'UNKNOWN_MESSAGE', () => b.rooms.edit(id, str(B), 'again'), () => text(b, B))
  await bothPaths(t, b, id, 'a reaction to a deleted message', 'UNKNOWN_MESSAGE', () => b.rooms.react(id, str(B), '🎉'), async () => [OP.react, { target: B, emoji: '🎉', add: true }])
  await bothPaths(t, b, id, 'a delete of a deleted message', 'UNKNOWN_MESSAGE', () => b.rooms.delete(id, str(B)), async () => [OP.delete, { target: B }])

  // a muted member writes no content
  await c.rooms.mute(id, b.id)
  await converge(rooms())
  await bothPaths(t, b, id, 'a muted member posts', 'NOT_PERMITTED', () => b.rooms.post(id, 'hello?'), async () => [OP.post, { epoch: await epoch(b), nonce: random(24), body: random(48), replyTo: null }])
  await bothPaths(t, b, id, 'a muted member reacts', 'NOT_PERMITTED', () => b.rooms.react(id, str(A), '🎉'), async () => [OP.react, { target: A, emoji: '🎉', add: true }])
  await bothPaths(t, b, id, 'a muted member edits its own message', 'NOT_PERMITTED', () => b.rooms.edit(id, str(B2), 'edited'), () => text(b, B2))
  await bothPaths(t, c, id, 'a mute of someone muted', 'resolved', () => c.rooms.mute(id, b.id), async () => [OP.mute, { identity: b.identity, muted: true }])

  // every replica skipped every one of those ops alike
  const hash = await converge(rooms())
  t.ok(hash.length > 0, 'the three replicas converge')
  const members = await a.rooms.members(id)
  t.alike(members.items.map(m => [m.role, m.muted]).sort(), [['admin', false], ['member', true], ['moderator', false]])
})
