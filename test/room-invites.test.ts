import test from 'brittle'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { createInvite, createReceipt } from 'blind-pairing-core'
import { Room, ROLE, memoryChannelPair, requestPairing, answerPairing } from '../src/groups/index.js'
import { encode, encodeOp, joinRequest, OP } from '../src/groups/room-schema.js'
import { attestDevice } from '../src/groups/room-crypto.js'
import { makeDevice, openRoom, mesh, invite, converge, attach, NS, type Device } from './helpers/rooms.js'

/** Runs both ends of a join; resolves with the error codes (or 'ok') of the admin and the joiner. */
async function tryJoin (admin: Room, d: Device, code: Uint8Array): Promise<[string, string]> {
  const [a, b] = memoryChannelPair()
  const results = await Promise.allSettled([
    admin.answerInvite(a),
    Room.join(d.store, b, code, { namespace: NS, identity: d.identity, keys: d.keys, ackInterval: 0 })
  ])
  for (const r of results) if (r.status === 'fulfilled' && r.value instanceof Room) await r.value.close()
  return results.map(r => r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code) as [string, string]
}

test('pairing – request and answer over an in-memory channel', async t => {
  const key = b4a.alloc(32, 7)
  const inv = createInvite(key)
  const [a, b] = memoryChannelPair()
  const [answered, result] = await Promise.all([
    answerPairing(a, {
      lookup: async id => b4a.equals(id, inv.id) ? inv.publicKey : null,
      accept: async () => ({ key, encryptionKey: b4a.alloc(32, 9) })
    }),
    requestPairing(b, inv.invite, b4a.from('hello'))
  ])
  t.alike(answered.userData, b4a.from('hello'))
  t.alike(result.key, key)
  t.alike(result.encryptionKey, b4a.alloc(32, 9))
})

async function joinWith (t: Parameters<Parameters<typeof test>[1]>[0], admin: Room, d: Device, code: Uint8Array): Promise<Room> {
  const [a, b] = memoryChannelPair()
  const [, room] = await Promise.all([admin.answerInvite(a), Room.join(d.store, b, code, { namespace: NS, identity: d.identity, keys: d.keys, ackInterval: 0 })])
  t.teardown(() => room.close(), { order: 2 })
  attach(d, room)
  await room.whenWritable()
  return room
}

test('invites – single use: a second join with the same code is INVITE_USED and changes nothing', async t => {
  const [a, b, c] = [await makeDevice(t), await makeDevice(t), await makeDevice(t)]
  mesh(t, [a, b, c])
  const ra = await openRoom(t, a, null, { name: 'i' })
  const { invite: code } = await ra.createInvite()
  const rb = await joinWith(t, ra, b, code)
  const before = await converge([ra, rb])
  t.alike(await tryJoin(ra, c, code), ['INVITE_USED', 'INVITE_USED'])
  t.is(await converge([ra, rb]), before, 'the view did not change')
  t.is((await ra.members()).length, 2)
})

test('invites – N uses, then INVITE_USED', async t => {
  const devices = [await makeDevice(t), await makeDevice(t), await makeDevice(t), await makeDevice(t)]
  mesh(t, devices)
  const [a, b, c, d] = devices as [Device, Device, Device, Device]
  const ra = await openRoom(t, a, null, { name: 'n' })
  const { invite: code } = await ra.createInvite({ uses: 2, role: ROLE.moderator })
  const joinedB = await joinWith(t, ra, b, code)
  const joinedC = await joinWith(t, ra, c, code)
  t.alike(await tryJoin(ra, d, code), ['INVITE_USED', 'INVITE_USED'])
  await converge([ra, joinedB, joinedC])
  const roles = (await ra.members()).map(m => m.role).sort()
  t.alike(roles, [ROLE.moderator, ROLE.moderator, ROLE.admin], "two moderators joined with the same code")
})

