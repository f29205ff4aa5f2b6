import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import b4a from 'b4a'
import { createPeer, openPeer, replicate, syncFeed } from './helpers/peers.js'
import { Shoal } from '../src/node/shoal.js'
import { NodeState } from '../src/node/node-state.js'
import { DmStore, decodeDeviceKeys, decodeRemote, decodeSessions, dmKeys } from '../src/node/dm-store.js'
import { openBox } from '../src/dm/envelope.js'
import { decodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import { storagePaths } from '../src/node/storage.js'
import { ViewDb } from '../src/views/view-db.js'
import { META_VERSION } from '../src/views/keys.js'
import { VIEWS_VERSION } from '../src/caps.js'

/** Both nodes track each other's feed (as mutual follows would) and are indexed up to date. */
async function pair (t: Parameters<typeof createPeer>[0], a: Shoal, b: Shoal): Promise<void> {
  replicate(a, b, t)
  await syncFeed(a, b)
  await syncFeed(b, a)
}

async function filesContaining (dir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    const file = path.join(e.parentPath, e.name)
    const buf = await fs.readFile(file)
    if (b4a.indexOf(buf, needle) !== -1) hits.push(file)
  }
  return hits
}

test('dm wire – A sends to B, B reads it and replies, both see the conversation', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  await pair(t, a, b)

  const sent = await a.dm.send({ to: [b.identity], text: 'hello bob' })
  await syncFeed(b, a)
  const convs = await b.dm.conversations()
  t.is(convs.length, 1, 'one conversation at B')
  t.ok(b4a.equals(convs[0].id, sent.conversation), 'the same conversation id on both sides')
  t.is(convs[0].unread, 1, 'unread at B')
  t.is(convs[0].lastDm?.text, 'hello bob')
  t.ok(b4a.equals(convs[0].lastDm?.author as Uint8Array, a.identity), 'attributed to A')

  const reply = await b.dm.send({ to: [a.identity], text: 'hi alice', parent: sent.ref })
  await syncFeed(a, b)
  const page = await a.dm.read(sent.conversation)
  t.alike(page.items.map((m) => m.text), ['hi alice', 'hello bob'], 'newest first, my own DM included')
  t.alike(page.items[0].parent, sent.ref, 'the reply names its parent')
  t.ok(b4a.equals(page.items[0].ref.feed, reply.ref.feed))
  await a.dm.react(reply.ref, '🎉')
  await syncFeed(b, a)
  const onB = await b.dm.read(sent.conversation)
  t.alike(onB.items[0].reactions, { '🎉': 1 }, 'a reaction shows on the DM it names')
  t.is(onB.items.length, 2, 'a reaction is not a message')
  await b.dm.deleteLocal(sent.ref)
  t.alike((await b.dm.read(sent.conversation)).items.map((m) => m.text), ['hi alice'], 'deleted here only')
  t.is((await a.dm.read(sent.conversation)).items.length, 2, 'still there for A')
  await b.dm.markRead(sent.conversation)
  t.is((await b.dm.conversation(sent.conversation))?.unread, 0, 'read state is local')
  t.is(a.dm.stats.rejected + b.dm.stats.rejected, 0, 'nothing refused')

  for (const node of [a, b]) {
    const cores = storagePaths(node.paths.root).cores
    t.alike(await filesContaining(cores, b4a.from('hello bob')), [], 'no plaintext in cores/')
  }
})

test('dm wire – a conversation of more than 16 identities is refused with a coded error', async (t) => {
  const a = await createPeer(t)
  const others = Array.from({ length: 16 }, (_, i) => b4a.alloc(32, i + 1))
  await t.exception(a.dm.send({ to: others as any, text: 'too many' }), /DM_TOO_MANY_RECIPIENTS/)
  const err = await a.dm.send({ to: others as any, text: 'x' }).catch((e) => e)
  t.is(err.code, 'DM_TOO_MANY_RECIPIENTS')
  const lone = await a.dm.send({ to: [b4a.alloc(32, 9) as any], text: 'x' }).catch((e) => e)
  t.is(lone.code, 'DM_NO_DEVICES', 'someone with no known device keys')
  t.is(a.feedLength, 2, 'nothing appended (header, keys)')
})

