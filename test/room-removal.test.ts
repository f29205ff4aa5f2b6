import test from 'brittle'
import b4a from 'b4a'
import fs from '#fs'
import path from '#path'
import { ROLE } from '../src/groups/index.js'
import type { Room } from '../src/groups/index.js'
import { encodeOp, OP } from '../src/groups/room-schema.js'
import { activeDevices, getDevice } from '../src/groups/room-view.js'
import { sealKey, randomKey } from '../src/groups/room-crypto.js'
import { makeDevice, makeIdentity, openRoom, mesh, link, invite, addSecondDevice, converge, type Device } from './helpers/rooms.js'

const N = 1000

async function readable (room: Room, minEpoch: number): Promise<{ total: number, decrypted: number }> {
  const msgs = (await room.messages()).filter(m => m.epoch >= minEpoch)
  return { total: msgs.length, decrypted: msgs.filter(m => m.text !== null).length }
}

test('removal – after removal and rotation the removed member reads 0 of 1,000 new messages, the others all', async t => {
  const a = await makeDevice(t)
  const bId = makeIdentity()
  const b1 = await makeDevice(t, bId)
  const b2 = await makeDevice(t, bId)
  const x = await makeDevice(t)
  const stops = mesh(t, [a, b1, b2, x])
  const ra = await openRoom(t, a, null, { name: 'rm' })
  const rb1 = await invite(t, ra, b1)
  const rx = await invite(t, ra, x)
  const rb2 = await addSecondDevice(t, b1, b2)
  const rooms = [ra, rb1, rb2, rx]
  await rx.post('said before removal')
  await converge(rooms)

  await ra.removeMember(x.identity.publicKey)
  await converge(rooms)
  for (const r of rooms) t.is((await r.info())!.epoch, 1, 'every replica is at epoch 1')
  t.is(await rx.epochKey(1), null, 'the removed member has no share of the new epoch')
  t.ok(await rb2.epochKey(1), 'a remaining device has it')
  await t.exception(rx.post('after removal'), /ROOM_KEY_MISSING/)

  // the two writers replicate live; b2 and x catch up in bulk afterwards (cheaper than four live replicas)
  for (const [i, stop] of stops.entries()) if (i !== 0) stop()
  const started = Date.now()
  await Promise.all([ra, rb1].map(async (r, w) => {
    for (let i = w; i < N; i += 2) {
      await r.post('new message ' + i)
      if (w === 0 && i % 100 === 98) await ra.base.ack() // the indexer signs, so the unsigned tail (reordered on every merge) stays short
    }
  }))
  const posted = Date.now()
  mesh(t, [a, b1, b2, x].slice(1)) // b1-b2, b1-x, b2-x
  link(t, a, b2)
  link(t, a, x)
  await converge(rooms)
  t.comment(`posting ${N}: ${Math.round(posted - started)} ms, converging: ${Math.round(Date.now() - posted)} ms`)

  for (const [name, r] of [['a', ra], ['b1', rb1], ['b2', rb2]] as const) {
    t.alike(await readable(r, 1), { total: N, decrypted: N }, `${name} reads ${N} of ${N}`)
  }
  t.alike(await readable(rx, 1), { total: N, decrypted: 0 }, `the removed member holds the ${N} new messages and reads 0`)
  // nor with any key it kept: every epoch key in its store fails on every new body
  const old = await rx.epochKey(0)
  t.ok(old, 'the removed member kept the old epoch key')
  t.is((await rx.messages()).find(m => m.epoch === 0)!.text, 'said before removal', 'history before the removal stays readable')
})

