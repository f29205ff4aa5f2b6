import test from 'brittle'
import b4a from 'b4a'
import { ROLE, ROOM_VERSION, LEAVE_VERSION } from '../src/groups/index.js'
import type { Room } from '../src/groups/index.js'
import { encodeOp, OP } from '../src/groups/room-schema.js'
import { makeDevice, makeIdentity, openRoom, mesh, link, invite, addSecondDevice, converge, type Device } from './helpers/rooms.js'

const N = 40

type T = Parameters<Parameters<typeof test>[1]>[0]

async function readable (room: Room, minEpoch: number): Promise<{ total: number, decrypted: number }> {
  const msgs = (await room.messages()).filter(m => m.epoch >= minEpoch)
  return { total: msgs.length, decrypted: msgs.filter(m => m.text !== null).length }
}

const active = async (room: Room): Promise<string[]> =>
  (await room.members()).filter(m => !m.removed).map(m => b4a.toString(m.identity, 'hex')).sort()

const hex = (d: Device): string => b4a.toString(d.identity.publicKey, 'hex')

async function threeMembers (t: T, role: 0 | 1 | 2 = ROLE.member) {
  const a = await makeDevice(t)
  const m = await makeDevice(t)
  const x = await makeDevice(t)
  mesh(t, [a, m, x])
  const ra = await openRoom(t, a, null, { name: 'leave' })
  const rm = await invite(t, ra, m, { role })
  const rx = await invite(t, ra, x)
  return { a, m, x, ra, rm, rx, rooms: [ra, rm, rx] }
}

test('room leave – new rooms are created at the version that has leave', async t => {
  const a = await makeDevice(t)
  const ra = await openRoom(t, a, null, { name: 'v' })
  t.is(ROOM_VERSION >= LEAVE_VERSION, true)
  t.is((await ra.info())!.version, ROOM_VERSION, 'create is followed by the room-version op')
})

test('room leave – a member leaves: gone from members, an admin rotates, the leaver reads 0 of N new messages', async t => {
  const a = await makeDevice(t)
  const bId = makeIdentity()
  const b1 = await makeDevice(t, bId)
  const b2 = await makeDevice(t, bId)
  const x = await makeDevice(t)
  mesh(t, [a, b1, b2, x])
  const ra = await openRoom(t, a, null, { name: 'leave' })
  const rb1 = await invite(t, ra, b1, { role: ROLE.moderator })
  const rx = await invite(t, ra, x)
  const rb2 = await addSecondDevice(t, b1, b2)
  const rooms = [ra, rb1, rb2, rx]
  await rb1.post('said before leaving')
  await converge(rooms)

  await rb2.leave() // from the second device: the identity leaves with both its devices
  t.ok((await rb2.members()).find(mm => b4a.equals(mm.identity, bId.publicKey))!.removed, 'applied on the leaving device when leave resolves')
  await converge(rooms)
  for (const r of rooms) t.alike(await active(r), [hex(a), hex(x)].sort(), 'the leaver is gone from members')
  for (const r of rooms) t.is((await r.info())!.epoch, 1, 'the admin rotated the epoch')
  t.is((await ra.info())!.needsRotation, false)
  t.is(rb1.writable, false, 'no longer a writer')
  t.is(rb2.writable, false, 'no device of the leaver stays a writer')
  t.is(await rb1.epochKey(1), null, 'the leaver has no share of the new epoch')

  await Promise.all([ra, rx].map(async (r, w) => {
    for (let i = w; i < N; i += 2) await r.post('after the leave ' + i)
  }))
  await converge(rooms)
  for (const [name, r] of [['admin', ra], ['member', rx]] as const) t.alike(await readable(r, 1), { total: N, decrypted: N }, `${name} reads ${N} of ${N}`)
  for (const [name, r] of [['leaver', rb1], ['leaver 2nd device', rb2]] as const) t.alike(await readable(r, 1), { total: N, decrypted: 0 }, `${name} reads 0 of ${N}`)
  await t.exception(rb1.post('after leaving'), /ROOM_KEY_MISSING|NOT_MEMBER|writable|closing/i, 'the leaver cannot post a readable message')
  t.is((await rb1.messages()).find(mm => mm.epoch === 0)!.text, 'said before leaving', 'history before the leave stays readable to it')
})

test('room leave – an admin (not the last) leaves and the other admin rotates', async t => {
  const { a, m, x, ra, rm, rx, rooms } = await threeMembers(t, ROLE.admin)
  t.is((await ra.info())!.admins, 2)
  await ra.leave()
  await converge(rooms)
  for (const r of rooms) t.alike(await active(r), [hex(m), hex(x)].sort(), 'the admin is gone from members')
  t.is((await rm.info())!.admins, 1, 'one admin left')
  t.is((await rm.info())!.epoch, 1, 'the remaining admin rotated')
  t.ok(!(await active(rm)).includes(hex(a)))
  await rx.post('after the admin left')
  await converge(rooms)
  t.alike(await readable(rm, 1), { total: 1, decrypted: 1 })
  t.alike(await readable(ra, 1), { total: 1, decrypted: 0 }, 'the admin that left reads none of it')
})

