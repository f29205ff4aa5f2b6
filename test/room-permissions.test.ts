import test from 'brittle'
import b4a from 'b4a'
import { ROLE, ROOM_VERSION, type Role } from '../src/groups/index.js'
import { encodeOp, OP } from '../src/groups/room-schema.js'
import { attestDevice } from '../src/groups/room-crypto.js'
import { makeDevice, openRoom, mesh, invite, converge } from './helpers/rooms.js'


async function threeMembers (t: Parameters<Parameters<typeof test>[1]>[0]) {
  const a = await makeDevice(t)
  const m = await makeDevice(t)
  const x = await makeDevice(t)
  mesh(t, [a, m, x])
  const ra = await openRoom(t, a, null, { name: 'p' })
  const rm = await invite(t, ra, m, { role: ROLE.moderator })
  const rx = await invite(t, ra, x)
  return { a, m, x, ra, rm, rx, rooms: [ra, rm, rx] }
}

test('rooms – a member cannot remove, change roles, delete others, mute or invite', async t => {
  const { a, m, ra, rx, rooms } = await threeMembers(t)
  const msg = await ra.post('admin message')
  const before = await converge(rooms)

  await rx.removeMember(a.identity.publicKey)
  await rx.setRole(m.identity.publicKey, ROLE.member)
  await rx.setRole(rx.base.local.key!, ROLE.admin)
  await rx.delete(msg)
  await rx.mute(m.identity.publicKey)
  await rx.edit(msg, 'rewritten by a member')
  await rx.createInvite()
  const after = await converge(rooms)
  t.is(after, before, 'no op of the member changed the view')
  t.is((await rx.messages())[0]!.text, 'admin message')
  t.is((await ra.members()).filter(x => !x.removed).length, 3)
})

test('rooms – a moderator deletes any message and mutes members; muted members cannot post', async t => {
  const { x, ra, rm, rx, rooms } = await threeMembers(t)
  const spam = await rx.post('spam')
  const adminMsg = await ra.post('admin')
  await converge(rooms)
  await rm.delete(spam)
  await rm.mute(x.identity.publicKey)
  await converge(rooms)
  const before = await converge(rooms)
  await rx.post('more spam while muted')
  await rx.react(adminMsg, '😡')
  t.is(await converge(rooms), before, 'posts and reactions of a muted member are skipped')
  const msgs = await ra.messages()
  t.is(msgs.length, 2)
  t.ok(msgs.find(mm => b4a.equals(mm.id.writer, spam.writer))!.deleted, 'the moderator deleted the spam')
  t.is(msgs.find(mm => b4a.equals(mm.id.writer, adminMsg.writer))!.text, 'admin')
  const members = await ra.members()
  t.ok(members.find(mm => b4a.equals(mm.identity, x.identity.publicKey))!.muted)

  // a moderator cannot mute an admin
  const h = await converge(rooms)
  await rm.mute(ra.base.local.key!)
  await rm.mute((await ra.members()).find(mm => mm.role === ROLE.admin)!.identity)
  t.is(await converge(rooms), h, 'a moderator cannot mute an admin')
})

test('rooms – the last admin cannot be removed or demoted; a promoted admin device becomes an indexer', async t => {
  const { a, m, ra, rm, rooms } = await threeMembers(t)
  const before = await converge(rooms)
  await ra.removeMember(a.identity.publicKey)
  await ra.setRole(a.identity.publicKey, ROLE.member)
  t.is(await converge(rooms), before, 'the only admin stays admin')

  await ra.setRole(m.identity.publicKey, ROLE.admin)
  await converge(rooms)
  t.is((await ra.info())!.admins, 2)
  // the indexer set changes once the current indexers have acknowledged it
  for (let i = 0; i < 10 && !rm.base.isIndexer; i++) {
    await ra.base.ack()
    await converge(rooms)
  }
  t.ok(rm.base.isIndexer, 'admin device is an indexer')

  // now the first admin can step down, and the second is then the last one
  await ra.setRole(a.identity.publicKey, ROLE.member)
  await converge(rooms)
  t.is((await rm.info())!.admins, 1)
  const h = await converge(rooms)
  await rm.removeMember(m.identity.publicKey)
  t.is(await converge(rooms), h, 'the new last admin cannot remove itself')
})

