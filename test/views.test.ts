import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import { createPeer, openPeer, replicate, syncFeed } from './helpers/peers.js'
import { parseRef, refToString, identityToString, type FeedKey } from '../src/ids.js'
import { encodeRecord } from '../src/feeds/schema.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { VIEWS_VERSION } from '../src/caps.js'
import { META_VERSION } from '../src/views/keys.js'
import { ViewDb } from '../src/views/view-db.js'
import { storagePaths } from '../src/node/storage.js'

test('views – follower sees posts, profile name, edits, reactions across replication', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)

  const p1 = await a.post({ text: 'first post' })
  const p2 = await a.post({ text: 'second post', cw: 'spoilers' })
  await a.edit(p1, 'first post, edited')
  await b.follow(a.identity)
  await syncFeed(b, a)
  await b.react(p1, '👍')
  await syncFeed(a, b)
  await a.react(p1, '👍')
  await a.react(p1, '🎉')

  await syncFeed(b, a)
  const page = await b.timeline()
  t.alike(page.items.map((i) => i.text), ['second post', 'first post, edited'], 'newest first, edit shown')
  t.is(page.items[0].cw, 'spoilers')
  t.is(page.items[1].edited, true)
  t.is(page.items[0].edited, false)
  t.is(page.items[1].authorName, 'alice', 'author name from the profile')
  t.is(page.items[1].author, a.id, 'attributed to the identity, not the feed')
  t.alike(page.items[1].reactions, { '👍': 2, '🎉': 1 })
  t.is(page.items[1].id, refToString(p1))
  t.is(page.next, null)
  t.alike(page.items.map((i) => i.id), [refToString(p2), refToString(p1)])
})

test('views – home timeline holds me and whom I follow, not strangers', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  const c = await createPeer(t, { name: 'carol' })
  replicate(a, b, t)
  replicate(c, b, t)
  await a.post({ text: 'from alice' })
  await c.post({ text: 'from carol' })
  await b.post({ text: 'from bob' })
  await b.follow(a.identity)
  await syncFeed(b, a)
  await syncFeed(b, c)
  t.alike((await b.timeline()).items.map((i) => i.text).sort(), ['from alice', 'from bob'])
  t.alike((await b.timeline({ author: c.identity })).items.map((i) => i.text), ['from carol'], 'an author page shows anyone held')
  await b.unfollow(a.identity)
  t.alike((await b.timeline()).items.map((i) => i.text), ['from bob'], 'unfollow removes them from home')
})

test('views – cursor pagination walks the whole timeline exactly once', async (t) => {
  let clock = 1_700_000_000_000
  const a = await createPeer(t, { now: () => clock++ })
  const written: string[] = []
  for (let i = 0; i < 23; i++) written.push(refToString(await a.post({ text: `post ${i}` })))
  const seen: string[] = []
  let before: string | null = null
  let pages = 0
  do {
    const page = await a.timeline({ limit: 5, before })
    seen.push(...page.items.map((i) => i.id))
    before = page.next
    pages++
  } while (before !== null)
  t.is(pages, 5)
  t.alike(seen, written.reverse(), 'every post once, newest first')
  await t.exception(a.timeline({ before: 'not-a-cursor' }), /INVALID_ID/)
  await t.exception(a.timeline({ limit: 0 }), /INVALID_ARGUMENT/)
})

test('views – threads: root and every reply with its parent, stable order', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  const root = await a.post({ text: 'root' })
  await syncFeed(b, a)
  const r1 = await b.post({ text: 'reply 1', reply: root })
  const r2 = await b.post({ text: 'reply to reply 1', reply: r1 })
  await syncFeed(a, b)
  const r3 = await a.post({ text: 'reply 2', reply: root })
  await syncFeed(b, a)

  for (const node of [a, b]) {
    const th = await node.thread(root)
    t.is(th.root?.text, 'root')
    t.alike(th.replies.map((r) => r.text), ['reply 1', 'reply to reply 1', 'reply 2'])
    t.alike(th.replies.map((r) => r.id), [r1, r2, r3].map(refToString))
    t.alike(th.replies.map((r) => r.parent), [refToString(root), refToString(r1), refToString(root)])
    t.ok(th.replies.every((r) => r.root === refToString(root)), 'every reply names the root')
    const fromReply = await node.thread(r2)
    t.alike(fromReply, th, 'asking with a reply gives the whole thread')
  }
  await t.exception(a.thread(parseRef(refToString({ feed: b4a.alloc(32, 9) as FeedKey, seq: 4 }))), /UNKNOWN_MESSAGE/)
})

