import test from 'brittle'
import b4a from 'b4a'
import z32 from 'z32'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInvite } from 'blind-pairing-core'
import { Shoal } from '../src/node/shoal.js'
import { ROLE } from '../src/groups/index.js'
import { untilMessage, untilRooms } from './helpers/peers.js'
import { createLocalDht, createSwarmPeer, type Testnet } from './helpers/swarm.js'

async function pair (t: Parameters<Parameters<typeof test>[1]>[0], testnet: Testnet, now?: () => number): Promise<[Shoal, Shoal]> {
  const a = await createSwarmPeer(t, testnet, { name: 'alice', ...(now === undefined ? {} : { now }) })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  return [a, b]
}

test('room node – create, invite, join over the testnet, chat both ways', async t => {
  const testnet = await createLocalDht(t)
  const [a, b] = await pair(t, testnet)
  const { id } = await a.rooms.create('friends')
  await a.rooms.announced() // a joiner looks the room up once; in a test it could be before the announce
  t.alike((await a.rooms.list()).items, [{ id, name: 'friends', role: 'admin', unread: 0 }])
  const { code } = await a.rooms.invite(id, {})
  const joined = await b.rooms.join(code, { timeout: 60_000 })
  t.alike(joined, { id, name: 'friends' }, 'joined once writable')

  const hello = await b.rooms.post(id, 'hello from bob')
  const seen = await untilMessage(a, id, m => m.id === hello.id)
  t.is(seen.text, 'hello from bob')
  t.is(seen.author, b.id)

  const reply = await a.rooms.post(id, 'hi bob', { reply: hello.id })
  const got = await untilMessage(b, id, m => m.id === reply.id)
  t.is(got.parent, hello.id, 'reply links to its parent')
  await a.rooms.react(id, hello.id, '👋')
  await untilMessage(b, id, m => m.id === hello.id && m.reactions['👋'] === 1)
  await b.rooms.edit(id, hello.id, 'hello (edited)')
  await untilMessage(a, id, m => m.id === hello.id && m.edited && m.text === 'hello (edited)')
  await a.rooms.delete(id, hello.id)
  await untilMessage(b, id, m => m.id === hello.id && m.text === null)

  const members = (await a.rooms.members(id)).items.map(m => [m.id, m.role]).sort()
  t.alike(members, [[a.id, 'admin'], [b.id, 'member']].sort())

  // names: neither follows the other, so no profile is held; each wrote its name into the room
  t.alike((await a.rooms.members(id)).items.map(m => m.name).sort(), ['alice', 'bob'], 'names from the room member data')
  t.is((await a.rooms.read(id)).items.find(m => m.author === b.id)?.authorName, 'bob')
  t.is((await b.rooms.read(id)).items.find(m => m.author === a.id)?.authorName, 'alice')
  const nameless = await createSwarmPeer(t, testnet)
  await nameless.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  const hi = await nameless.rooms.post(id, 'no name here')
  const seenHi = await untilMessage(a, id, m => m.id === hi.id)
  t.is(seenHi.authorName, nameless.id.slice(0, 8) + '…', 'no name anywhere: a short id, never null')
  t.ok((await a.rooms.members(id)).items.every(m => typeof m.name === 'string' && m.name !== ''), 'every member has a name to show')
  const list = (await b.rooms.list()).items
  t.is(list.length, 1)
  t.is(list[0]!.role, 'member')
})

test('room node – wrong, used and expired codes are refused with coded errors and change nothing', async t => {
  const testnet = await createLocalDht(t)
  let clock = Date.now()
  const [a, b] = await pair(t, testnet, () => clock)
  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  const { id } = await a.rooms.create('club')
  await a.rooms.announced()
  const cores = async (): Promise<number> => {
    let n = 0
    for await (const _ of (c as unknown as { storeInstance: { list (): AsyncIterable<unknown> } }).storeInstance.list()) n++
    return n
  }
  const coresBefore = await cores()

  await t.exception(c.rooms.join('not-a-code'), /INVITE_INVALID/, 'malformed code')
  await t.exception(c.rooms.join(z32.encode(b4a.alloc(40))), /INVITE_INVALID/, 'garbage bytes')
  // a well-formed code for this very room that no admin ever recorded
  const room = a.rooms.room(id)
  const forged = createInvite(room.key, { expires: 0 })
  await t.exception(c.rooms.join(z32.encode(forged.invite), { timeout: 60_000 }), /INVITE_INVALID/, 'unknown invite')

  const { code } = await a.rooms.invite(id, { uses: 1 })
  await b.rooms.join(code, { timeout: 60_000 })
  const before = b4a.toString(await room.viewHash(), 'hex')
  await t.exception(c.rooms.join(code, { timeout: 60_000 }), /INVITE_USED/, 'used code')

  const { code: expiring } = await a.rooms.invite(id, { expires: clock + 1000 })
  const afterInvite = b4a.toString(await room.viewHash(), 'hex')
  t.not(afterInvite, before)
  clock += 2000
  await t.exception(c.rooms.join(expiring, { timeout: 60_000 }), /INVITE_EXPIRED/, 'expired code')
  await room.update()
  t.is(b4a.toString(await room.viewHash(), 'hex'), afterInvite, 'refusals appended nothing')
  t.alike((await c.rooms.list()).items, [], 'the refused joiner recorded no room')
  t.is((await (c as unknown as { stateInstance: { roomScan (p: Uint8Array): Promise<unknown[]> } }).stateInstance.roomScan(b4a.alloc(0))).length, 0, 'and kept no room secret')
  t.is(await cores(), coresBefore, 'and made no writer core in its store')
  t.is((await a.rooms.members(id)).items.length, 2)
  await t.exception(a.rooms.post('nope', 'x'), /INVALID_ID|UNKNOWN_ROOM/)
  await t.exception(a.rooms.post(z32.encode(b4a.alloc(32)), 'x'), /UNKNOWN_ROOM/)
})