test('rooms – malformed, unknown, too-new and out-of-permission ops are skipped', async t => {
  const { ra, rx, rooms } = await threeMembers(t)
  const before = await converge(rooms)
  await rx.appendRaw(b4a.from([99, 1, 1, 2, 3])) // an op type this build does not know
  await rx.appendRaw(b4a.from([OP.post, 1])) // truncated body
  await rx.appendRaw(encodeOp(OP.post, 2, { epoch: 0, nonce: b4a.alloc(24), body: b4a.alloc(32), replyTo: null })) // newer envelope
  await rx.appendRaw(encodeOp(OP.post, 1, { epoch: 7, nonce: b4a.alloc(24), body: b4a.alloc(32), replyTo: null })) // unknown epoch
  await rx.appendRaw(encodeOp(OP.post, 1, { epoch: 0, nonce: b4a.alloc(24), body: b4a.alloc(8000), replyTo: null })) // over the cap
  await rx.appendRaw(encodeOp(OP.post, 1, { epoch: 0, nonce: b4a.alloc(24), body: b4a.alloc(32), replyTo: { writer: b4a.alloc(32), length: 1 } })) // reply to nothing
  await rx.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 1, shares: [] })) // not an admin
  await rx.appendRaw(encodeOp(OP.create, 1, { name: 'again', device: { identity: b4a.alloc(32), device: b4a.alloc(32), boxKey: b4a.alloc(32), signature: b4a.alloc(64) }, shares: [] }))
  t.is(await converge(rooms), before, 'nothing changed')

  await ra.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 1, shares: [] })) // recipients are not the member devices
  t.is(await converge(rooms), before, 'a rotate that leaves out member devices is rejected')

  await t.exception(ra.setRoomVersion(ROOM_VERSION + 1), /ROOM_VERSION_UNSUPPORTED/, 'a build does not raise the room above what it applies')
})

test('rooms – a room version above this build stops the room instead of diverging', async t => {
  const a = await makeDevice(t)
  const x = await makeDevice(t)
  mesh(t, [a, x])
  const newer = await openRoom(t, a, null, { name: 'v', supportedVersion: ROOM_VERSION + 1 })
  const older = await invite(t, newer, x)
  await newer.post('before the bump')
  await converge([newer, older])
  const stopped = new Promise<{ code?: string }>(resolve => older.once('error', err => resolve(err as { code?: string })))
  await newer.setRoomVersion(ROOM_VERSION + 1)
  t.is((await stopped).code, 'ROOM_VERSION_UNSUPPORTED', 'the older build stops')
  t.is((await newer.info())!.version, ROOM_VERSION + 1, 'the newer build applies it')
  t.is((await older.info())!.version, ROOM_VERSION, 'the older view never applied past the bump')
})

test('rooms – a device joins only with its own identity\'s attestation, added by that member or an admin', async t => {
  const { m, x, ra, rm, rx, rooms } = await threeMembers(t)
  const before = await converge(rooms)
  const dk = ra.discoveryKey
  // x (a member) adds a device for m's identity: m really signed it, but x may not add it
  await rx.appendRaw(encodeOp(OP.addDevice, 1, { device: attestDevice(m.identity, dk, b4a.alloc(32, 1), b4a.alloc(32, 2)), shares: [] }))
  // m adds a device attested by x's key pair but claiming m's identity
  const forged = { ...attestDevice(x.identity, dk, b4a.alloc(32, 3), b4a.alloc(32, 4)), identity: m.identity.publicKey }
  await rm.appendRaw(encodeOp(OP.addDevice, 1, { device: forged, shares: [] }))
  // an attestation for another room
  await rm.appendRaw(encodeOp(OP.addDevice, 1, { device: attestDevice(m.identity, b4a.alloc(32, 9), b4a.alloc(32, 5), b4a.alloc(32, 6)), shares: [] }))
  t.is(await converge(rooms), before, 'none of them was added')

  await rm.appendRaw(encodeOp(OP.addDevice, 1, { device: attestDevice(m.identity, dk, b4a.alloc(32, 7), b4a.alloc(32, 8)), shares: [] }))
  await converge(rooms)
  const mm = (await ra.members()).find(e => b4a.equals(e.identity, m.identity.publicKey))!
  t.is(mm.devices.length, 2, 'the member added its own attested device')
})

test('rooms – bad arguments are INVALID_ARGUMENT before anything is appended', async t => {
  const a = await makeDevice(t)
  const ra = await openRoom(t, a, null, { name: 'args' })
  const msg = await ra.post('x')
  const length = ra.base.local.length
  await t.exception(ra.mute(b4a.alloc(31)), /INVALID_ARGUMENT/)
  await t.exception(ra.setRole(a.identity.publicKey, 7 as Role), /INVALID_ARGUMENT/)
  await t.exception(ra.react(msg, ''), /INVALID_ARGUMENT/)
  await t.exception(ra.react(msg, 'x'.repeat(33)), /INVALID_ARGUMENT/)
  await t.exception(ra.delete({ writer: b4a.alloc(32), length: 0 }), /INVALID_ARGUMENT/)
  await t.exception(ra.createInvite({ uses: 0 }), /INVALID_ARGUMENT/)
  await t.exception(ra.post('y'.repeat(5000)), /MESSAGE_TOO_LARGE/)
  t.is(ra.base.local.length, length, 'nothing was appended')
})
