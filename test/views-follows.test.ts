import test from 'brittle'
import type { Test } from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed, type IdentityKeyPair } from '../src/feeds/identity.js'
import { encodeRecord, type ContactRecord } from '../src/feeds/schema.js'
import type { FeedKey, IdentityKey } from '../src/ids.js'
import { Indexer } from '../src/views/indexer.js'
import { TAG, key, keys } from '../src/views/keys.js'
import { decode, storedContact, type StoredContact } from '../src/views/records.js'
import { ViewDb } from '../src/views/view-db.js'
import { Rng, seedFrom } from './helpers/rng.js'

const SEED = seedFrom('SHOAL_VIEWS_SEED')

// A follow or unfollow of an author whose only indexed device feed is its own, and who never
// wrote a block or unblock, writes its contact row without reading it (Applied.soleWriter). These
// tests index the same feeds in many orders and compare every derived row, byte for byte, with a
// reference in which one more device feed of the author (its header only) is indexed first: there
// no follow of theirs is ever written unread, so the reference holds what the read path gives.

const T0 = Date.now() - 3_600_000
const HEADER_ONLY = 'header only'

type Item = number | { type: ContactRecord['type'], ts: number, target: Uint8Array }

/**
 * A device feed of `identity` named `name` (its core's key comes from the name and PRIMARY_KEY, the
 * same in every run): block 0 its header, made once the key is known, then `records`.
 */
interface Device { name: string, identity: IdentityKeyPair, records: Uint8Array[], header: Uint8Array | null, key: FeedKey | null }

/** Every run's stores share one primary key, so a device's core has the same key in each. */
const PRIMARY_KEY = createSeed()

/**
 * `items`: contact records, or a number of follows of fresh identities (one ms apart). Times go
 * forward unless `backwards` (the indexer then holds each at the feed's clock).
 */
function device (identity: IdentityKeyPair, name: string, items: Item[], backwards = false): Device {
  const recs: ContactRecord[] = []
  let ts = T0
  for (const item of items) {
    if (typeof item === 'number') {
      for (let i = 0; i < item; i++) recs.push({ type: 'follow', timestamp: ++ts, target: keyPairFromSeed(createSeed()).publicKey })
      continue
    }
    if (item.ts < ts && !backwards) throw new Error('the items of one device go forward in time')
    ts = item.ts
    recs.push({ type: item.type, timestamp: ts, target: item.target as IdentityKey })
  }
  return { name, identity, records: recs.map(encodeRecord), header: null, key: null }
}

function lengthOf (d: Device): number {
  return d.records.length + 1
}

function headerOnly (identity: IdentityKeyPair): Device {
  return device(identity, `${HEADER_ONLY} ${b4a.toString(createSeed().subarray(0, 8), 'hex')}`, [])
}

/** How many blocks `items` make (no header). */
function blocksOf (items: Item[]): number {
  return items.reduce<number>((n, item) => n + (typeof item === 'number' ? item : 1), 0)
}

const c = (type: ContactRecord['type'], ts: number, target: Uint8Array): Item => ({ type, ts: T0 + ts, target })

/** One indexing: a fresh store (the devices' cores named under PRIMARY_KEY) and a fresh views database. */
class Run {
  readonly cores = new Map<Device, Hypercore>()
  private constructor (readonly store: Corestore, readonly db: ViewDb, readonly indexer: Indexer) {}

  static async open (t: Test, me: IdentityKey): Promise<Run> {
    const store = new Corestore(await t.tmp(), { primaryKey: PRIMARY_KEY, unsafe: true })
    const db = new ViewDb(await t.tmp())
    await db.ready()
    const indexer = new Indexer(db, { me })
    t.teardown(async () => {
      await indexer.close()
      await db.close()
      await store.close()
    })
    return new Run(store, db, indexer)
  }

