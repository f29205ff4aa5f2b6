import test from 'brittle'
import b4a from 'b4a'
import { ROLE, Room } from '../src/groups/index.js'
import { makeDevice, makeIdentity, openRoom, mesh, link, invite, addSecondDevice, converge, NS } from './helpers/rooms.js'

test('rooms – three identities on four devices chat, reply, react, edit, delete and converge', async t => {
  const a = await makeDevice(t)
  const bId = makeIdentity()
  const b1 = await makeDevice(t, bId)
  const b2 = await makeDevice(t, bId)
  const c = await makeDevice(t)
  mesh(t, [a, b1, b2, c])

  const ra = await openRoom(t, a, null, { name: 'friends', now: () => 1_700_000_000_000 })
  const rb1 = await invite(t, ra, b1)
  const rc = await invite(t, ra, c)
  const rb2 = await addSecondDevice(t, b1, b2)
  const rooms = [ra, rb1, rb2, rc]

  const hello = await ra.post('hello from a')
  await converge(rooms)
  const reply = await rb1.post('hi a, b here', { replyTo: hello })
  await converge(rooms)
  await rc.react(hello, '👍')
  await rb2.edit(reply, 'hi a, b here (edited on my second device)')
  const oops = await rc.post('oops')
  await converge(rooms)
  await rc.delete(oops)
  await rb2.react(hello, '🎉')
  const hash = await converge(rooms)

  for (const [i, r] of rooms.entries()) {
    const msgs = await r.messages()
    t.is(msgs.length, 3, `device ${i} sees 3 messages`)
    t.is(msgs[0]!.text, 'hello from a')
    t.is(msgs[0]!.timestamp, 1_700_000_000_000, 'the author\'s clock travels inside the encrypted body')
    t.alike(msgs[0]!.reactions.map(x => x.emoji).sort(), ['👍', '🎉'].sort())
    t.is(msgs[1]!.text, 'hi a, b here (edited on my second device)')
    t.alike(msgs[1]!.replyTo, hello)
    t.is(msgs[1]!.edits, 1)
    t.ok(msgs[2]!.deleted, 'deleted message is a tombstone')
    t.is(msgs[2]!.text, null)
    t.is(msgs[2]!.timestamp, null)
    t.is(b4a.toString(await r.viewHash(), 'hex'), hash, `device ${i} has the same view hash`)
  }
  const members = await ra.members()
  t.is(members.length, 3)
  const byId = new Map(members.map(m => [b4a.toString(m.identity, 'hex'), m]))
  t.is(byId.get(b4a.toString(a.identity.publicKey, 'hex'))!.role, ROLE.admin)
  t.is(byId.get(b4a.toString(bId.publicKey, 'hex'))!.devices.length, 2)
  t.is((await ra.info())!.name, 'friends')
})

test('rooms – reopening rebuilds the same view', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  mesh(t, [a, b])
  const ra = await openRoom(t, a, null, { name: 'r' })
  const rb = await invite(t, ra, b)
  await ra.post('one')
  await rb.post('two')
  const before = await converge([ra, rb])
  const key = ra.key
  await rb.close()
  const again = await openRoom(t, b, key)
  t.is(b4a.toString(await again.viewHash(), 'hex'), before)
  t.alike((await again.messages()).map(m => m.text), ['one', 'two'])
})

test('rooms – opening a known room without its key in the key store is ROOM_KEY_MISSING', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  const ra = await openRoom(t, a, null, { name: 'k' })
  const room = new Room(b.store, ra.key, { namespace: NS, identity: b.identity, keys: b.keys })
  await t.exception(room.ready(), /ROOM_KEY_MISSING/)
  t.is(await b.keys.get('room-key'), null, 'nothing was written for it')
})

test('rooms – a new replica that fast-forwards to the signed view sees the same room', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  mesh(t, [a, b])
  const ra = await openRoom(t, a, null, { name: 'ff' })
  const rb = await invite(t, ra, b)
  for (let i = 0; i < 40; i++) await (i % 2 === 0 ? ra : rb).post('m' + i)
  await converge([ra, rb])
  await ra.base.ack()
  const hash = await converge([ra, rb])

  const f = await makeDevice(t)
  await f.keys.put('room-key', (await a.keys.get('room-key'))!)
  const rf = await openRoom(t, f, ra.key)
  let fastForwarded = false
  rf.base.once('fast-forward', () => { fastForwarded = true })
  link(t, a, f)
  link(t, b, f)
  await ra.base.ack() // readers pick up the unsigned tail after an indexer ack (docs/ROOMS.md)
  t.is(await converge([ra, rb, rf]), hash, 'same view')
  t.ok(fastForwarded, 'it fast-forwarded')
  const msgs = await rf.messages()
  t.is(msgs.length, 40)
  t.is(msgs.filter(m => m.text !== null).length, 0, 'a replica without epoch shares reads no body')
})