test('views – deletion removes the post everywhere', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  await b.follow(a.identity)
  const keep = await a.post({ text: 'keep me' })
  const gone = await a.post({ text: 'delete me @' + b.id })
  await syncFeed(b, a)
  t.is((await b.mentions()).items.length, 1, 'mention seen before deletion')
  await a.delete(gone)
  await syncFeed(b, a)
  t.alike((await b.timeline()).items.map((i) => i.id), [refToString(keep)])
  t.is((await b.mentions()).items.length, 0, 'mention gone with the post')
  await t.exception(b.thread(gone), /UNKNOWN_MESSAGE/)
  await t.exception(a.edit(gone, 'resurrect'), /UNKNOWN_MESSAGE/)

  const before = b.totals()
  t.alike(await b.reindex(), before, 'a rebuild counts the same')
  t.alike((await b.timeline()).items.map((i) => i.id), [refToString(keep)], 'and still shows no deleted post')
})

test('views – a deletion that arrives before its post (from another device) keeps the post out', async (t) => {
  const dir = await t.tmp()
  const { Shoal } = await import('../src/node/shoal.js')
  const first = await Shoal.init(dir, { name: 'alice' })
  const laptop = first.shoal
  t.teardown(() => laptop.close(), { order: 1 })
  const phone = await createPeer(t, { restore: first.phrase as string })
  const b = await createPeer(t, { name: 'bob' })
  replicate(laptop, phone, t)
  replicate(phone, b, t)
  await b.follow(laptop.identity)

  const gone = await laptop.post({ text: 'posted on the laptop @' + b.id })
  const kept = await laptop.post({ text: 'this one stays' })
  await syncFeed(phone, laptop)
  await phone.delete(gone)
  await syncFeed(b, phone)
  t.is(b.core(laptop.feedKey), null, 'B has not seen the laptop feed yet')

  replicate(laptop, b, t)
  await syncFeed(b, laptop)
  t.alike((await b.timeline()).items.map((i) => i.id), [refToString(kept)], 'the post deleted before it arrived never shows')
  t.is((await b.mentions()).items.length, 0, 'nor its mention')
  await t.exception(b.thread(gone), /UNKNOWN_MESSAGE/)
  t.is(await b.views.post(gone), null, 'its text is not stored in the views')
})

test('views – others cannot edit or delete my posts; their reactions count once each', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  const p = await a.post({ text: 'mine' })
  await syncFeed(b, a)
  await t.exception(b.edit(p, 'hijacked'), /NOT_OWN_MESSAGE/)
  await t.exception(b.delete(p), /NOT_OWN_MESSAGE/)
  await b.react(p, '❤️')
  await b.react(p, '❤️')
  await b.react(p, '🔥')
  await b.react(p, '🔥', { remove: true })
  await syncFeed(a, b)
  const [item] = (await a.timeline()).items
  t.is(item.text, 'mine')
  t.alike(item.reactions, { '❤️': 1 }, 'a repeated reaction counts once, a removed one not at all')
})

test('views – profile, graph hops and blocks', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  const c = await createPeer(t, { name: 'carol' })
  replicate(a, b, t)
  replicate(c, b, t)
  await a.setProfile({ bio: 'hello, I am alice' })
  await a.follow(c.identity)
  await c.follow(a.identity)
  await c.post({ text: 'carol speaks' })
  await b.follow(a.identity)
  await syncFeed(b, a)
  await syncFeed(b, c)

  const prof = await b.profile(a.identity)
  t.alike(prof, { id: a.id, name: 'alice', bio: 'hello, I am alice', following: 1, followers: 2 })
  const hops = await b.views.hops(2)
  t.is(hops.get(b4a.toString(b.identity, 'hex')), 0)
  t.is(hops.get(b4a.toString(a.identity, 'hex')), 1)
  t.is(hops.get(b4a.toString(c.identity, 'hex')), 2)
  t.is((await b.views.hops(1)).has(b4a.toString(c.identity, 'hex')), false, 'hop limit respected')

  await b.follow(c.identity)
  const p = (await b.timeline()).items.find((i) => i.text === 'carol speaks')
  t.ok(p, 'followed carol shows')
  await b.block(c.identity)
  t.absent((await b.timeline()).items.find((i) => i.author === c.id), 'blocked identity never shown')
  t.is((await b.timeline({ author: c.identity })).items.length, 0, 'not even on their author page')
  t.is((await b.views.hops(2)).has(b4a.toString(c.identity, 'hex')), false, 'blocked identity out of the graph')
  await b.unblock(c.identity)
  t.ok((await b.timeline()).items.find((i) => i.author === c.id), 'unblock brings them back (still followed)')
  await t.exception(b.follow(b.identity), /INVALID_ARGUMENT/)
})

