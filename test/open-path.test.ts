import test, { type Test } from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import type { FeedKey, IdentityKey } from '../src/ids.js'
import { ALL_SHARDS, NodeState, shardBit, type OpenRecord } from '../src/node/node-state.js'
import { Shoal } from '../src/node/shoal.js'
import { ViewDb } from '../src/views/view-db.js'
import { checkpoint as checkpointEnc, type Checkpoint } from '../src/views/records.js'

/**
 * Counts the rows an open reads from views/ (every scanned row, every key asked) and from state/
 * (every row of a list), by wrapping the prototypes until the returned function is called.
 */
function countReads (t: Test): { rows: () => number, lists: string[], stop: () => void } {
  let rows = 0
  const lists: string[] = []
  const vp = ViewDb.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
  const sp = NodeState.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
  const saved: Array<[Record<string, unknown>, string, unknown]> = []
  const wrap = (proto: Record<string, (...a: unknown[]) => unknown>, name: string, fn: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void => {
    saved.push([proto, name, proto[name]])
    proto[name] = fn(proto[name])
  }
  wrap(vp, 'scan', (orig) => async function * (this: unknown, ...a: unknown[]) {
    for await (const e of orig.apply(this, a) as AsyncIterable<unknown>) { rows++; yield e }
  })
  wrap(vp, 'get', (orig) => function (this: unknown, ...a: unknown[]) { rows++; return orig.apply(this, a) })
  wrap(vp, 'getMany', (orig) => function (this: unknown, ...a: unknown[]) { rows += (a[0] as unknown[]).length; return orig.apply(this, a) })
  for (const name of ['trackedFeeds', 'legacySettledFeeds', 'scanRaw', 'roomScan']) {
    wrap(sp, name, (orig) => async function (this: unknown, ...a: unknown[]) {
      const out = await orig.apply(this, a) as unknown[]
      rows += out.length
      lists.push(name)
      return out
    })
  }
  const stop = (): void => { for (const [proto, name, fn] of saved.splice(0)) proto[name] = fn }
  t.teardown(stop)
  return { rows: () => rows, lists, stop }
}

async function reopenCounting (t: Test, dir: string): Promise<{ shoal: Shoal, rows: number, lists: string[] }> {
  const shoal = new Shoal(dir)
  t.teardown(() => shoal.close(), { order: 1 })
  const count = countReads(t)
  try {
    await shoal.ready()
  } finally {
    count.stop()
  }
  return { shoal, rows: count.rows(), lists: count.lists }
}

/** A checkpoint at `position` (every record a message, a clock that grows with it). */
function checkpoint (position: number): Checkpoint {
  return { position, messages: position, malformed: 0, unknown: 0, clock: 1_700_000_000_000 + position }
}

/** Feed key number `i` (below 65,536) of a set whose other bytes are `fill`. */
function numberedFeed (fill: number, i: number): FeedKey {
  const k = b4a.alloc(32, fill) as FeedKey
  k[0] = i % 256
  k[1] = Math.floor(i / 256)
  return k
}

function randomKey (): Uint8Array {
  return keyPairFromSeed(createSeed()).publicKey
}

test('open path – a clean reopen reads as many rows with 60 follows and tracked feeds as with none', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  await b.close()
  const before = await reopenCounting(t, dir)
  const n = 60
  for (let i = 0; i < n; i++) {
    await before.shoal.follow(keyPairFromSeed(createSeed()).publicKey as IdentityKey)
    await before.shoal.addFeed(randomKey() as FeedKey)
  }
  await before.shoal.block(keyPairFromSeed(createSeed()).publicKey as IdentityKey)
  await before.shoal.close()

  const after = await reopenCounting(t, dir)
  t.is(after.shoal.trackedFeeds.length, n, 'every feed is still tracked')
  t.is(after.shoal.trackedCores().length, 0, 'none is opened')
  t.is(after.rows, before.rows, `rows read by the open: ${after.rows} with ${n} follows and feeds, ${before.rows} with none`)
  t.absent(after.lists.includes('trackedFeeds'), 'the tracked list is not scanned after a clean close')
  t.is((await after.shoal.views.following(after.shoal.identity)).length, n, 'the follows are all there')
  t.is((await after.shoal.views.blocking(after.shoal.identity)).length, 1, 'and the block')
})