test('removal – concurrent removals by two admins converge', async t => {
  const [a, d, x, y, m] = [await makeDevice(t), await makeDevice(t), await makeDevice(t), await makeDevice(t), await makeDevice(t)] as Device[] as [Device, Device, Device, Device, Device]
  const stops = mesh(t, [a, d, x, y, m])
  const ra = await openRoom(t, a, null, { name: 'cc' })
  const rd = await invite(t, ra, d, { role: ROLE.admin })
  const rx = await invite(t, ra, x)
  const ry = await invite(t, ra, y)
  const rm = await invite(t, ra, m)
  const rooms = [ra, rd, rx, ry, rm]
  await converge(rooms)

  // partition {a, x, m} | {d, y}
  for (const s of stops) s()
  const left = [a, x, m]
  const right = [d, y]
  mesh(t, left)
  mesh(t, right)
  await ra.removeMember(x.identity.publicKey)
  await rd.removeMember(y.identity.publicKey)
  await converge([ra, rx, rm])
  await converge([rd, ry])
  t.is((await ra.info())!.epoch, 1, 'each side rotated on its own')
  t.is((await rd.info())!.epoch, 1)

  for (const l of left) for (const r of right) link(t, l, r)
  const hash = await converge(rooms)
  for (const r of rooms) t.is(b4a.toString(await r.viewHash(), 'hex'), hash)
  const info = (await ra.info())!
  t.is(info.needsRotation, false, 'a rotation covers both removals')
  const active = (await ra.members()).filter(mm => !mm.removed).map(mm => b4a.toString(mm.identity, 'hex')).sort()
  t.alike(active, [a, d, m].map(dd => b4a.toString(dd.identity.publicKey, 'hex')).sort())

  await rm.post('after both removals')
  await converge(rooms)
  for (const r of [ra, rd, rm]) t.is((await readable(r, info.epoch)).decrypted, 1)
  for (const r of [rx, ry]) t.alike(await readable(r, info.epoch), { total: 1, decrypted: 0 })
})

test('removal – stored blocks contain no plaintext', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  mesh(t, [a, b])
  const ra = await openRoom(t, a, null, { name: 'storage' })
  const rb = await invite(t, ra, b)
  const text = 'plaintext-marker-7f3a9c'
  const msg = await ra.post(text)
  await rb.post(text + ' in a reply', { replyTo: msg })
  await rb.edit((await rb.messages())[1]!.id, text + ' edited')
  await converge([ra, rb])
  t.is((await rb.messages())[0]!.text, text, 'the member reads it')
  await rb.close()
  await ra.close()
  await Promise.all([a.store.close(), b.store.close()])

  let files = 0
  let hits = 0
  for (const dir of [a.dir, b.dir]) {
    for (const file of await walk(dir)) {
      files++
      if ((await fs.readFile(file)).includes(Buffer.from(text))) hits++
    }
  }
  t.ok(files > 0, `searched ${files} files`)
  t.is(hits, 0, 'no file holds the message text')

  // control: the same search finds the text when a core stores it unencrypted
  const c = await makeDevice(t)
  const core = c.store.get({ name: 'control' })
  await core.append(b4a.from(text))
  await c.store.close()
  let controlHits = 0
  for (const file of await walk(c.dir)) if ((await fs.readFile(file)).includes(Buffer.from(text))) controlHits++
  t.ok(controlHits > 0, 'the search would see plaintext')
})

async function walk (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...await walk(p))
    else if (e.isFile()) out.push(p)
  }
  return out
}

test('removal – apply rejects a rotate that seals to a removed device or leaves a member device out', async t => {
  const [a, b, x] = [await makeDevice(t), await makeDevice(t), await makeDevice(t)]
  mesh(t, [a, b, x])
  const ra = await openRoom(t, a, null, { name: 'rot' })
  const rb = await invite(t, ra, b)
  const rx = await invite(t, ra, x)
  await ra.removeMember(x.identity.publicKey)
  const rooms = [ra, rb, rx]
  const before = await converge(rooms)
  t.is((await ra.info())!.epoch, 1)

  const view = ra.base.view
  const active = await activeDevices(view)
  const removed = (await getDevice(view, rx.writerKey))!
  const share = (device: Uint8Array, boxKey: Uint8Array): { device: Uint8Array, sealed: Uint8Array } => ({ device, sealed: sealKey(randomKey(), boxKey) })
  const current = active.map(d => share(d.device, d.boxKey))
  await ra.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 2, shares: [...current, share(rx.writerKey, removed.boxKey)] }))
  await ra.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 2, shares: current.slice(1) }))
  await ra.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 2, shares: [current[0]!, current[0]!] }))
  await ra.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 3, shares: current }))
  t.is(await converge(rooms), before, 'leaking, incomplete, repeated or skipping rotates change nothing')

  await ra.appendRaw(encodeOp(OP.rotateEpoch, 1, { epoch: 2, shares: current }))
  await converge(rooms)
  t.is((await rb.info())!.epoch, 2, 'exactly the member devices: accepted')
})