/** Alice's room "team" with bob as a member and carol as a moderator, on a fresh testnet. */
async function teamOfThree (t: Parameters<Parameters<typeof test>[1]>[0]): Promise<{ a: Shoal, b: Shoal, c: Shoal, id: string }> {
  const testnet = await createLocalDht(t)
  const [a, b] = await pair(t, testnet)
  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  const { id } = await a.rooms.create('team')
  await a.rooms.announced()
  await b.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  await c.rooms.join((await a.rooms.invite(id, { role: ROLE.moderator })).code, { timeout: 60_000 })
  return { a, b, c, id }
}

test('room node – removal rotates the epoch key on the admin node; the removed member reads nothing new', async t => {
  const { a, b, c, id } = await teamOfThree(t)
  const epoch0 = (await a.rooms.room(id).info())!.epoch
  await a.rooms.remove(id, c.id)
  const info = (await a.rooms.room(id).info())!
  t.is(info.epoch, epoch0 + 1, 'the admin node rotated after the removal applied')
  t.is(info.needsRotation, false)
  const secret = await a.rooms.post(id, 'after the removal')
  await untilMessage(b, id, m => m.id === secret.id && m.text === 'after the removal')
  // c replicates the ops but holds no key for the new epoch
  await c.rooms.room(id).update()
  const cItems = (await c.rooms.read(id, { limit: 1000 })).items
  t.ok(cItems.every(m => m.text !== 'after the removal'))
  await t.exception(c.rooms.post(id, 'still here?'), /ROOM_KEY_MISSING/)
})

test('room node – a member leaves: gone for the others, the admin rotates, the leaver forgets the room; refusals change nothing', async t => {
  const { a, b, c, id } = await teamOfThree(t)
  const room = a.rooms.room(id)
  await room.update()
  const epoch0 = (await room.info())!.epoch
  const hash0 = b4a.toString(await room.viewHash(), 'hex')

  await t.exception(a.rooms.leave(id), /LAST_ADMIN/, 'the last admin cannot leave while others remain')
  await t.exception(c.rooms.leave(z32.encode(b4a.alloc(32))), /UNKNOWN_ROOM/, 'a room I am not in')
  await room.update()
  t.is(b4a.toString(await room.viewHash(), 'hex'), hash0, 'the refusals appended nothing')
  t.is((await a.rooms.list()).items.length, 1)

  t.alike(await c.rooms.leave(id), { delivered: true }, 'the leave op reached a peer before the room was forgotten')
  t.alike((await c.rooms.list()).items, [], 'the leaver forgot the room')
  t.is((await (c as unknown as { stateInstance: { roomScan (p: Uint8Array): Promise<unknown[]> } }).stateInstance.roomScan(b4a.alloc(0))).length, 0, 'and its keys')
  await t.exception(c.rooms.read(id), /UNKNOWN_ROOM/)

  await untilRooms(a, async () => {
    await room.update() // also waits for the rotation that follows the leave
    return !(await a.rooms.members(id)).items.some(m => m.id === c.id) && (await room.info())!.epoch === epoch0 + 1
  })
  t.pass('the others see the leaver gone and the admin node rotated the epoch key')
  t.alike((await a.rooms.members(id)).items.map(m => m.id).sort(), [a.id, b.id].sort())
  t.is((await room.info())!.needsRotation, false)
  t.is(await room.epochKey(epoch0 + 1) !== null, true)
  const after = await a.rooms.post(id, 'after carol left')
  await untilMessage(b, id, m => m.id === after.id && m.text === 'after carol left')
})

test('room node – room list and keys are primary state: they survive reindex and a wiped views folder', async t => {
  const testnet = await createLocalDht(t)
  const dir = await t.tmp()
  const a = await createSwarmPeer(t, testnet, { storage: dir, name: 'alice' })
  const { id } = await a.rooms.create('diary')
  await a.rooms.post(id, 'dear diary')
  await a.reindex()
  t.is((await a.rooms.read(id)).items[0]!.text, 'dear diary', 'after reindex')
  await a.close()
  await fs.rm(path.join(dir, 'views'), { recursive: true, force: true })
  const again = new Shoal(dir)
  t.teardown(() => again.close(), { order: 1 })
  await again.ready()
  t.is((await again.rooms.list()).items[0]!.name, 'diary')
  t.is((await again.rooms.read(id)).items[0]!.text, 'dear diary', 'after the views were wiped')
})