test('open path – a folder with the per-feed settled rows of older versions opens lazily once, then uses one record', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  for (let i = 0; i < 2; i++) {
    const w = await createPeer(t, { name: `w${i}` })
    await w.post({ text: `hello from w${i}` })
    replicate(w, b, t)
    await b.follow(w.identity)
    await syncFeed(b, w)
  }
  const timeline = (await b.timeline()).items.map((i) => i.text)
  const totals = b.totals()
  await b.close()

  // Rewrite what the close recorded in the layout of older versions: `0x08 | feed` → u64 length.
  const state = new NodeState(b.paths.state)
  await state.ready()
  const record = await state.openRecord()
  t.ok(record !== null, 'a clean close writes the open record')
  t.is(record?.settled.length, 2, 'with both feeds settled')
  const legacy: Array<[Uint8Array, Uint8Array | null]> = (record?.settled ?? []).map((s) => {
    const len = b4a.alloc(8)
    new DataView(len.buffer, len.byteOffset, 8).setBigUint64(0, BigInt(s.checkpoint.position))
    return [b4a.concat([b4a.from([0x08]), s.feed]), len]
  })
  await state.writeRaw([...legacy, [b4a.from([0x09]), null]])
  t.is((await state.legacySettledFeeds()).length, 2, 'the old layout is in place')
  await state.close()

  const old = await reopenCounting(t, dir)
  t.ok(old.lists.includes('trackedFeeds'), 'no record: the tracked list and the old rows are read')
  t.is(old.shoal.trackedCores().length, 0, 'and honoured: no feed is opened')
  t.alike((await old.shoal.timeline()).items.map((i) => i.text), timeline, 'the timeline reads the same')
  t.alike(old.shoal.totals(), totals, 'totals count the closed feeds')
  await old.shoal.close()

  const next = await reopenCounting(t, dir)
  t.absent(next.lists.includes('trackedFeeds'), 'the next open reads the record, not the tracked list')
  t.is(next.shoal.trackedCores().length, 0, 'no feed is opened')
  t.is(next.shoal.trackedFeeds.length, 2, 'both are tracked')
  t.alike(next.shoal.totals(), totals)
  await next.shoal.close()
  const after = new NodeState(b.paths.state)
  await after.ready()
  t.alike(await after.legacySettledFeeds(), [], 'the old rows are gone')
  t.is(await after.trackedFeeds().then((f) => f.length), 2, 'the tracked list (primary) is intact')
  await after.close()
})

test('open path – a record of other views (rebuilt by reindex) is not trusted but checked against the checkpoints', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const w = await createPeer(t, { name: 'w' })
  await w.post({ text: 'one' })
  replicate(w, b, t)
  await b.follow(w.identity)
  await syncFeed(b, w)
  await b.close()

  // Keep this close's record, then let a later session rebuild the views and die without a clean close.
  const state = new NodeState(b.paths.state)
  await state.ready()
  const record = await state.openRecord()
  await state.close()
  const s2 = new Shoal(dir)
  await s2.ready()
  await s2.reindex()
  await s2.close()
  const put = new NodeState(b.paths.state)
  await put.ready()
  const { views } = record ?? { views: b4a.alloc(0) }
  const next = await put.openRecord()
  t.ok(next !== null && !b4a.equals(next.views, views), 'a rebuild starts a new views generation')
  if (record !== null) await put.setOpenRecord(record) // the stale record, as if written before the rebuild
  await put.close()

  const again = await reopenCounting(t, dir)
  t.ok(again.lists.includes('trackedFeeds'), 'a record of other views is ignored: the tracked list is read')
  t.is(again.shoal.trackedCores().length, 0, 'the views checkpoints still say the feed is indexed: left closed')
  t.alike((await again.shoal.timeline()).items.map((i) => i.text), ['one'])
})

