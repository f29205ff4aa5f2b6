import test from 'brittle'
import b4a from 'b4a'
import { ROLE, ROOM_CAPS, type Room } from '../src/groups/index.js'
import { makeDevice, openRoom, mesh, invite, converge, storedWriterBytes, type Device } from './helpers/rooms.js'
import { deadline } from './helpers/deadline.js'

const MiB = 1024 * 1024

/** Acks on the admin until every room has indexed everything, then lets each clear what it flagged. */
async function indexAll (admin: Room, rooms: Room[]): Promise<void> {
  await converge(rooms)
  await admin.base.ack()
  await converge(rooms)
  for (const r of rooms) await r.writersChecked()
}

async function threeMembers (t: Parameters<Parameters<typeof test>[1]>[0], opts: { storagePerWriter?: number } = {}) {
  const a = await makeDevice(t)
  const m = await makeDevice(t)
  const x = await makeDevice(t)
  mesh(t, [a, m, x])
  const ra = await openRoom(t, a, null, { name: 'caps', ...opts })
  const rm = await invite(t, ra, m)
  const rx = await invite(t, ra, x)
  return { a, m, x, ra, rm, rx, rooms: [ra, rm, rx] }
}

for (const mib of [1, 4, 8]) {
  test(`room caps – a member's ${mib} MiB writer block: flagged oversize with its member, not kept once indexed; the room goes on`, async t => {
    const { a, m, x, ra, rm, rx, rooms } = await threeMembers(t)
    await rm.post('before')
    await indexAll(ra, rooms)
    const writer = rx.writerKey
    const base = await storedWriterBytes(a, writer)

    // a malicious client appends an op over the cap straight to its writer (Room.post refuses it)
    await rx.base.append(b4a.alloc(mib * MiB, 7))
    await rm.post('after the big block')
    await converge(rooms)
    t.ok(await storedWriterBytes(m, writer) > mib * MiB, 'Autobase fetched the block (it must, to linearize)')
    await indexAll(ra, rooms)

    for (const [d, r] of [[a, ra], [m, rm]] as Array<[Device, Room]>) {
      t.ok(await storedWriterBytes(d, writer) - base < ROOM_CAPS.op, `${d === a ? 'admin' : 'member'}: the ${mib} MiB block is not kept`)
      const issue = (await r.writerIssues()).find(i => b4a.equals(i.writer, writer))
      t.alike(issue?.issues.map(i => i.flag), ['oversize'], 'the writer is flagged oversize')
      t.ok(issue?.member !== null && b4a.equals(issue!.member!, x.identity.publicKey), 'with the member it belongs to')
      t.is(issue?.kept, false, 'not kept (a member\'s writer)')
    }
    t.alike((await ra.messages()).map(msg => msg.text), ['before', 'after the big block'], 'other members\' posts arrive and apply')
    await rx.post('the big writer posts again')
    await rm.post('and so do others')
    await indexAll(ra, rooms)
    t.alike((await rm.messages()).map(msg => msg.text).slice(2).sort(), ['and so do others', 'the big writer posts again'], 'the room keeps working (both orders are valid)')
    t.is(ra.closing, null, 'no base closed')
    t.is(rm.closing, null, 'on any device')
    t.ok(await storedWriterBytes(m, writer) - base < ROOM_CAPS.op, 'the block is not fetched again')
  })
}

test('room caps – an admin (indexer) device\'s oversize block is flagged but kept: Autobase reads its checkpoints back', async t => {
  const { a, m, ra, rm, rooms } = await threeMembers(t)
  await ra.base.append(b4a.alloc(MiB, 7))
  await rm.post('after')
  await indexAll(ra, rooms)
  const issue = (await rm.writerIssues()).find(i => b4a.equals(i.writer, ra.writerKey))
  t.alike(issue?.issues.map(i => i.flag), ['oversize'])
  t.is(issue?.kept, true, 'kept: an indexer\'s blocks')
  t.ok(issue?.member !== null && b4a.equals(issue!.member!, a.identity.publicKey))
  t.ok(await storedWriterBytes(m, ra.writerKey) > MiB)
})