  async core (d: Device): Promise<Hypercore> {
    let core = this.cores.get(d)
    if (core === undefined) {
      core = this.store.get({ name: d.name })
      await core.ready()
      this.cores.set(d, core)
      d.key = core.key as FeedKey
      d.header ??= encodeRecord(createHeader(d.identity, d.key, d.name, T0))
    }
    return core
  }

  /** Appends `d`'s blocks up to `upTo` (all by default) in one append, then waits for them to be indexed: one chunk or more. */
  async index (d: Device, upTo = lengthOf(d)): Promise<void> {
    const core = await this.core(d)
    if (core.length < upTo) await core.append(blocks(d).slice(core.length, upTo))
    await this.indexer.add(core)
    await this.indexer.waitFor(core.key as Uint8Array, upTo)
  }

  /** Appends every block of each device at once and indexes them together (their chunks take turns). */
  async together (devices: Device[]): Promise<void> {
    const cores = await Promise.all(devices.map(async (d) => {
      const core = await this.core(d)
      await core.append(blocks(d).slice(core.length))
      return core
    }))
    await Promise.all(cores.map((core) => this.indexer.add(core)))
    for (const core of cores) await this.indexer.waitFor(core.key as Uint8Array, core.length)
  }

  /** Every derived row, as hex, leaving out the rows of the header-only feeds (their feed key is in the row's key). */
  async rows (leaveOut: Device[] = []): Promise<string[]> {
    const r = await this.db.entriesIn({ gte: b4a.from([0x10]), lt: b4a.from([0xff]) })
    const out = r.keys.map((k, i) => b4a.toString(k, 'hex') + '=' + b4a.toString(r.values[i], 'hex'))
    const feeds = leaveOut.map((d) => b4a.toString(d.key as FeedKey, 'hex'))
    return out.filter((row) => !feeds.some((f) => row.split('=')[0].includes(f)))
  }

  async contact (from: Uint8Array, to: Uint8Array): Promise<StoredContact | null> {
    const raw = await this.db.get(keys.contact(from, to))
    return raw === null ? null : decode(storedContact, raw)
  }
}

function blocks (d: Device): Uint8Array[] {
  return [d.header as Uint8Array, ...d.records]
}

function ids (n: number): IdentityKey[] {
  return Array.from({ length: n }, () => keyPairFromSeed(createSeed()).publicKey)
}

