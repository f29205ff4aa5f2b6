import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord, type FeedRecord } from '../src/feeds/schema.js'
import type { FeedKey, IdentityKey, MessageRef } from '../src/ids.js'
import { Indexer } from '../src/views/indexer.js'
import { Views } from '../src/views/queries.js'
import { ReactionKinds } from '../src/views/reaction-kinds.js'
import { ViewDb } from '../src/views/view-db.js'

test('reaction kinds – a post is held from its overflow, grows with each kind added, and goes first-admitted-first past the cap', (t) => {
  const kinds = new ReactionKinds(5)
  kinds.added('p', 'a')
  t.is(kinds.absent('p', 'b'), false, 'a post not admitted tells nothing')
  kinds.admit('p', ['a', 'b'])
  t.is(kinds.absent('p', 'c'), true)
  t.is(kinds.absent('p', 'a'), false)
  kinds.added('p', 'c')
  kinds.added('p', 'c')
  t.is(kinds.absent('p', 'c'), false)
  t.is(kinds.size, 3, 'a kind added twice is held once')
  kinds.admit('q', ['x', 'y'])
  t.is(kinds.size, 5)
  kinds.added('q', 'z')
  t.is(kinds.absent('p', 'zz'), false, 'past the cap the first post admitted is let go')
  t.is(kinds.absent('q', 'w'), true, 'the post that grew is still held')
  t.is(kinds.size, 3)
  kinds.admit('r', ['1', '2', '3', '4', '5', '6'])
  t.is(kinds.absent('r', '7'), false, 'a post with more kinds than the cap is not held')
  t.is(kinds.absent('q', 'w'), true, 'nor does it push others out')
  kinds.admit('q', ['x'])
  t.is(kinds.absent('q', 'y'), true, 'a second overflow replaces the set')
  t.is(kinds.size, 1)
  kinds.clear()
  t.is(kinds.size, 0)
  t.is(kinds.absent('q', 'y'), false)
  t.is(new ReactionKinds(0).absent('p', 'a'), false)
  const none = new ReactionKinds(0)
  none.admit('p', ['a'])
  t.is(none.absent('p', 'b'), false, 'a cap of 0 holds nothing')
})

/** One feed per author: a header and `recs`. */
async function writeFeed (store: Corestore, name: string, recs: (feed: FeedKey) => FeedRecord[], t0: number): Promise<{ core: Hypercore, identity: IdentityKey }> {
  const id = keyPairFromSeed(createSeed())
  const core = store.get({ name })
  await core.ready()
  const feed = core.key as FeedKey
  await core.append([createHeader(id, feed, name, t0), ...recs(feed)].map(encodeRecord))
  return { core, identity: id.publicKey as IdentityKey }
}

/** A feed of one post to react to (at `t0`), and that post's ref. */
async function postFeed (store: Corestore, t0: number): Promise<{ core: Hypercore, target: MessageRef }> {
  const { core } = await writeFeed(store, 'author', () => [{ type: 'post', timestamp: t0, text: 'react to me', root: null, parent: null, cw: null, mentions: [] }], t0)
  return { core, target: { feed: core.key as FeedKey, seq: 1 } }
}

/** A store closed at teardown, my identity, a start an hour ago, and a post to react to (its feed, `author`). */
async function postToReactTo (t: { tmp: () => Promise<string>, teardown: (fn: () => Promise<void>) => void }): Promise<{ store: Corestore, me: IdentityKey, t0: number, author: Hypercore, target: MessageRef }> {
  const store = new Corestore(await t.tmp())
  t.teardown(() => store.close())
  const t0 = Date.now() - 3_600_000
  const { core, target } = await postFeed(store, t0)
  return { store, me: keyPairFromSeed(createSeed()).publicKey as IdentityKey, t0, author: core, target }
}

async function indexAll (db: ViewDb, me: IdentityKey, cores: Hypercore[]): Promise<void> {
  const indexer = new Indexer(db, { me })
  for (const core of cores) await indexer.add(core)
  for (const core of cores) await indexer.waitFor(core.key as Uint8Array, core.length)
  await indexer.close()
}

async function rows (db: ViewDb): Promise<string[]> {
  const r = await db.entriesIn({ gte: b4a.from([0]), lt: b4a.from([0xff]) })
  return r.keys.map((k, i) => b4a.toString(k, 'hex') + '=' + b4a.toString(r.values[i], 'hex'))
}

/** Indexes `cores` into a fresh database (`opts`: ViewDb's) and returns its rows, what `target` shows and the rows read. */
async function indexed (t: { tmp: () => Promise<string> }, me: IdentityKey, cores: Hypercore[], target: MessageRef, opts: { reactionKinds?: number } = {}): Promise<{ rows: string[], shown: Array<[string, number]>, gets: number }> {
  const db = new ViewDb(await t.tmp(), opts)
  await db.ready()
  try {
    await indexAll(db, me, cores)
    const items = await new Views(db, me).itemsOf([target])
    return { rows: await rows(db), shown: Object.entries(items[0].reactions), gets: db.stats.gets }
  } finally {
    await db.close()
  }
}