test('invites – expired, revoked, unknown and malformed codes are refused with coded errors', async t => {
  const [a, b] = [await makeDevice(t), await makeDevice(t)]
  mesh(t, [a, b])
  let now = 1_000_000
  const ra = await openRoom(t, a, null, { name: 'e', now: () => now })
  const before = await ra.viewHash()

  const { invite: expiring } = await ra.createInvite({ expires: now + 60_000 })
  const { id: revokedId, invite: revoked } = await ra.createInvite()
  await ra.deleteInvite(revokedId)
  const afterInvites = await ra.viewHash()
  t.unlike(afterInvites, before)

  now += 120_000
  t.alike(await tryJoin(ra, b, expiring), ['INVITE_EXPIRED', 'INVITE_EXPIRED'])
  t.alike(await tryJoin(ra, b, revoked), ['INVITE_INVALID', 'INVITE_INVALID'])

  const other = createInvite(b4a.alloc(32, 1)) // a valid code of another room: unknown here
  t.alike(await tryJoin(ra, b, other.invite), ['INVITE_INVALID', 'INVITE_INVALID'])

  const garbage = b4a.alloc(40)
  sodium.randombytes_buf(garbage)
  await t.exception(Room.join(b.store, memoryChannelPair()[0], garbage, { namespace: NS, identity: b.identity, keys: b.keys }), /INVITE_INVALID/)

  t.alike(await ra.viewHash(), afterInvites, 'refused joins changed nothing')
  t.is((await ra.members()).length, 1)
})

test('invites – apply rejects add-member ops without a valid, unused receipt', async t => {
  const [a, b, c, d] = [await makeDevice(t), await makeDevice(t), await makeDevice(t), await makeDevice(t)]
  mesh(t, [a, b])
  const ra = await openRoom(t, a, null, { name: 'r' })
  const rb = await invite(t, ra, b)
  const { id, invite: code } = await ra.createInvite()
  const before = await converge([ra, rb])
  const joinData = (dev: Device, fill: number): Uint8Array =>
    encode(joinRequest, attestDevice(dev.identity, ra.discoveryKey, b4a.alloc(32, fill), b4a.alloc(32, fill + 1)))

  // a receipt for an invite that was never recorded
  const stray = createReceipt(createInvite(ra.key).invite, joinData(c, 3))
  await ra.appendRaw(encodeOp(OP.addMember, 1, { invite: stray.id, receipt: stray.receipt, shares: [] }))
  // a recorded invite, but a receipt signed by another invite's key
  await ra.appendRaw(encodeOp(OP.addMember, 1, { invite: id, receipt: stray.receipt, shares: [] }))
  // a valid receipt appended by a member, not an admin
  const valid = createReceipt(code, joinData(c, 3))
  await rb.appendRaw(encodeOp(OP.addMember, 1, { invite: id, receipt: valid.receipt, shares: [] }))
  t.is(await converge([ra, rb]), before, 'no forged add-member was applied')

  // the same valid receipt from the admin is applied once; a second one for the used invite is not
  await ra.appendRaw(encodeOp(OP.addMember, 1, { invite: id, receipt: valid.receipt, shares: [] }))
  const afterOne = await converge([ra, rb])
  t.unlike(afterOne, before, 'the valid add-member was applied')
  const second = createReceipt(code, joinData(d, 5))
  await ra.appendRaw(encodeOp(OP.addMember, 1, { invite: id, receipt: second.receipt, shares: [] }))
  t.is(await converge([ra, rb]), afterOne, 'a used invite admits no one else')
  t.is((await ra.members()).length, 3)
})

test('pairing – a malformed request is refused on both ends', async t => {
  const [a, b] = memoryChannelPair()
  const answered = answerPairing(a, { lookup: async () => null, accept: async () => { throw new Error('not reached') } })
  b.send(b4a.from('not a pairing request'))
  await t.exception(answered, /INVITE_INVALID/)
  t.alike(await b.receive(), b4a.from([1]), 'the requester hears "unknown invite"')
})