test('views – follows of three devices of one author (conflicting follows and unfollows on two, blocks on the third): every indexing order gives the read path\'s rows', async (t) => {
  const me = keyPairFromSeed(createSeed()).publicKey
  const author = keyPairFromSeed(createSeed())
  const [target, target2, blocked, followedBack, unblocked] = ids(5)
  const shared = ids(60)
  // Each device more than one chunk (512 records); the records that disagree sit on both sides of chunk and step boundaries.
  const a = device(author, 'laptop', [
    ...shared.map((s, i) => c('follow', 1 + i, s)), // older than the phone's unfollows of half of them
    200,
    c('follow', 20_000, target),
    150,
    c('unfollow', 40_000, target), // the last word on target
    100,
    c('follow', 42_000, target2), // loses to the phone's later unfollow
    100,
    c('follow', 60_000, blocked), // the tablet's block stays
    c('unfollow', 61_000, followedBack)
  ])
  const b = device(author, 'phone', [
    250,
    c('follow', 20_000, target2),
    c('unfollow', 30_000, target), // older than the laptop's unfollow, newer than its follow
    c('follow', 35_000, target),
    ...shared.slice(0, 30).map((s, i) => c('unfollow', 35_001 + i, s)),
    200,
    c('unfollow', 45_000, target2),
    c('follow', 50_000, followedBack),
    100
  ])
  // Blocks on a third device: until it is indexed, only the device rows keep a follow from being written unread.
  const tablet = device(author, 'tablet', [c('block', 10_000, blocked), c('unblock', 51_000, unblocked)])
  t.ok(lengthOf(a) > 512 && lengthOf(b) > 512, 'the laptop and phone feeds are more than one chunk each')
  const third = headerOnly(author)

  const reference = await Run.open(t, me)
  await reference.index(third)
  await reference.index(a)
  await reference.index(b)
  await reference.index(tablet)
  const expected = await reference.rows([third])

  // What the read path gives, checked against the records themselves.
  t.is((await reference.contact(author.publicKey, target))?.following, false, 'target: the laptop\'s unfollow is the newest')
  t.is((await reference.contact(author.publicKey, target2))?.following, false, 'target2: the phone\'s unfollow is the newest')
  const both = await reference.contact(author.publicKey, blocked)
  t.alike([both?.following, both?.blocking], [true, true], 'blocked: the laptop\'s follow keeps the tablet\'s block')
  t.is((await reference.contact(author.publicKey, followedBack))?.following, false, 'followedBack: the laptop\'s unfollow is the newest')
  const un = await reference.contact(author.publicKey, unblocked)
  t.alike([un?.blocking, un?.blockStamp !== null], [false, true], 'unblocked: an unblock register with its stamp')
  t.alike((await Promise.all(shared.map(async (s) => (await reference.contact(author.publicKey, s))?.following))), shared.map((_, i) => i >= 30), 'the phone\'s unfollows beat the laptop\'s older follows')

  const orders: Array<[string, (run: Run) => Promise<void>]> = [
    ['laptop, phone, tablet', async (run) => { await run.index(a); await run.index(b); await run.index(tablet) }],
    ['phone, laptop, tablet', async (run) => { await run.index(b); await run.index(a); await run.index(tablet) }],
    ['tablet, laptop, phone', async (run) => { await run.index(tablet); await run.index(a); await run.index(b) }],
    ['by steps: laptop, phone, laptop, phone, tablet', async (run) => { await run.index(a, 300); await run.index(b, 300); await run.index(a); await run.index(b); await run.index(tablet) }],
    ['by steps: phone, laptop, phone, laptop, tablet', async (run) => { await run.index(b, 200); await run.index(a, 250); await run.index(b); await run.index(a); await run.index(tablet) }],
    ['by steps, the block between: laptop, tablet, phone, laptop', async (run) => { await run.index(a, 450); await run.index(tablet); await run.index(b); await run.index(a) }],
    ['laptop and phone at once (their chunks take turns), then tablet', async (run) => { await run.together([a, b]); await run.index(tablet) }],
    ['all three at once', async (run) => { await run.together([a, b, tablet]) }]
  ]
  for (const [name, order] of orders) {
    const run = await Run.open(t, me)
    await order(run)
    t.alike(await run.rows(), expected, `${name}: the same rows, byte for byte`)
  }
})