test('open path – entries read from the open record are written back unchanged, changed ones re-encoded', async (t) => {
  const dir = await t.tmp()
  const state = new NodeState(dir)
  await state.ready()
  t.teardown(() => state.close())
  const feed = (i: number): FeedKey => b4a.alloc(32, i) as FeedKey
  const views = b4a.alloc(16, 7)
  const settled = Array.from({ length: 300 }, (_, i) => ({ feed: feed(i), checkpoint: checkpoint(i * 1000) }))
  await state.setOpenRecord({ views, settled, unsettled: [feed(250)] })
  const read = await state.openRecord()
  if (read === null) return t.fail('the record reads back')
  // The record comes back grouped by shard (the feed key's first byte): compared in feed order.
  const plain = (list: Array<{ feed: FeedKey, checkpoint: object }>): unknown[] => list.map((s) => ({ feed: s.feed, checkpoint: { ...s.checkpoint } }))
    .sort((a, b) => b4a.compare(a.feed, b.feed))
  t.alike(plain(read.settled), plain(settled), 'entries decode to what was written')
  t.ok(Object.isFrozen(read.settled[0]!.checkpoint), 'a read checkpoint is frozen: it cannot change under its cached bytes')
  // Unchanged entries are copied; a read entry given another feed or checkpoint, and a read
  // checkpoint under another feed, are encoded anew.
  const next = [...read.settled]
  next[10]!.feed = feed(210)
  next[11]!.checkpoint = checkpoint(7)
  next.push({ feed: feed(400), checkpoint: read.settled[1]!.checkpoint })
  await state.setOpenRecord({ views, settled: next, unsettled: [] })
  const again = await state.openRecord()
  t.alike(plain(again?.settled ?? []), plain(next), 'the rewritten record holds the changed and the copied entries alike')
})

test('open path – a close rewrites only the open record\'s shards whose feeds changed; a crash after an open still opens every feed', async (t) => {
  const dir = await t.tmp()
  let state = new NodeState(dir)
  await state.ready()
  t.teardown(() => state.close())
  const feed = (i: number): FeedKey => numberedFeed(9, i)
  const views = b4a.alloc(16, 7)
  const settled = Array.from({ length: 5000 }, (_, i) => ({ feed: feed(i), checkpoint: checkpoint(i) }))
  await state.setOpenRecord({ views, settled, unsettled: [] })
  const written = (): { puts: number[], bytes: number } => {
    const seen = { puts: [] as number[], bytes: 0 }
    const rocks = (state as unknown as { rocks: { write: (o: unknown) => { tryPut: (k: Uint8Array, v: Uint8Array) => void } } }).rocks
    const write = rocks.write.bind(rocks)
    rocks.write = (o) => {
      const w = write(o)
      const tryPut = w.tryPut.bind(w)
      w.tryPut = (k, v) => { seen.puts.push(k[1]); seen.bytes += v.byteLength; tryPut(k, v) }
      return w
    }
    return seen
  }

  // An open: read, then marked invalid until the next clean close.
  let read = await state.openRecord()
  if (read === null) return t.fail('the record reads back')
  await state.setOpenRecord(null)
  // This session synced one feed (feed(33): shard 1) and started tracking another (feed(2): shard 2).
  const seen = written()
  const next = read.settled.map((e) => b4a.equals(e.feed, feed(33)) ? { feed: e.feed, checkpoint: checkpoint(99) } : e)
  await state.setOpenRecord({ views, settled: next, unsettled: [feed(20 * 256 + 2)] })
  t.alike(seen.puts.sort((a, b) => a - b), [0x02, 0x03], 'two shards written (shard rows are keyed 0x01 + shard)')
  t.ok(seen.bytes < 5000 * 48 / 4, `a small part of the record written (${seen.bytes} bytes)`)
  await state.close()

  state = new NodeState(dir)
  await state.ready()
  read = await state.openRecord()
  if (read === null) return t.fail('the record reads back after a clean close')
  t.is(read.settled.length, 5000, 'every settled feed')
  t.is(read.settled.find((e) => b4a.equals(e.feed, feed(33)))?.checkpoint.position, 99, 'with the changed checkpoint')
  t.alike(read.unsettled, [feed(20 * 256 + 2)], 'and the new unsettled feed')
  // A feed no longer tracked leaves its shard.
  await state.setOpenRecord(null)
  await state.setOpenRecord({ views, settled: read.settled.filter((e) => !b4a.equals(e.feed, feed(40))), unsettled: [] })
  await state.close()
  state = new NodeState(dir)
  await state.ready()
  read = await state.openRecord()
  t.is(read?.settled.length, 4999, 'a dropped feed is gone')
  t.is(read?.settled.some((e) => b4a.equals(e.feed, feed(40))), false)
  t.is(read?.unsettled.length, 0, 'the unsettled feed settled')
  // Crash: an open marks the record invalid and no clean close follows.
  await state.setOpenRecord(null)
  await state.close()
  state = new NodeState(dir)
  await state.ready()
  t.is(await state.openRecord(), null, 'after an open with no clean close, no record: every feed is opened')
  // The next clean close writes the whole record again.
  const whole = written()
  await state.setOpenRecord({ views, settled, unsettled: [] })
  t.is(whole.puts.length, 17, 'the head and every shard')
})