test('views – mentions list posts that mention me', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  await a.post({ text: `hey @${b.id} look` })
  await a.post({ text: 'no mention here' })
  await a.post({ text: 'explicit', mentions: [b.identity] })
  await syncFeed(b, a)
  const m = await b.mentions()
  t.alike(m.items.map((i) => i.text), ['explicit', `hey @${b.id} look`])
  t.alike(m.items[0].mentions, [b.id])
})

test('views – a timestamp claimed in the future is clamped to when it was received', async (t) => {
  const future = Date.now() + 365 * 24 * 3600 * 1000
  const a = await createPeer(t, { now: () => future })
  const b = await createPeer(t)
  replicate(a, b, t)
  await b.follow(a.identity)
  await b.post({ text: 'now' })
  const before = Date.now()
  await a.post({ text: 'from the future' })
  await syncFeed(b, a)
  const items = (await b.timeline()).items
  const fut = items.find((i) => i.text === 'from the future')
  t.ok(fut && fut.timestamp <= Date.now() && fut.timestamp >= before, 'clamped to receive time')
  await b.reindex()
  t.alike((await b.timeline()).items, items, 'reindex keeps the clamped time')
})

test('views – restore from phrase: a second device feed attributed to the same identity', async (t) => {
  const dir = await t.tmp()
  const { Shoal } = await import('../src/node/shoal.js')
  const first = await Shoal.init(dir, { name: 'alice' })
  t.teardown(() => first.shoal.close(), { order: 1 })
  const a1 = first.shoal
  t.is(first.phrase?.split(' ').length, 24)
  const restored = await Shoal.init(await t.tmp(), { restore: first.phrase as string })
  t.teardown(() => restored.shoal.close(), { order: 1 })
  const a2 = restored.shoal
  t.is(restored.phrase, null, 'no phrase shown on restore')
  t.is(a2.id, a1.id, 'same identity')
  t.not(b4a.toString(a2.feedKey, 'hex'), b4a.toString(a1.feedKey, 'hex'), 'new device feed')

  const b = await createPeer(t)
  replicate(a1, b, t)
  replicate(a2, b, t)
  await b.follow(a1.identity)
  await a1.post({ text: 'from laptop' })
  await a2.post({ text: 'from phone' })
  await syncFeed(b, a1)
  await syncFeed(b, a2)
  const items = (await b.timeline()).items
  t.alike(items.map((i) => i.text).sort(), ['from laptop', 'from phone'])
  t.ok(items.every((i) => i.author === a1.id && i.authorName === 'alice'), 'both attributed to alice')
  t.is((await b.views.feedsOf(a1.identity)).length, 2, 'two device feeds known for alice')
  // The phone, once it holds the laptop's feed, may edit the laptop's post: same identity.
  replicate(a1, a2, t)
  await syncFeed(a2, a1)
  const laptopPost = parseRef(items.find((i) => i.text === 'from laptop')!.id)
  await t.execution(a2.edit(laptopPost, 'edited on phone'), 'an identity may edit its post from another device')
  await syncFeed(b, a2)
  t.ok((await b.timeline()).items.find((i) => i.text === 'edited on phone' && i.edited), 'edit from the other device shown')
})

