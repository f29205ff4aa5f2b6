import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord, type FeedRecord, type ReactionRecord } from '../src/feeds/schema.js'
import type { FeedKey, IdentityKey, MessageRef } from '../src/ids.js'
import { Indexer } from '../src/views/indexer.js'
import { keys } from '../src/views/keys.js'
import { count, decode } from '../src/views/records.js'
import { ViewDb } from '../src/views/view-db.js'

const PROTO_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__']

test('views – reactions named like Object.prototype members are counted like any other', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  const p = await a.post({ text: 'react to me' })
  await syncFeed(b, a)
  for (const e of PROTO_NAMES) await b.react(p, e)
  for (const e of PROTO_NAMES) await a.react(p, e)
  await a.react(p, 'toString', { remove: true })
  await syncFeed(a, b)
  await syncFeed(b, a)
  for (const [who, node] of [['alice', a], ['bob', b]] as const) {
    const { reactions } = (await node.timeline({ author: a.identity })).items[0]
    t.alike(Object.keys(reactions).sort(), [...PROTO_NAMES].sort(), `${who}: every emoji is an own key`)
    for (const e of PROTO_NAMES) t.is(Object.getOwnPropertyDescriptor(reactions, e)?.value, e === 'toString' ? 1 : 2, `${who}: ${e} counted`)
    t.is(Object.getPrototypeOf(reactions), Object.prototype, `${who}: an ordinary object (no prototype was replaced)`)
    t.is(JSON.parse(JSON.stringify(reactions)).__proto__, 2, `${who}: survives JSON (what the API sends)`)
  }
})

/** Appends a feed of `n` distinct reactions on one post, by a fresh identity, into `core`. */
async function writeReactionBacklog (core: Hypercore, n: number): Promise<void> {
  const identity = keyPairFromSeed(createSeed())
  const now = Date.now() - 3_600_000
  const key = core.key as FeedKey
  const target: MessageRef = { feed: key, seq: 1 }
  const recs: FeedRecord[] = [
    createHeader(identity, key, 'backlog', now),
    { type: 'post', timestamp: now, text: 'the target', root: null, parent: null, cw: null, mentions: [] }
  ]
  for (let i = 0; i < n; i++) recs.push({ type: 'reaction', timestamp: now + i, target, emoji: `r${i}`, remove: false })
  await core.append(recs.map(encodeRecord))
}

test('views – my own post is indexed at once while a large remote backlog is being indexed', async (t) => {
  const b = await createPeer(t, { name: 'bob' })
  const backlog = b.store.get({ name: 'someone-elses-backlog' })
  await backlog.ready()
  t.teardown(() => backlog.close(), { order: 0 })
  await writeReactionBacklog(backlog, 10_000)
  const length = backlog.length

  await b.addFeed(backlog.key as FeedKey)
  const mine = await b.post({ text: 'mine, now' })
  const core = b.core(backlog.key as Uint8Array)
  t.ok(core !== null)
  t.is((await b.timeline()).items[0]?.text, 'mine, now', 'my post is in my timeline as soon as post() returns')
  const remaining = b.totals().messages
  t.ok(remaining < length, `the backlog was still being indexed (${remaining} of ${length} records done)`)
  t.ok(mine.seq > 0)

  await b.waitForIndexed(backlog.key as Uint8Array, length)
  const author = await b.views.identityOf(backlog.key as Uint8Array)
  t.ok(author !== null)
  const [target] = (await b.timeline({ author: author! })).items
  t.is(target.text, 'the target')
  t.is(Object.keys(target.reactions).length, 100, 'a post shows 100 kinds of reaction at most')

  // The most used kind shows, wherever its name sorts among 10,000 others.
  const ref: MessageRef = { feed: backlog.key as FeedKey, seq: 1 }
  await b.react(ref, 'r5000-popular')
  await backlog.append(encodeRecord({ type: 'reaction', timestamp: Date.now(), target: ref, emoji: 'r5000-popular', remove: false }))
  await b.waitForIndexed(backlog.key as Uint8Array, backlog.length)
  const [again] = (await b.timeline({ author: author! })).items
  t.is(Object.keys(again.reactions)[0], 'r5000-popular', 'the most used kind comes first')
  t.is(again.reactions['r5000-popular'], 2)
})