test('dm wire – three devices: A1 to B arrives on B1 and shows on A2 as sent', async (t) => {
  const dir = await t.tmp()
  const { shoal: a1, phrase } = await Shoal.init(dir, { name: 'alice' })
  t.teardown(() => a1.close(), { order: 1 })
  const a2 = await createPeer(t, { restore: phrase as string })
  const b1 = await createPeer(t, { name: 'bob' })
  await pair(t, a1, b1)
  await pair(t, a2, b1)
  replicate(a1, a2, t)
  await syncFeed(a1, a2)
  await syncFeed(a2, a1)
  t.is(a1.dm.devicesOf(a1.identity).length, 1, 'A1 knows its other device')

  const sent = await a1.dm.send({ to: [b1.identity], text: 'from my laptop' })
  await syncFeed(b1, a1)
  await syncFeed(a2, a1)
  const onB = await b1.dm.read(sent.conversation)
  t.alike(onB.items.map((m) => m.text), ['from my laptop'], 'arrives on B1')
  const onA2 = await a2.dm.read(sent.conversation)
  t.alike(onA2.items.map((m) => m.text), ['from my laptop'], 'shows on A2')
  t.ok(b4a.equals(onA2.items[0].author, a1.identity), 'as sent by me')
  t.is((await a2.dm.conversation(sent.conversation))?.unread, 0, 'my own DM is not unread')

  const back = await b1.dm.send({ to: [a1.identity], text: 'to both of you' })
  await syncFeed(a1, b1)
  await syncFeed(a2, b1)
  t.is((await a1.dm.read(back.conversation)).items[0].text, 'to both of you')
  t.is((await a2.dm.read(back.conversation)).items[0].text, 'to both of you', 'every device of the recipient')
})