test('views – identity: second init fails with IDENTITY_EXISTS and changes nothing; bad phrase creates nothing', async (t) => {
  const dir = await t.tmp()
  const { Shoal } = await import('../src/node/shoal.js')
  const { shoal } = await Shoal.init(dir, { name: 'alice' })
  const id = shoal.id
  await shoal.close()
  await t.exception(Shoal.init(dir, { name: 'mallory' }), /IDENTITY_EXISTS/)
  const again = await openPeer(t, dir)
  t.is(again.id, id)
  t.is((await again.profile()).name, 'alice')

  const empty = await t.tmp()
  await t.exception(Shoal.init(empty, { restore: 'abandon '.repeat(23) + 'zoo' }), /INVALID_PHRASE/)
  await t.exception(Shoal.init(empty, { restore: 'not a phrase' }), /INVALID_PHRASE/)
  await t.exception(new Shoal(empty).ready(), /NO_IDENTITY/)
})

test('views – a feed with malformed records: skipped, counted, the rest indexed', async (t) => {
  const b = await createPeer(t)
  const src = new Corestore(await t.tmp())
  t.teardown(() => src.close(), { order: 2 })
  const identity = keyPairFromSeed(createSeed())
  const core = src.get({ name: 'evil' })
  await core.ready()
  const now = Date.now()
  await core.append(encodeRecord(createHeader(identity, core.key as FeedKey, 'evil', now)))
  await core.append(encodeRecord({ type: 'post', timestamp: now, text: 'good one', root: null, parent: null, cw: null, mentions: [] }))
  await core.append(b4a.from([1, 1]))
  // Undefined flag bits (a block over the record cap never reaches the views: test/wire-caps.test.ts).
  await core.append(b4a.from([1, 1, 0, 0x10]))
  await core.append(b4a.from([99, 1, 5, 0]))
  await core.append(encodeRecord(createHeader(identity, core.key as FeedKey, 'dup', now)))
  await core.append(encodeRecord({ type: 'post', timestamp: now, text: 'good two', root: null, parent: null, cw: null, mentions: [] }))
  const s1 = src.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  t.teardown(() => { s1.destroy(); s2.destroy() })
  await b.follow(identity.publicKey)
  await b.addFeed(core.key as FeedKey)
  await b.waitForIndexed(core.key as Uint8Array, core.length)
  t.alike((await b.timeline()).items.map((i) => i.text), ['good two', 'good one'])
  const totals = b.totals()
  t.is(totals.malformed, 3, 'truncated, undefined flags and a second header counted as malformed')
  t.is(totals.unknown, 1, 'unknown type kept and skipped')

  // A feed whose header is signed by someone else is attributed to no one.
  const forged = src.get({ name: 'forged' })
  await forged.ready()
  const other = keyPairFromSeed(createSeed())
  const h = createHeader(other, core.key as FeedKey, 'forged', now)
  await forged.append(encodeRecord(h))
  await forged.append(encodeRecord({ type: 'post', timestamp: now, text: 'forged', root: null, parent: null, cw: null, mentions: [] }))
  await b.addFeed(forged.key as FeedKey)
  await b.waitForIndexed(forged.key as Uint8Array, 2)
  t.is(await b.views.identityOf(forged.key as Uint8Array), null)
  t.is(b.totals().malformed, 5)
})