test('open path – a record given some shards only keeps the others as on disk; refused while the rows on disk are unknown', async (t) => {
  const dir = await t.tmp()
  let state = new NodeState(dir)
  await state.ready()
  t.teardown(() => state.close())
  const feed = (i: number): FeedKey => numberedFeed(5, i)
  const views = b4a.alloc(16, 4)
  const settled = Array.from({ length: 1000 }, (_, i) => ({ feed: feed(i), checkpoint: checkpoint(i) }))
  await state.close()
  state = new NodeState(dir)
  await state.ready()
  await t.exception(state.setOpenRecord({ views, settled: [], unsettled: [] }, shardBit(feed(1))), /INVALID_ARGUMENT/, 'nothing known on disk yet: a partial record is refused')
  await state.setOpenRecord({ views, settled, unsettled: [] })
  t.ok(state.recordOnDisk(views), 'the rows just written are known')
  t.absent(state.recordOnDisk(b4a.alloc(16, 9)), 'for these views only')
  await state.setOpenRecord(null)
  // Shard 1 only: feed(17) settled further, feed(33) gone, a new unsettled feed in it; feed(18) (shard 2) changed but not given.
  const bit = shardBit(feed(1))
  const given = settled.filter((e) => shardBit(e.feed) === bit && !b4a.equals(e.feed, feed(33)))
    .map((e) => b4a.equals(e.feed, feed(17)) ? { feed: e.feed, checkpoint: checkpoint(500) } : e)
  const notGiven = { feed: feed(18), checkpoint: checkpoint(700) }
  await state.setOpenRecord({ views, settled: [...given, notGiven], unsettled: [feed(3 * 256 + 1)] }, bit)
  await state.close()
  state = new NodeState(dir)
  await state.ready()
  const read = await state.openRecord()
  if (read === null) return t.fail('the record reads back after the partial write')
  const at = (i: number): number | undefined => read.settled.find((e) => b4a.equals(e.feed, feed(i)))?.checkpoint.position
  t.is(read.settled.length, 999, 'every feed of the other shards, and shard 1 as given')
  t.is(at(17), 500, 'the given shard holds its new entries')
  t.is(at(33), undefined, 'and not the feed it left out')
  t.is(at(18), 18, 'a shard not given is as on disk, whatever was passed for it')
  t.is(at(2), 2)
  t.alike(read.unsettled, [feed(3 * 256 + 1)], 'the given shard\'s unsettled feed')
  t.is(ALL_SHARDS, 0xffff, 'sixteen shards')
})