test('dm wire – reindex, a views version bump and deleting views/ keep every DM readable, never twice', async (t) => {
  const dir = await t.tmp()
  const { shoal: a } = await Shoal.init(dir, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  const stop = replicate(a, b, t)
  await syncFeed(a, b)
  await syncFeed(b, a)
  const { conversation } = await b.dm.send({ to: [a.identity], text: 'one' })
  await b.dm.send({ to: [a.identity], text: 'two' })
  await syncFeed(a, b)
  const before = (await a.dm.read(conversation)).items.map((m) => m.text)
  t.alike(before, ['two', 'one'])

  await a.reindex()
  t.alike((await a.dm.read(conversation)).items.map((m) => m.text), before, 'after reindex')
  stop()
  await a.close()
  await fs.rm(storagePaths(dir).views, { recursive: true, force: true })
  const again = await openPeer(t, dir)
  await again.indexed()
  t.alike((await again.dm.read(conversation)).items.map((m) => m.text), before, 'after deleting views/')
  t.is((await again.dm.conversation(conversation))?.unread, 2, 'unread kept, not counted twice')

  // A views version bump (another version on disk): the views are rebuilt, the DMs stay as they were.
  await again.close()
  const db = new ViewDb(storagePaths(dir).views)
  await db.ready()
  const w = db.txn()
  w.put(META_VERSION, b4a.from([VIEWS_VERSION + 1]))
  await w.commit()
  await db.close()
  const bumped = await openPeer(t, dir)
  await bumped.indexed()
  t.alike((await bumped.dm.read(conversation)).items.map((m) => m.text), before, 'after a views version bump')
  t.is((await bumped.dm.all()).length, 2, 'never twice')
})

test('dm wire – tampered, truncated, replayed and over-cap boxes change no state and are counted', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  await pair(t, a, b)
  const good = await a.dm.send({ to: [b.identity], text: 'real' })
  const feed = a.core(a.feedKey) as any
  const block = await feed.get(good.ref.seq) as Uint8Array
  await syncFeed(b, a)
  const bStore = new DmStore((b as any).stateInstance)
  const sessionsBefore = await bStore.get(dmKeys.sessions(a.feedKey))

  // A box sealed for its exact place, one body byte flipped on the way to the feed.
  const device = (a as any).feedInstance
  const appendWith = device.appendWith.bind(device)
  device.appendWith = (build: (seq: number) => Promise<any>) => appendWith(async (seq: number) => {
    const rec = await build(seq)
    if (rec.type !== 'box') return rec
    const bad = b4a.from(rec.block); bad[bad.byteLength - 3] ^= 1
    return { ...rec, block: bad }
  })
  await a.dm.send({ to: [b.identity], text: 'tampered' })
  device.appendWith = appendWith
  const truncated = block.subarray(0, block.byteLength - 1)
  // Slot count 128 (over the 64 cap) at its place: type, version, 9-byte hour, 24-byte salt.
  const overCap = b4a.concat([block, b4a.alloc(16384 - block.byteLength)])
  t.is(overCap[35], 4, 'slot count found')
  overCap[35] = 128
  await feed.append([truncated, block, block, overCap]) // a replay of the good box, twice (duplicated)
  await syncFeed(b, a)
  t.alike((await b.dm.read(good.conversation)).items.map((m) => m.text), ['real'], 'still the one DM')
  t.alike(await bStore.get(dmKeys.sessions(a.feedKey)), sessionsBefore, 'sessions unchanged')
  const s = b.dm.stats
  t.is(s.rejected, 1, 'the tampered box: its slot opens, its body does not')
  t.is(s.notForMe, 2, 'the replayed and duplicated box opens nowhere else')
  t.is(b.totals().malformed, 2, 'the truncated and the over-cap box are malformed before any decryption')
  t.is(s.opened, 1, 'only the real one opened')

  await a.dm.send({ to: [b.identity], text: 'after all that' })
  await syncFeed(b, a)
  t.alike((await b.dm.read(good.conversation)).items.map((m) => m.text), ['after all that', 'real'], 'the session goes on')
})

test('dm wire – forward secrecy on the storage folder: a copy opens none of the DMs already read', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const stop = replicate(a, b, t)
  await syncFeed(a, b)
  await syncFeed(b, a)
  const k = 5
  const refs = []
  for (let i = 0; i < k; i++) refs.push((await a.dm.send({ to: [b.identity], text: `secret ${i}` })).ref)
  await syncFeed(b, a)
  t.is((await b.dm.read(refs.length > 0 ? (await b.dm.conversations())[0].id : b4a.alloc(32))).items.length, k, 'B read all k')
  const blocks: Uint8Array[] = []
  for (const r of refs) blocks.push(await (a.core(a.feedKey) as any).get(r.seq))
  stop()
  await b.close() // closing compacts what receiving overwrote: no explicit compaction here

  const copy = await t.tmp()
  await fs.cp(dir, copy, { recursive: true })
  const state = new NodeState(storagePaths(copy).state)
  await state.ready()
  t.teardown(() => state.close())
  const store = new DmStore(state)
  const keys = decodeDeviceKeys(await store.get(dmKeys.deviceKeys()) as Uint8Array)
  const sender = decodeRemote(a.feedKey, await store.get(dmKeys.remote(a.feedKey)) as Uint8Array)
  const sessions = decodeSessions(await store.get(dmKeys.sessions(a.feedKey)) as Uint8Array)
  let opened = 0
  for (let i = 0; i < k; i++) {
    try {
      const o = openBox({ feed: a.feedKey, seq: refs[i].seq, block: blocks[i], keys, senderIdentityKey: sender.keys.identityKey, sessions })
      if (o !== null) opened++
    } catch {
      // Refused with a coded error: not decrypted, which is what this test wants.
    }
  }
  t.is(opened, 0, '0 of the k messages decrypt from the copy')
  t.is(decodeRecord(blocks[0]).type, 'box')
})

