import test from 'brittle'
import b4a from 'b4a'
import type { Room } from '../src/groups/index.js'
import { ROOM_CAPS } from '../src/groups/room-caps.js'
import { makeDevice, openRoom, mesh, invite, converge } from './helpers/rooms.js'

/** Counts the blocks of every `base.append` call of `room` (1 for a single block). */
function spyAppends (room: Room): number[] {
  const calls: number[] = []
  const base = room.base
  const append = base.append.bind(base)
  base.append = async (value: Uint8Array | Uint8Array[]) => {
    calls.push(Array.isArray(value) ? value.length : 1)
    return append(value)
  }
  return calls
}

test('room posts – posts made together go out in one append, ids and order as called', async t => {
  const a = await makeDevice(t)
  const room = await openRoom(t, a, null, { name: 'burst' })
  const before = (await room.info())!.messages
  const start = room.base.local.length
  const calls = spyAppends(room)
  const texts = Array.from({ length: 20 }, (_, i) => 'burst ' + i)
  const ids = await Promise.all(texts.map(async text => room.post(text)))
  t.alike(calls, [20], 'one append of 20 blocks')
  t.alike(ids.map(id => id.length), texts.map((_, i) => start + i + 1), 'each post gets its own length, in call order')
  t.ok(ids.every(id => b4a.equals(id.writer, room.writerKey)), 'every id names this writer')
  const msgs = (await room.messages()).slice(before)
  t.alike(msgs.map(m => m.text), texts, 'the room holds them in call order')
  t.alike(msgs.map(m => m.id.length), ids.map(id => id.length), 'under the ids post returned')

  const next = await room.post('alone')
  t.is(next.length, start + 21, 'a later post appends after the burst')
  t.alike(calls, [20, 1])
})

test('room posts – in a burst, an over-size text rejects alone and the others are posted', async t => {
  const a = await makeDevice(t)
  const room = await openRoom(t, a, null, { name: 'caps' })
  const before = (await room.info())!.messages
  const big = 'x'.repeat(ROOM_CAPS.text + 1)
  const results = await Promise.allSettled(['one', big, 'two'].map(async text => room.post(text)))
  t.is(results[0]!.status, 'fulfilled')
  t.is(results[1]!.status, 'rejected')
  t.is(((results[1] as PromiseRejectedResult).reason as { code?: string }).code, 'MESSAGE_TOO_LARGE')
  t.is(results[2]!.status, 'fulfilled')
  t.alike((await room.messages()).slice(before).map(m => m.text), ['one', 'two'])
})

test('room posts – a burst after a rotation is sealed under the new epoch; a removed member\'s burst rejects whole', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  const x = await makeDevice(t)
  mesh(t, [a, b, x])
  const ra = await openRoom(t, a, null, { name: 'rotate' })
  const rb = await invite(t, ra, b)
  const rx = await invite(t, ra, x)
  await Promise.all([ra.post('epoch 0, a'), rb.post('epoch 0, b')])
  await converge([ra, rb, rx])

  await ra.removeMember(x.identity.publicKey)
  await converge([ra, rb, rx])
  t.is((await rb.info())!.epoch, 1, 'the admin rotated after the removal')

  const texts = Array.from({ length: 10 }, (_, i) => 'after rotation ' + i)
  await Promise.all(texts.map(async text => rb.post(text)))
  const burst = await Promise.allSettled(['x one', 'x two', 'x three'].map(async text => rx.post(text)))
  for (const r of burst) t.is(r.status === 'rejected' ? (r.reason as { code?: string }).code : 'posted', 'ROOM_KEY_MISSING', 'the removed member cannot post')
  await converge([ra, rb, rx])

  const seen = (await ra.messages()).filter(m => m.text?.startsWith('after rotation') === true)
  t.alike(seen.map(m => m.text), texts, 'the others read the burst')
  t.ok(seen.every(m => m.epoch === 1), 'every post of the burst is sealed under epoch 1')
  const removed = (await rx.messages()).filter(m => m.epoch === 1)
  t.is(removed.length, texts.length, 'the removed member holds the new posts')
  t.ok(removed.every(m => m.text === null), 'and reads none of them')
})