test('open path – a close after opening one closed feed of many lists and writes that feed\'s shard only; the next open leaves all closed', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const feeds = Array.from({ length: 40 }, () => randomKey() as FeedKey)
  for (const f of feeds) await b.addFeed(f)
  await b.close()
  const calls: Array<{ record: OpenRecord | null, shards: number }> = []
  const proto = NodeState.prototype as unknown as { setOpenRecord: (this: NodeState, record: OpenRecord | null, shards?: number) => Promise<void> }
  const orig = proto.setOpenRecord
  proto.setOpenRecord = function (record, shards = ALL_SHARDS) { calls.push({ record, shards }); return orig.call(this, record, shards) }
  t.teardown(() => { proto.setOpenRecord = orig })

  const open = async (): Promise<Shoal> => { const s = new Shoal(dir); t.teardown(() => s.close(), { order: 1 }); await s.ready(); return s }
  let s = await open()
  t.is(s.trackedCores().length, 0, 'every feed left closed')
  await s.openFeed(feeds[7])
  t.is(s.trackedCores().length, 1, 'one opened')
  calls.length = 0
  await s.close()
  const close = calls.find((c) => c.record !== null)
  const sameShard = feeds.filter((f) => shardBit(f) === shardBit(feeds[7])).length
  t.is(close?.shards, shardBit(feeds[7]), 'the close names the opened feed\'s shard only')
  t.is((close?.record?.settled.length ?? 0) + (close?.record?.unsettled.length ?? 0), sameShard, `and lists the ${sameShard} feed(s) of that shard, not all 40`)

  s = await open()
  t.is(s.trackedFeeds.length, 40, 'every feed still tracked')
  t.is(s.trackedCores().length, 0, 'none opened, the one opened last time included')
  calls.length = 0
  await s.close()
  const idle = calls.find((c) => c.record !== null)
  t.is(idle?.shards, 0, 'a close that opened nothing lists no shard')
  t.is(idle?.record?.settled.length, 0)

  s = await open()
  const added = randomKey() as FeedKey
  await s.addFeed(added)
  calls.length = 0
  await s.close()
  t.is(calls.find((c) => c.record !== null)?.shards, shardBit(added), 'a newly tracked feed: its shard')
  s = await open()
  t.is(s.trackedFeeds.length, 41, 'and it is recorded')
  t.is(s.trackedCores().length, 0, 'settled, left closed')
})

test('open path – an open record written whole by an older version (one row) is read, and the next close writes it in shards', async (t) => {
  const dir = await t.tmp()
  let state = new NodeState(dir)
  await state.ready()
  t.teardown(() => state.close())
  const views = b4a.alloc(16, 3)
  const feeds = Array.from({ length: 40 }, (_, i) => b4a.alloc(32, i) as FeedKey)
  const entry = { preencode (s: c.State, v: FeedKey) { c.fixed32.preencode(s, v); checkpointEnc.preencode(s, cp) }, encode (s: c.State, v: FeedKey) { c.fixed32.encode(s, v); checkpointEnc.encode(s, cp) }, decode (): never { throw new Error('unused') } }
  const cp = { position: 5, messages: 4, malformed: 0, unknown: 0, clock: 1_700_000_000_000 }
  const v1 = { preencode (s: c.State): void { c.uint.preencode(s, 1); c.buffer.preencode(s, views); c.array(entry).preencode(s, feeds); c.array(c.fixed32).preencode(s, [feeds[0]]) }, encode (s: c.State): void { c.uint.encode(s, 1); c.buffer.encode(s, views); c.array(entry).encode(s, feeds); c.array(c.fixed32).encode(s, [feeds[0]]) }, decode (): never { throw new Error('unused') } }
  await state.writeRaw([[b4a.from([0x09]), c.encode(v1, null)]])
  const read = await state.openRecord()
  t.is(read?.settled.length, 40, 'the one-row record reads')
  t.alike(read?.unsettled, [feeds[0]])
  t.alike({ ...read?.settled[7].checkpoint }, cp)
  await state.setOpenRecord(null)
  await state.setOpenRecord({ views, settled: read?.settled ?? [], unsettled: [] })
  await state.close()
  state = new NodeState(dir)
  await state.ready()
  const again = await state.openRecord()
  t.is(again?.settled.length, 40, 'rewritten in shards: every feed')
  t.alike(again?.unsettled, [])
})