test('reaction kinds – a reaction of a kind new to a post past 32 kinds reads no row, and gives the rows it gives with nothing held', async (t) => {
  const { store, me, t0, author, target } = await postToReactTo(t)
  const reactor = await writeFeed(store, 'reactor', () => Array.from({ length: 1200 }, (_, i): FeedRecord => ({ type: 'reaction', timestamp: t0 + 1 + i, target, emoji: `kind ${i}`, remove: false })), t0)
  const cores = [author, reactor.core]
  const held = await indexed(t, me, cores, target)
  const none = await indexed(t, me, cores, target, { reactionKinds: 0 })
  t.ok(none.gets >= 1200 - 32, `with nothing held each new kind past 32 reads its count row (${none.gets} rows read)`)
  t.ok(held.gets < 40, `held, the 1,200 reactions read ${held.gets} rows`)
  t.alike(held.rows, none.rows, 'the same rows, byte for byte')
  t.is(held.shown.length, 100, 'the 100 most used kinds are shown')
  t.alike(held.shown, none.shown)
  // All have one reaction: the order is by emoji bytes, descending (as the ranked rows order ties).
  const expected = Array.from({ length: 1200 }, (_, i) => `kind ${i}`).sort((a, b) => b4a.compare(b4a.from(b), b4a.from(a))).slice(0, 100)
  t.alike(held.shown.map(([e]) => e), expected)
  t.ok(held.shown.every(([, n]) => n === 1))
})

test('reaction kinds – reactions that come and go on a post of 155 kinds give the same rows held, with nothing held, and across a restart; the counts shown are the model\'s', async (t) => {
  const { store, me, t0, author, target } = await postToReactTo(t)
  const pool = Array.from({ length: 155 }, (_, j) => j === 5 ? '__proto__' : j === 6 ? '👍' : `k${j}`)
  const REACTORS = 4
  const PER = 600
  // Each reactor's i-th record: a kind of its part of the pool (20, 65, 110 or 155 kinds), taken back
  // now and then and put back later, so that the counts around the 100th kind are 1 and 2.
  const recordsOf = (r: number, post: MessageRef): FeedRecord[] =>
    Array.from({ length: PER }, (_, i): FeedRecord => ({ type: 'reaction', timestamp: t0 + 1 + i, target: post, emoji: pool[(i * 7 + r * 13 + (i >> 6) * r) % (20 + 45 * r)], remove: i % 5 === 4 }))
  // The model: each reactor's last word on each kind; a count is how many are on.
  const on = new Map<string, number>()
  for (let r = 0; r < REACTORS; r++) {
    const last = new Map<string, boolean>()
    for (const rec of recordsOf(r, target)) if (rec.type === 'reaction') last.set(rec.emoji, !rec.remove)
    for (const [e, isOn] of last) if (isOn) on.set(e, (on.get(e) ?? 0) + 1)
  }
  const model = [...on].sort((x, y) => y[1] - x[1] || b4a.compare(b4a.from(y[0]), b4a.from(x[0]))).slice(0, 100)
  t.ok(on.size > 100, `${on.size} kinds are on: more than are shown`)
  t.ok([...on.values()].some((n) => n >= 2) && [...on.values()].some((n) => n === 1), 'counts of one and of more')
  t.ok(model.some(([, n]) => n === 1) && on.size > model.length, 'some kinds with one reaction are shown, some are not')

  const reactors: Hypercore[] = []
  for (let r = 0; r < REACTORS; r++) reactors.push((await writeFeed(store, `reactor ${r}`, () => recordsOf(r, target), t0)).core)
  const cores = [author, ...reactors]
  const held = await indexed(t, me, cores, target)
  const none = await indexed(t, me, cores, target, { reactionKinds: 0 })
  t.alike(held.rows, none.rows, 'held or not, the same rows, byte for byte')
  t.alike(held.shown, model, 'the 100 most used kinds, most used first, ties by emoji bytes descending')
  t.alike(none.shown, model)

  // A restart between two halves: the post overflowed before the process started, so it is not held.
  const halves = new Corestore(await t.tmp())
  t.teardown(() => halves.close())
  const { core: halfAuthor, target: halfTarget } = await postFeed(halves, t0)
  const halfReactors: Hypercore[] = []
  for (let r = 0; r < REACTORS; r++) {
    const c = halves.get({ name: `reactor ${r}` })
    await c.ready()
    halfReactors.push(c)
  }
  // The copy of the post has another key: the reactions name it.
  const blocksOf = (r: number, from: number, to: number): Uint8Array[] => recordsOf(r, halfTarget).slice(from, to).map(encodeRecord)
  for (let r = 0; r < REACTORS; r++) {
    const id = keyPairFromSeed(createSeed())
    await halfReactors[r].append([encodeRecord(createHeader(id, halfReactors[r].key as FeedKey, `reactor ${r}`, t0)), ...blocksOf(r, 0, PER / 2)])
  }
  const dir = await t.tmp()
  const first = new ViewDb(dir)
  await first.ready()
  await indexAll(first, me, [halfAuthor, ...halfReactors])
  t.ok(first.reactionKinds.size > 32, 'the first half overflowed the summary and held the kinds')
  await first.close()
  for (let r = 0; r < REACTORS; r++) await halfReactors[r].append(blocksOf(r, PER / 2, PER))
  const second = new ViewDb(dir)
  await second.ready()
  await indexAll(second, me, [halfAuthor, ...halfReactors])
  t.is(second.reactionKinds.size, 0, 'a post overflowed before the restart is not held')
  const restarted = Object.entries((await new Views(second, me).itemsOf([halfTarget]))[0].reactions)
  await second.close()
  t.alike(restarted, model, 'after a restart, the same counts')
})