test('views – follows of an author with one device: a block or unblock before them (same group, a group before, a chunk before) keeps its register; unfollow of no one, follow twice, follow after unfollow in one group', async (t) => {
  const me = keyPairFromSeed(createSeed()).publicKey
  const author = keyPairFromSeed(createSeed())
  const [never, twice, again, sameGroup, groupBefore, chunkBefore, unblockedThenFollowed] = ids(7)
  const first: Item[] = [
    c('unfollow', 1_000, never),
    c('follow', 1_001, twice),
    c('follow', 1_002, twice),
    c('follow', 1_003, again),
    c('unfollow', 1_004, again),
    c('follow', 1_005, again),
    10,
    c('block', 2_000, sameGroup),
    c('follow', 2_001, sameGroup),
    100,
    c('unblock', 3_000, unblockedThenFollowed),
    c('block', 3_001, groupBefore),
    70, // the next record is in a later group of the same chunk
    c('follow', 4_000, groupBefore),
    c('follow', 4_001, unblockedThenFollowed),
    c('block', 5_000, chunkBefore)
  ]
  const all = device(author, 'only', [...first, c('follow', 6_000, chunkBefore), 5])
  const split = 1 + blocksOf(first)
  const third = headerOnly(author)

  const reference = await Run.open(t, me)
  await reference.index(third)
  await reference.index(all, split)
  await reference.index(all)
  const expected = await reference.rows([third])
  for (const [target, name] of [[sameGroup, 'same group'], [groupBefore, 'a group before'], [chunkBefore, 'a chunk before']] as const) {
    const row = await reference.contact(author.publicKey, target)
    t.alike([row?.following, row?.blocking], [true, true], `a block ${name}: followed and blocked`)
  }
  const un = await reference.contact(author.publicKey, unblockedThenFollowed)
  t.alike([un?.following, un?.blocking, un?.blockStamp !== null], [true, false, true], 'an unblock before the follow keeps its stamp')
  t.alike([(await reference.contact(author.publicKey, never))?.following, (await reference.contact(author.publicKey, twice))?.following, (await reference.contact(author.publicKey, again))?.following], [false, true, true], 'unfollow of no one, follow twice, follow after unfollow')

  const run = await Run.open(t, me)
  await run.index(all, split) // the block of chunkBefore is committed before its follow is indexed
  await run.index(all)
  t.alike(await run.rows(), expected, 'one device, written unread where it may: the same rows, byte for byte')
  t.ok(await run.db.get(keys.blocker(author.publicKey)) !== null, 'the author\'s blocker row is written')
})

test('views – an author\'s blocker row survives a reindex, goes with a purge (my block) and comes back with the unblock; a follow after each keeps the block', async (t) => {
  const identity = keyPairFromSeed(createSeed())
  const me = identity.publicKey
  const author = keyPairFromSeed(createSeed())
  const [x] = ids(1)
  const first: Item[] = [20, c('block', 1_000, x), 20]
  const full = device(author, 'only', [...first, c('follow', 2_000, x)])
  const mine = device(identity, 'mine', [c('block', 10_000, author.publicKey), c('unblock', 11_000, author.publicKey)])

  const run = await Run.open(t, me)
  await run.index(full, 1 + blocksOf(first))
  const before = await run.rows()
  await run.indexer.reindex()
  t.alike(await run.rows(), before, 'a reindex gives the same rows')
  t.ok(await run.db.get(keys.blocker(author.publicKey)) !== null, 'the blocker row is written again by the reindex')
  await run.index(full) // one follow of x, in a chunk of its own after the reindex
  const row = await run.contact(author.publicKey, x)
  t.alike([row?.following, row?.blocking], [true, true], 'a follow after the reindex keeps the block')

  const authorRows = async (): Promise<string[]> => (await run.rows()).filter((r) => r.startsWith(b4a.toString(key(TAG.contact, author.publicKey), 'hex')) || r.startsWith(b4a.toString(key(TAG.follower, author.publicKey), 'hex')) || (r.startsWith(b4a.toString(b4a.from([TAG.contactReverse]), 'hex')) && r.split('=')[0].endsWith(b4a.toString(author.publicKey, 'hex'))))
  const kept = await authorRows()
  t.ok(kept.length > 40, `the author's contact, reverse and marker rows (${kept.length})`)
  await run.index(mine, 2) // my block of the author: their rows are purged
  t.is(await run.db.get(keys.blocker(author.publicKey)), null, 'the purge takes the blocker row')
  t.alike(await authorRows(), [], 'and every contact row of theirs')
  const core = await run.core(full)
  await run.index(mine) // my unblock: their feed is indexed again from block 0
  await run.indexer.waitFor(core.key as Uint8Array, core.length)
  t.alike(await authorRows(), kept, 'the unblock indexes the same rows again, the blocker row with them')
})