test('room caps – storage per writer: a writer past the cap is flagged, what it wrote past the cap is not kept, the view keeps every message', async t => {
  const cap = 128 * 1024
  const { a, m, x, ra, rm, rx, rooms } = await threeMembers(t, { storagePerWriter: cap })
  const text = 'x'.repeat(4000)
  for (let i = 0; i < 60; i++) await rx.post(text + i)
  await rm.post('a small member')
  await indexAll(ra, rooms)
  const stated = rx.base.local.byteLength
  t.ok(stated > 1.5 * cap, `the writer states ${stated} bytes`)
  t.ok(await storedWriterBytes(a, rx.writerKey) <= cap, 'at most the cap is kept on the capped device')
  t.ok(await storedWriterBytes(m, rx.writerKey) >= stated, 'a device with the default cap keeps it all')
  const issue = (await ra.writerIssues()).find(i => b4a.equals(i.writer, rx.writerKey))
  t.alike(issue?.issues.map(i => i.flag), ['storage-cap'])
  t.ok(issue?.member !== null && b4a.equals(issue!.member!, x.identity.publicKey))
  t.absent((await ra.writerIssues()).some(i => b4a.equals(i.writer, rm.writerKey)), 'a writer under the cap is not flagged')
  const texts = (await ra.messages({ limit: 100 })).map(msg => msg.text)
  t.is(texts.length, 61, 'every message stays in the view')
  t.ok(texts.includes('a small member'), 'the other member\'s message too (its place among the capped writer\'s depends on the linearization)')
  await rm.post('later')
  await rx.post('later from the capped writer')
  await indexAll(ra, rooms)
  t.is((await ra.messages({ limit: 100 })).length, 63, 'the room keeps working')
  t.ok(await storedWriterBytes(a, rx.writerKey) <= cap, 'what it writes after the cap is not kept')

  // Autobase never reads the cleared (indexed) blocks again: a reopen does not stall or fetch them
  await ra.close()
  const reopened = await openRoom(t, a, rx.key, { storagePerWriter: cap })
  await rx.post('after the reopen')
  await indexAll(reopened, [reopened, rm, rx])
  t.is((await reopened.messages({ limit: 100 })).length, 64, 'the reopened room applies new posts')
  t.ok(await storedWriterBytes(a, rx.writerKey) <= cap, 'and keeps within the cap')
  t.alike((await reopened.writerIssues()).map(i => i.issues.map(x => x.flag)), [['storage-cap']], 'flagged again in this run')
})

test('room caps – storage per writer below the op cap is refused', async t => {
  const a = await makeDevice(t)
  await t.exception(openRoom(t, a, null, { name: 'x', storagePerWriter: 1000 }), /INVALID_ARGUMENT/)
})

test('room caps – a 1 MiB block that is no Autobase node (raw bytes on the writer core): flagged oversize, dropped at once, the room goes on', async t => {
  const { m, ra, rm, rx, rooms } = await threeMembers(t)
  await rm.post('before')
  await indexAll(ra, rooms)
  const base = rx.base as unknown as { local: { session (o: Record<string, unknown>): { ready (): Promise<void>, append (b: Uint8Array): Promise<unknown>, close (): Promise<void> } }, getWriterEncryption (): unknown }
  const flagged = new Promise<void>(resolve => rm.once('writer-issue', () => resolve()))
  const raw = base.local.session({ valueEncoding: 'binary', encryption: base.getWriterEncryption() })
  await raw.ready()
  await raw.append(b4a.alloc(MiB, 9))
  await raw.close()
  await rm.post('after the garbage')
  await converge([ra, rm])
  // The garbage block is never applied, so no update of the room follows its download: the flag is
  // its own event.
  await deadline(flagged, 60_000, 'the garbage block to be flagged')
  await rm.writersChecked()
  const issue = (await rm.writerIssues())[0]
  t.ok(issue !== undefined && b4a.equals(issue.writer, rx.writerKey))
  t.ok(/is not an Autobase node/.test(issue!.issues[0]!.detail), issue!.issues[0]!.detail)
  t.alike((await ra.messages()).map(msg => msg.text), ['before', 'after the garbage'], 'other members\' posts still apply')
  t.is(ra.closing, null)
  t.ok(await storedWriterBytes(m, rx.writerKey) < ROOM_CAPS.op, 'dropped at once: Autobase can never use it')
  t.is(issue!.clearedBlocks, 1)
  await rm.post('later')
  await ra.post('later too')
  await indexAll(ra, [ra, rm])
  t.alike((await rm.messages()).map(msg => msg.text).slice(2).sort(), ['later', 'later too'], 'the room goes on')
  t.ok(await storedWriterBytes(m, rx.writerKey) < ROOM_CAPS.op, 'not fetched again')

  // after a reopen Autobase may fetch it again for the frozen writer: dropped again, the room goes on
  await rm.close()
  const reopened = await openRoom(t, m, ra.key)
  await ra.post('after the reopen')
  await indexAll(ra, [ra, reopened])
  await reopened.writersChecked()
  t.is((await reopened.messages()).at(-1)?.text, 'after the reopen')
  t.ok(await storedWriterBytes(m, rx.writerKey) < ROOM_CAPS.op, 'not kept after the reopen either')
})

test('room caps – an oversize block stored but not yet indexed when the room closed: flagged and cleared after the reopen', async t => {
  const { m, ra, rm, rx, rooms } = await threeMembers(t)
  await indexAll(ra, rooms)
  await rx.base.append(b4a.alloc(4 * MiB, 7))
  await rm.post('after')
  await converge(rooms)
  t.ok(await storedWriterBytes(m, rx.writerKey) > 4 * MiB, 'stored, not indexed yet')
  await rm.close()
  const reopened = await openRoom(t, m, ra.key)
  await indexAll(ra, [ra, reopened, rx])
  t.ok(await storedWriterBytes(m, rx.writerKey) < ROOM_CAPS.op, 'cleared once indexed after the reopen')
  t.alike((await reopened.writerIssues()).map(i => i.issues.map(x => x.flag)), [['oversize']], 'flagged again in this run')
  t.alike((await reopened.messages()).map(msg => msg.text), ['after'])
})