test('views – reindex gives identical results; a views version bump rebuilds on open', async (t) => {
  const dir = await t.tmp()
  const { Shoal } = await import('../src/node/shoal.js')
  const { shoal: a } = await Shoal.init(dir, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  const root = await a.post({ text: 'root' })
  await syncFeed(b, a)
  await b.follow(a.identity)
  const r = await b.post({ text: 'reply @' + a.id, reply: root })
  await b.react(root, '👍')
  await syncFeed(a, b)
  await a.follow(b.identity)
  await a.edit(root, 'root v2')
  const del = await a.post({ text: 'temporary' })
  await a.delete(del)

  const snapshot = async (): Promise<unknown> => ({
    timeline: await a.timeline(),
    thread: await a.thread(r),
    mentions: await a.mentions(),
    me: await a.profile(),
    bob: await a.profile(b.identity),
    totals: a.totals()
  })
  const before = await snapshot()
  const totals = await a.reindex()
  t.alike(await snapshot(), before, 'identical after reindex')
  t.is(totals.messages, a.totals().messages)

  await a.close()
  const reopened = await openPeer(t, dir)
  t.alike((await reopened.timeline()).items, (before as { timeline: { items: unknown } }).timeline.items, 'persistent across restarts')
  await reopened.close()

  // An older views version on disk (and derived data that no longer matches): rebuilt on open.
  const db = new ViewDb(storagePaths(dir).views)
  await db.ready()
  await db.wipeDerived()
  const w = db.txn()
  w.put(META_VERSION, b4a.from([VIEWS_VERSION + 1]))
  await w.commit()
  await db.close()
  const rebuilt = await openPeer(t, dir)
  await rebuilt.indexed()
  t.alike((await rebuilt.timeline()).items, (before as { timeline: { items: unknown } }).timeline.items, 'views rebuilt after a version change')
  t.alike(rebuilt.totals(), totals, 'the same totals as the incremental index')
})

test('views – home timeline when few of the posts held are by people I follow', async (t) => {
  let clock = 1_700_000_000_000
  const now = (): number => clock++
  const a = await createPeer(t, { name: 'alice', now })
  const c = await createPeer(t, { name: 'carol', now })
  const b = await createPeer(t, { name: 'bob', now })
  replicate(a, b, t)
  replicate(c, b, t)
  const mine = []
  for (let i = 0; i < 3; i++) mine.push(refToString(await a.post({ text: `alice ${i}` })))
  for (let i = 0; i < 2500; i++) await c.post({ text: `carol ${i}` })
  await b.follow(a.identity)
  await syncFeed(b, a)
  await syncFeed(b, c)
  const first = await b.timeline({ limit: 2 })
  t.alike(first.items.map((i) => i.text), ['alice 2', 'alice 1'], 'older posts of the one I follow, past 2,500 newer ones')
  t.ok(first.next)
  const second = await b.timeline({ limit: 2, before: first.next })
  t.alike(second.items.map((i) => i.text), ['alice 0'])
  t.is(second.next, null)
  t.is((await b.timeline({ author: c.identity, limit: 1 })).items[0].text, 'carol 2499')
})

test('views – the hop walk reads the follows only of identities that follow someone: 300 follows who follow nobody cost no scan each', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  const c = await createPeer(t, { name: 'carol' })
  replicate(a, b, t)
  await a.follow(c.identity)
  await b.follow(a.identity)
  const quiet = Array.from({ length: 300 }, () => keyPairFromSeed(createSeed()).publicKey)
  for (const q of quiet) await b.follow(q)
  await syncFeed(b, a)
  const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

  // The walk as it was: every identity of the frontier's follows read, one scan each.
  const reference = async (maxHops: number): Promise<Map<string, number>> => {
    const dist = new Map<string, number>([[hex(b.identity), 0]])
    let frontier: Uint8Array[] = [b.identity]
    for (let hop = 1; hop <= maxHops; hop++) {
      const next: Uint8Array[] = []
      for (const id of frontier) {
        for (const f of await b.views.following(id)) {
          if (dist.has(hex(f))) continue
          dist.set(hex(f), hop)
          next.push(f)
        }
      }
      frontier = next
    }
    return dist
  }

  await b.views.hops(2) // my own follows are read once, then kept until they change
  const before = b.views.io()
  const hops = await b.views.hops(2)
  const scans = b.views.io().scans - before.scans
  t.is(hops.get(hex(c.identity)), 2, 'carol, followed by alice, is two hops away')
  t.is(hops.get(hex(quiet[0])), 1)
  t.is(hops.size, 1 + 1 + 300 + 1, 'me, alice, the 300, carol')
  t.alike([...hops].sort(), [...await reference(2)].sort(), 'the same map as a scan of every follow list')
  t.ok(scans <= 2, `one scan of the follower markers and one of alice's follows (${scans} scans)`)

  await a.unfollow(c.identity)
  await syncFeed(b, a)
  t.is((await b.views.hops(2)).has(hex(c.identity)), false, 'an unfollow takes carol out (the marker stays, the row says no)')
  await a.follow(c.identity)
  await syncFeed(b, a)
  t.is((await b.views.hops(2)).get(hex(c.identity)), 2, 'a follow again brings her back')

  await b.block(a.identity)
  const blocked = await b.views.hops(2)
  t.is(blocked.has(hex(c.identity)), false, 'a blocked identity\'s follows are out of the graph')
  t.alike([...blocked].sort(), [...await reference(2)].filter(([h]) => h !== hex(a.identity)).sort(), 'and the walk agrees with a scan of every list')
})