test('dm wire – a blocked sender\'s DMs are never shown', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  await pair(t, a, b)
  await b.block(a.identity)
  await a.dm.send({ to: [b.identity], text: 'let me in' })
  await b.addFeed(a.feedKey as FeedKey)
  await b.indexed()
  t.is((await b.dm.conversations()).length, 0, 'nothing shown')
  t.is(b.dm.stats.opened, 0, 'nothing opened')
})

test('dm wire – the prekey rotates on its policy, the old secret is deleted after grace, sessions started against it meanwhile still open', async (t) => {
  const DAY = 24 * 3600_000
  let now = 1_800_000_000_000
  const policy = { rotateAfter: 7 * DAY, graceAfter: 30 * DAY }
  const dir = await t.tmp()
  const { shoal: b0 } = await Shoal.init(dir, { name: 'bob', now: () => now, dmKeyPolicy: policy })
  const a = await createPeer(t, { name: 'alice', now: () => now })
  let stop = replicate(a, b0, t)
  await syncFeed(a, b0)
  await syncFeed(b0, a)
  const keys0 = a.dm.devicesOf(b0.identity)[0].keys
  const length0 = b0.feedLength
  stop()
  await b0.close()

  now += 8 * DAY
  const b1 = await openPeer(t, dir, { now: () => now, dmKeyPolicy: policy })
  t.is(b1.feedLength, length0 + 1, 'a new keys record on open after 7 days')
  // A still holds B's old record: its DM starts a session against the retired prekey.
  const sent = await a.dm.send({ to: [b1.identity], text: 'to the old prekey' })
  stop = replicate(a, b1, t)
  await syncFeed(b1, a)
  t.is((await b1.dm.read(sent.conversation)).items[0]?.text, 'to the old prekey', 'accepted within grace')
  await syncFeed(a, b1)
  t.not(a.dm.devicesOf(b1.identity)[0].keys.prekeyId, keys0.prekeyId, 'A now has the new prekey')
  stop()
  await b1.close()

  now += 31 * DAY
  const b2 = await openPeer(t, dir, { now: () => now, dmKeyPolicy: policy })
  const state = new DmStore((b2 as any).stateInstance)
  const kept = decodeDeviceKeys(await state.get(dmKeys.deviceKeys()) as Uint8Array)
  t.absent(kept.prekeys.some((p) => p.id === keys0.prekeyId), 'the old prekey secret is gone after grace')
})

test('dm wire – safety code: the same on both sides of a contact, and a changed device set is flagged until confirmed', async (t) => {
  const dir = await t.tmp()
  const { shoal: b1, phrase } = await Shoal.init(dir, { name: 'bob' })
  t.teardown(() => b1.close(), { order: 1 })
  const a = await createPeer(t, { name: 'alice' })
  await pair(t, a, b1)
  const first = await a.dm.safety(b1.identity)
  t.ok(/^([0-9]{5} ){11}[0-9]{5}$/.test(first.code), first.code)
  t.is(first.devices, 1)
  t.is(first.changed, false, 'the first device set seen is trusted')
  t.is((await b1.dm.safety(b1.identity)).code, first.code, 'Bob computes the same code for himself')

  const b2 = await createPeer(t, { restore: phrase as string })
  replicate(a, b2, t)
  await syncFeed(a, b2)
  const after = await a.dm.safety(b1.identity)
  t.is(after.devices, 2)
  t.not(after.code, first.code, 'a new device changes the code')
  t.is(after.changed, true, 'and is flagged')
  t.is((await a.dm.safety(b1.identity, { confirm: true })).changed, false, 'confirmed')
  t.is((await a.dm.safety(b1.identity)).changed, false, 'stays confirmed')
})