test('views – reaction counts stay right past 32 kinds and back (the one-row summary gives way to ranked rows)', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  const p = await a.post({ text: 'many kinds' })
  await syncFeed(b, a)
  const kinds = Array.from({ length: 40 }, (_, i) => `k${i}`)
  for (const k of kinds) await b.react(p, k)
  await a.react(p, 'k7')
  const shown = async (): Promise<Record<string, number>> => (await a.timeline({ author: a.identity })).items[0].reactions
  await syncFeed(a, b)
  const many = await shown()
  t.is(Object.keys(many).length, 40)
  t.is(many.k7, 2)
  t.is(Object.keys(many)[0], 'k7', 'most used first')
  for (const k of kinds.slice(3)) await b.react(p, k, { remove: true })
  await syncFeed(a, b)
  t.alike(await shown(), { k0: 1, k1: 1, k2: 1, k7: 1 }, 'back to four kinds')
  const before = await shown()
  await a.reindex()
  t.alike(Object.entries(await shown()), Object.entries(before), 'a rebuild shows the same counts in the same order')
})

test('views – an edit stays shown as reactions come and go (its mark on the summary row outlives the counts); a stranger\'s edit never shows', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  const p = await a.post({ text: 'original' })
  const q = await a.post({ text: 'second' })
  const shown = async (): Promise<Array<[string, boolean, Record<string, number>]>> =>
    (await a.timeline({ author: a.identity })).items.map((i) => [i.text, i.edited, i.reactions])
  await syncFeed(b, a)
  await b.react(p, '👍')
  await syncFeed(a, b)
  // A stranger's feed with an edit of alice's post (a node refuses to write one: NOT_OWN_MESSAGE):
  // kept as the stranger's edit, it marks q's summary row but never shows.
  const stranger = a.store.get({ name: 'a-strangers-feed' })
  await stranger.ready()
  t.teardown(() => stranger.close(), { order: 0 })
  const now = Date.now()
  await stranger.append([
    createHeader(keyPairFromSeed(createSeed()), stranger.key as FeedKey, 'stranger', now),
    { type: 'edit' as const, timestamp: now, target: q, text: 'hijacked' }
  ].map(encodeRecord))
  await a.addFeed(stranger.key as FeedKey)
  await a.waitForIndexed(stranger.key as Uint8Array, stranger.length)
  t.ok(await a.views.identityOf(stranger.key as Uint8Array) !== null, 'the stranger\'s feed is indexed')
  await a.edit(p, 'edited')
  t.alike(await shown(), [['second', false, {}], ['edited', true, { '👍': 1 }]], 'edited with a reaction; the stranger\'s edit is not shown')
  await b.react(p, '👍', { remove: true })
  await syncFeed(a, b)
  t.alike(await shown(), [['second', false, {}], ['edited', true, {}]], 'the last reaction gone: still edited')
  for (const k of Array.from({ length: 40 }, (_, i) => `k${i}`)) await b.react(p, k)
  await syncFeed(a, b)
  const many = await shown()
  t.is(Object.keys(many[1][2]).length, 40, 'past 32 kinds')
  t.alike(many[1].slice(0, 2), ['edited', true], 'past 32 kinds: still edited')
  await a.edit(p, 'edited twice')
  t.alike((await shown())[1].slice(0, 2), ['edited twice', true], 'an edit past 32 kinds shows')
  await a.reindex()
  t.alike((await shown()).map((i) => i.slice(0, 2)), [['second', false], ['edited twice', true]], 'a rebuild agrees')
})

// An identity's reactor row is read only when it may exist: when they have taken a reaction back
// somewhere, or someone's reaction of that kind is on. A remove from one device (newer) must beat
// an add from another (older) whichever is indexed first, and a second add never counts twice.
test('views – a reaction taken back on one device beats an older add on another, in either order; adds count once', async (t) => {
  const identity = keyPairFromSeed(createSeed())
  const me = keyPairFromSeed(createSeed()).publicKey
  const now = Date.now() - 3_600_000
  const target: MessageRef = { feed: b4a.alloc(32, 7) as FeedKey, seq: 1 }
  const store = new Corestore(await t.tmp())
  t.teardown(() => store.close())
  async function feed (name: string, recs: Array<Omit<ReactionRecord, 'type' | 'target'>>): Promise<Hypercore> {
    const core = store.get({ name })
    await core.ready()
    const key = core.key as FeedKey
    await core.append([createHeader(identity, key, name, now), ...recs.map((r) => ({ type: 'reaction' as const, target, ...r }))].map(encodeRecord))
    return core
  }
  const adds = await feed('adds', [{ timestamp: now + 2, emoji: '👍', remove: false }, { timestamp: now + 4, emoji: '👋', remove: false }, { timestamp: now + 5, emoji: '👋', remove: false }])
  const removes = await feed('removes', [{ timestamp: now + 3, emoji: '👍', remove: true }])
  const again = await feed('again', [{ timestamp: now + 6, emoji: '👋', remove: false }])
  for (const order of [[removes, adds, again], [adds, again, removes], [again, adds, removes]]) {
    const db = new ViewDb(await t.tmp())
    await db.ready()
    const indexer = new Indexer(db, { me: me as IdentityKey })
    for (const core of order) {
      await indexer.add(core)
      await indexer.waitFor(core.key as Uint8Array, core.length)
    }
    const [thumbs, wave] = await db.getMany([keys.reactionCount(target, '👍'), keys.reactionCount(target, '👋')])
    t.is(thumbs, null, `👍 taken back (order ${order.map((c) => c === adds ? 'adds' : c === removes ? 'removes' : 'again').join(', ')})`)
    t.is(wave === null ? 0 : decode(count, wave), 1, '👋 counted once')
    await indexer.close()
    await db.close()
  }
})