test('room leave – the last admin cannot leave while others remain (LAST_ADMIN), and can after making another admin', async t => {
  const { a, m, ra, rm, rooms } = await threeMembers(t)
  const before = await converge(rooms)
  await t.exception(ra.leave(), /LAST_ADMIN/, 'the room refuses before appending')
  await ra.appendRaw(encodeOp(OP.leave, 1, { identity: a.identity.publicKey })) // as a build that did not check
  t.is(await converge(rooms), before, 'apply skips a leave of the last admin')

  await ra.setRole(m.identity.publicKey, ROLE.admin)
  await converge(rooms)
  await ra.leave()
  await converge(rooms)
  t.ok((await rm.members()).find(mm => b4a.equals(mm.identity, a.identity.publicKey))!.removed, 'now it may leave')
  t.is((await rm.info())!.admins, 1)
})

test('room leave – leaving when not a member is NOT_MEMBER and changes nothing; a leave for someone else is skipped', async t => {
  const { m, x, ra, rm, rx, rooms } = await threeMembers(t)
  await ra.removeMember(x.identity.publicKey)
  const before = await converge(rooms)
  await t.exception(rx.leave(), /NOT_MEMBER/, 'a removed member cannot leave again')
  t.is(await converge(rooms), before, 'nothing changed')

  await rm.appendRaw(encodeOp(OP.leave, 1, { identity: ra.base.key })) // names an identity that is not the author's
  await rm.appendRaw(encodeOp(OP.leave, 1, { identity: x.identity.publicKey }))
  t.is(await converge(rooms), before, 'a leave op only ever removes its author')
  t.ok(!(await rm.members()).find(mm => b4a.equals(mm.identity, m.identity.publicKey))!.removed)
})

test('room leave – a version-1 room ignores a leave op on old and new builds alike, until an admin raises it', async t => {
  const a = await makeDevice(t)
  const m = await makeDevice(t)
  const x = await makeDevice(t)
  mesh(t, [a, m, x])
  const ra = await openRoom(t, a, null, { name: 'old', supportedVersion: 1 }) // the admin runs a build without leave
  const rm = await invite(t, ra, m) // members on the new build
  const rx = await invite(t, ra, x)
  let rooms = [ra, rm, rx]
  await rm.post('hello')
  t.is((await ra.info())!.version, 1, 'the room stays at version 1 on an old admin build')
  const before = await converge(rooms)

  await t.exception(rm.leave(), /ROOM_VERSION_UNSUPPORTED/, 'a member cannot leave a version-1 room')
  await rm.appendRaw(encodeOp(OP.leave, 1, { identity: m.identity.publicKey })) // as a build that did not check
  t.is(await converge(rooms), before, 'the old build (admin) and the new builds compute the same view: the leave is skipped')
  t.ok(!(await rm.members()).find(mm => b4a.equals(mm.identity, m.identity.publicKey))!.removed, 'the member is still in')

  // a fresh new-build replica that applies every op computes the same view too
  const fresh = await makeDevice(t)
  await fresh.keys.put('room-key', (await a.keys.get('room-key'))!)
  for (const d of [a, m, x]) link(t, d, fresh)
  const rebuilt = await openRoom(t, fresh, ra.key, { fastForward: false })
  t.is(await converge([...rooms, rebuilt]), before, 'rebuilt by the new code: same view')

  // the admin moves to the new build: its device raises the room when it opens it
  await ra.close()
  const raNew = await openRoom(t, a, rm.key)
  rooms = [raNew, rm, rx]
  await converge(rooms)
  t.is((await rm.info())!.version, ROOM_VERSION, 'an admin device on the new build raised the room')
  await rm.leave()
  await converge(rooms)
  t.ok((await rx.members()).find(mm => b4a.equals(mm.identity, m.identity.publicKey))!.removed, 'after the raise, the member leaves')
  t.is((await rx.info())!.epoch, 1, 'and the admin rotated')
})

test('room member names – a member sets only its own name, within the cap; a version-1 room skips the op', async t => {
  const { m, ra, rm, rx, rooms } = await threeMembers(t)
  await rm.setName('emm')
  await converge(rooms)
  const nameOf = async (r: Room, d: Device): Promise<string | null> => (await r.members()).find(mm => b4a.equals(mm.identity, d.identity.publicKey))!.name
  t.is(await nameOf(rx, m), 'emm', 'every replica shows the name')
  await t.exception(rm.setName('x'.repeat(200)), /INVALID_ARGUMENT/)
  const before = await converge(rooms)
  await rx.appendRaw(encodeOp(OP.memberName, 1, { name: 'y'.repeat(129) })) // over the cap
  t.is(await converge(rooms), before, 'apply skips a name over the cap')
  await rm.setName('')
  await converge(rooms)
  t.is(await nameOf(ra, m), null, 'an empty name clears it')

  const a = await makeDevice(t)
  const b = await makeDevice(t)
  mesh(t, [a, b])
  const old = await openRoom(t, a, null, { name: 'old', supportedVersion: 1 })
  const rb = await invite(t, old, b)
  const h = await converge([old, rb])
  await t.exception(rb.setName('bee'), /ROOM_VERSION_UNSUPPORTED/)
  await rb.appendRaw(encodeOp(OP.memberName, 1, { name: 'bee' }))
  t.is(await converge([old, rb]), h, 'skipped in a version-1 room')
})