test('room node – a member\'s stored files hold no room plaintext outside state/', async t => {
  const testnet = await createLocalDht(t)
  const dirB = await t.tmp()
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const b = await createSwarmPeer(t, testnet, { storage: dirB, name: 'bob' })
  const { id } = await a.rooms.create('secret-room-name-xyzzy')
  await a.rooms.announced()
  await b.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  const marker = 'plaintext-marker-' + b4a.toString(b4a.from(String(Math.random())), 'hex')
  const sent = await a.rooms.post(id, marker)
  await untilMessage(b, id, m => m.id === sent.id && m.text === marker)
  await b.rooms.post(id, marker + '-reply')
  await b.close()
  const hits: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) {
        const buf = await fs.readFile(p)
        for (const needle of [marker, 'secret-room-name-xyzzy']) if (buf.includes(Buffer.from(needle))) hits.push(path.relative(dirB, p) + ': ' + needle)
      }
    }
  }
  await walk(dirB)
  t.alike(hits, [], 'no message text or room name in any file')
})

test('room node – a device restored later joins the rooms of its identity (its other device adds it)', async t => {
  const testnet = await createLocalDht(t)
  const dir1 = await t.tmp()
  const { shoal: first, phrase } = await Shoal.init(dir1, { name: 'alice' })
  t.teardown(() => first.close(), { order: 1 })
  await first.joinNetwork({ dht: testnet.createNode() })
  const { id } = await first.rooms.create('family')
  const hello = await first.rooms.post(id, 'from the first device')

  const second = await createSwarmPeer(t, testnet, { restore: phrase! })
  t.is(second.id, first.id, 'same identity')
  while (!(await second.rooms.list()).items.some(r => r.id === id)) await new Promise(resolve => second.rooms.once('rooms', resolve))
  const room = second.rooms.room(id)
  await room.whenWritable()
  const seen = await untilMessage(second, id, m => m.id === hello.id)
  t.is(seen.text, 'from the first device', 'reads the history')
  const back = await second.rooms.post(id, 'from the restored device')
  const got = await untilMessage(first, id, m => m.id === back.id)
  t.is(got.author, first.id, 'same author identity')
  t.is((await first.rooms.members(id)).items.length, 1, 'still one member, now with two devices')
  t.is((await first.rooms.room(id).members())[0]!.devices.length, 2)

  // a room made later on one device reaches the other while they are connected
  const { id: later } = await first.rooms.create('later')
  while (!(await second.rooms.list()).items.some(r => r.id === later)) await new Promise(resolve => second.rooms.once('rooms', resolve))
  await second.rooms.room(later).whenWritable()
  t.pass('the room list is synced among own devices')
})

test('room node – messages and reactions of a member I block are not shown (kept, back on unblock)', async t => {
  const testnet = await createLocalDht(t)
  const [a, b] = await pair(t, testnet)
  const { id } = await a.rooms.create('friends')
  await a.rooms.announced()
  const { code } = await a.rooms.invite(id, {})
  await b.rooms.join(code, { timeout: 60_000 })
  const hi = await a.rooms.post(id, 'hi from alice')
  await untilMessage(b, id, m => m.id === hi.id)
  const hello = await b.rooms.post(id, 'hello from bob')
  await b.rooms.react(id, hi.id, '👍')
  await untilMessage(a, id, m => m.id === hello.id)
  await untilMessage(a, id, m => m.id === hi.id && m.reactions['👍'] === 1)
  const before = await a.rooms.read(id)
  await a.block(b.identity)
  const page = await a.rooms.read(id)
  t.absent(page.items.some(m => m.author === b.id), 'nothing bob wrote')
  t.alike(page.items.find(m => m.id === hi.id)?.reactions, {}, 'his reaction not counted')
  await a.unblock(b.identity)
  t.alike(await a.rooms.read(id), before, 'unblocked: all back')
})

test('room node – the unread count of a room leaves out messages of a member I block (back on unblock)', async t => {
  const testnet = await createLocalDht(t)
  const [a, b] = await pair(t, testnet)
  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  const { id } = await a.rooms.create('friends')
  await a.rooms.announced()
  await b.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  await c.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  await b.rooms.post(id, 'one from bob')
  await c.rooms.post(id, 'one from carol')
  await b.rooms.post(id, 'two from bob')
  const unread = async (): Promise<number | undefined> => (await a.rooms.list()).items.find(r => r.id === id)?.unread
  for (;;) {
    const next = new Promise<void>(resolve => a.rooms.once('update', () => resolve()))
    if (await unread() === 3) break
    await next
  }
  t.pass('alice: 3 unread, 2 by bob and 1 by carol')
  await a.block(b.identity)
  t.is(await unread(), 1, 'bob blocked: only carol\'s counts')
  await a.unblock(b.identity)
  t.is(await unread(), 3, 'unblocked: his count again')
})