test('views – a chunk applied a group at a time gives the rows that one record per chunk gives (deletes, reactions, edits, follows across groups)', async (t) => {
  const identity = keyPairFromSeed(createSeed())
  const me = identity.publicKey as IdentityKey
  const now = Date.now() - 3_600_000
  const store = new Corestore(await t.tmp())
  t.teardown(() => store.close())
  const core = store.get({ name: 'mine' })
  await core.ready()
  const feed = core.key as FeedKey
  const first: MessageRef = { feed, seq: 1 }
  const others = [0, 1, 2].map(() => keyPairFromSeed(createSeed()).publicKey as IdentityKey)
  const recs: FeedRecord[] = [{ type: 'post', timestamp: now, text: 'first', root: null, parent: null, cw: null, mentions: [] }]
  for (let i = 0; i < 400; i++) {
    const timestamp = now + 1 + i
    const seq = i + 2
    switch (i % 10) {
      case 0: recs.push({ type: 'post', timestamp, text: `post ${i}`, root: null, parent: null, cw: null, mentions: [] }); break
      case 1: recs.push({ type: 'post', timestamp, text: `reply ${i}`, root: first, parent: first, cw: null, mentions: [me] }); break
      case 2: recs.push({ type: 'reaction', timestamp, target: first, emoji: `e${i % 7}`, remove: i % 20 === 12 }); break
      case 3: recs.push({ type: 'reaction', timestamp, target: first, emoji: '👍', remove: i % 30 === 13 }); break
      case 4: recs.push({ type: 'delete', timestamp, target: { feed, seq: seq + 66 } }); break // a post more than a group later
      case 5: recs.push({ type: 'edit', timestamp, target: i % 20 === 5 ? first : { feed, seq: seq - 5 }, text: `edit ${i}` }); break
      case 6: recs.push({ type: i % 20 === 6 ? 'follow' : 'unfollow', timestamp, target: others[i % 3] }); break
      case 7: recs.push({ type: 'post', timestamp, text: `reply ${i}`, root: { feed, seq: seq - 7 }, parent: { feed, seq: seq - 7 }, cw: null, mentions: [] }); break
      case 8: recs.push({ type: 'reaction', timestamp, target: first, emoji: `e${i % 7}`, remove: true }); break
      case 9: recs.push({ type: 'about', timestamp, name: `name ${i}`, bio: null }); break
    }
  }
  const blocks = [createHeader(identity, feed, 'mine', now), ...recs].map(encodeRecord)
  const rows = async (db: ViewDb): Promise<string[]> => {
    const r = await db.entriesIn({ gte: b4a.from([0]), lt: b4a.from([0xff]) })
    return r.keys.map((k, i) => b4a.toString(k, 'hex') + '=' + b4a.toString(r.values[i], 'hex'))
  }
  // One record per chunk: each appended block is indexed before the next is appended.
  const one = new ViewDb(await t.tmp())
  await one.ready()
  const oneIndexer = new Indexer(one, { me })
  await oneIndexer.add(core)
  for (const block of blocks) {
    await core.append(block)
    await oneIndexer.waitFor(feed, core.length)
  }
  await oneIndexer.close()
  const each = await rows(one)
  await one.close()
  // The whole feed in one chunk, applied a group at a time.
  const all = new ViewDb(await t.tmp())
  await all.ready()
  const allIndexer = new Indexer(all, { me })
  await allIndexer.add(core)
  await allIndexer.waitFor(feed, core.length)
  await allIndexer.close()
  const grouped = await rows(all)
  await all.close()
  t.ok(each.length > 400, `${each.length} rows`)
  t.alike(grouped, each, 'the same rows, byte for byte')
})