test('views – follows of an author with one device read no row of their own (counted native reads); with a second device they read one each', async (t) => {
  const me = keyPairFromSeed(createSeed()).publicKey
  const author = keyPairFromSeed(createSeed())
  const n = 1000
  const d = device(author, 'only', [n])
  const reads = async (run: Run, dev: Device): Promise<{ gets: number, batches: number, scans: number }> => {
    const before = run.db.stats
    await run.index(dev)
    const after = run.db.stats
    return { gets: after.gets - before.gets, batches: after.readBatches - before.readBatches, scans: after.scans - before.scans }
  }
  const alone = await reads(await Run.open(t, me), d)
  // Per chunk (2 of 512): the author's blocker row and their device rows (a scan of at most 2); once:
  // the feed's checkpoint and header rows (add), my contact row of the author, whether a receipt is kept (a scan).
  t.alike([alone.gets, alone.scans], [2 + 2 + 1, 2 + 1], `${n} follows: ${alone.gets} rows read in ${alone.batches} batches and ${alone.scans} scans`)
  const run = await Run.open(t, me)
  await run.index(headerOnly(author))
  const two = await reads(run, d)
  t.ok(two.gets >= n, `with a second device of the author indexed: ${two.gets} rows read (one contact row per follow)`)
})

test(`views – follows: random contact histories of one to three devices of one author (clocks that jump back, self-targets), indexed in random steps and orders: the read path's rows (SHOAL_VIEWS_SEED=${SEED})`, async (t) => {
  const rng = new Rng(SEED)
  const me = keyPairFromSeed(createSeed()).publicKey
  const types: Array<ContactRecord['type']> = ['follow', 'follow', 'follow', 'unfollow', 'unfollow', 'block', 'unblock']
  for (let history = 0; history < 4; history++) {
    const author = keyPairFromSeed(createSeed())
    const targets = [...ids(5), author.publicKey]
    const devices = Array.from({ length: rng.range(1, 3) }, (_, d) => {
      const n = rng.range(100, 700)
      // Blocks and unblocks from a random record on, or never.
      const blocksFrom = rng.chance(0.5) ? n : rng.int(n)
      const items: Item[] = []
      let at = rng.int(1000)
      for (let i = 0; i < n; i++) {
        // Every device's clock spans about the same 20 s, so which record is newest is not which feed is longer.
        at = Math.max(0, at + (rng.chance(0.1) ? -rng.int(2000) : rng.int(Math.ceil(40_000 / n))))
        if (rng.chance(0.1)) { items.push(rng.range(1, 5)); continue }
        items.push(c(rng.pick(i >= blocksFrom ? types : types.slice(0, 5)), at, rng.pick(targets)))
      }
      return device(author, `${d} ${history} ${SEED}`, items, true)
    })
    const third = headerOnly(author)
    const reference = await Run.open(t, me)
    await reference.index(third)
    for (const d of devices) await reference.index(d)
    const expected = await reference.rows([third])

    for (let plan = 0; plan < 3; plan++) {
      // Each device indexed in 1-3 steps; the steps of all devices interleaved at random.
      const queues = devices.map((d) => {
        const cuts = Array.from({ length: rng.int(3) }, () => rng.range(1, lengthOf(d) - 1)).sort((x, y) => x - y)
        return [...cuts, lengthOf(d)].map((upTo) => ({ d, upTo }))
      })
      const steps: Array<{ d: Device, upTo: number }> = []
      while (queues.some((q) => q.length > 0)) steps.push((rng.pick(queues.filter((q) => q.length > 0)).shift()) as { d: Device, upTo: number })
      const run = await Run.open(t, me)
      for (const { d, upTo } of steps) await run.index(d, upTo)
      t.alike(await run.rows(), expected, `history ${history}, plan ${plan}: ${steps.map(({ d, upTo }) => `${d.name.split(' ')[0]}@${upTo}`).join(', ')}`)
      if (plan === 0) {
        await run.indexer.reindex()
        t.alike(await run.rows(), expected, `history ${history}, plan 0, then a reindex: the same rows`)
      }
    }
  }
})
