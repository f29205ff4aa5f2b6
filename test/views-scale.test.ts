import test from 'brittle'
import b4a from 'b4a'
import z32 from 'z32'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { shoal as cli } from './helpers/cli.js'
import { feedToString, parseRef, refToString, type IdentityKey, type MessageRef } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'

test('views – thread pages: limit, then "more replies" with the cursor, until next is null', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const root = await a.post({ text: 'root' })
  const replies: MessageRef[] = []
  for (let i = 0; i < 23; i++) replies.push(await a.post({ text: `reply ${i}`, reply: i % 3 === 2 ? replies[i - 1] : root }))
  const whole = (await a.thread(root, { limit: 500 })).replies.map((r) => r.id)
  t.alike(whole, replies.map(refToString), 'one big page: every reply in order')

  const seen: string[] = []
  let before: string | null = null
  let pages = 0
  do {
    const page = await a.thread(replies[5], { limit: 10, before })
    t.is(page.root?.text, 'root', 'every page carries the root')
    t.ok(page.replies.length <= 10, 'at most limit replies')
    seen.push(...page.replies.map((r) => r.id))
    before = page.next
    pages++
  } while (before !== null && pages < 10)
  t.is(pages, 3, '23 replies in pages of 10: three pages')
  t.alike(seen, whole, 'the pages together are the whole thread, in order, no repeats')

  const exact = await a.thread(root, { limit: 23 })
  t.is(exact.next, null, 'a page that holds the rest has no next')
  t.is((await a.thread(root)).replies.length, 23, 'default page (50) holds a short thread')
})

test('views – a thread page is one scan and two read batches, whatever the thread length, page or ref given', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const root = await a.post({ text: 'root' })
  const replies: MessageRef[] = []
  for (let i = 0; i < 40; i++) replies.push(await a.post({ text: `reply ${i}`, reply: i % 2 === 1 ? replies[i - 1] : root }))
  const cost = async (ref: MessageRef, q: { limit: number, before?: string | null }): Promise<{ scans: number, batches: number, gets: number, replies: number }> => {
    const before = a.views.io()
    const page = await a.thread(ref, q)
    const after = a.views.io()
    return { scans: after.scans - before.scans, batches: after.readBatches - before.readBatches, gets: after.gets - before.gets, replies: page.replies.length }
  }
  await a.thread(root, { limit: 10 }) // my follows and blocks, and alice's name, are read once, then kept until they change
  // At once: the post asked for (one read) and the thread rows under it, which hold the replies
  // (one scan); then one batch: their reaction summaries (no post is edited). Asked by a reply,
  // the root and its thread rows are read once more.
  t.alike(await cost(root, { limit: 10 }), { scans: 1, batches: 2, gets: 1 + 11, replies: 10 }, 'first page of 10, by root')
  t.alike(await cost(root, { limit: 30 }), { scans: 1, batches: 2, gets: 1 + 31, replies: 30 }, 'first page of 30, by root')
  t.alike(await cost(replies[7], { limit: 10 }), { scans: 2, batches: 3, gets: 2 + 11, replies: 10 }, 'first page of 10, by a reply')
  const next = (await a.thread(root, { limit: 10 })).next
  t.alike(await cost(root, { limit: 10, before: next }), { scans: 1, batches: 2, gets: 1 + 11, replies: 10 }, '"more replies"')
})

test('views – a home or author page is one scan and one read batch (two with an edited post); author names are read once, then after a rename again', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  for (let i = 0; i < 12; i++) await a.post({ text: `a${i}` })
  await b.follow(a.identity)
  await syncFeed(b, a)
  const cost = async (q: { limit: number, author?: IdentityKey }): Promise<{ scans: number, batches: number, gets: number, names: Array<string | null> }> => {
    const before = b.views.io()
    const page = await b.timeline(q)
    const after = b.views.io()
    return { scans: after.scans - before.scans, batches: after.readBatches - before.readBatches, gets: after.gets - before.gets, names: [...new Set(page.items.map((i) => i.authorName))] }
  }
  await b.views.blocking(b.identity) // my follows and blocks are read once, then kept until they change
  // The rows hold the posts; one batch: their reaction summaries, and alice's name the first time only.
  t.alike(await cost({ limit: 10 }), { scans: 1, batches: 1, gets: 10 + 1, names: ['alice'] }, 'first home page: the name is read')
  t.alike(await cost({ limit: 10 }), { scans: 1, batches: 1, gets: 10, names: ['alice'] }, 'again: the name is cached')
  t.alike(await cost({ limit: 5, author: a.identity }), { scans: 1, batches: 1, gets: 5, names: ['alice'] }, 'an author page uses the same cache')
  // An edit marks its post's summary row: then, and only then, the page reads the edit too.
  const newest = (await a.timeline({ limit: 2 })).items.map((i) => parseRef(i.id))
  await a.edit(newest[1], 'a10, edited')
  await syncFeed(b, a)
  t.alike(await cost({ limit: 10 }), { scans: 1, batches: 2, gets: 10 + 1, names: ['alice'] }, 'an edited post on the page: one more batch, of its edit')
  t.alike((await b.timeline({ limit: 2 })).items.map((i) => [i.text, i.edited]), [['a11', false], ['a10, edited', true]], 'the edit shows on that post only')
  await a.setProfile({ name: 'alicia' })
  await syncFeed(b, a)
  t.alike(await cost({ limit: 10 }), { scans: 1, batches: 2, gets: 10 + 1 + 1, names: ['alicia'] }, 'after a rename is indexed the name is read again')
  const root = (await b.timeline({ limit: 1 })).items[0]
  t.is((await b.thread(parseRef(root.id))).root?.authorName, 'alicia', 'threads share the cache')
  await b.setProfile({ name: 'robert' })
  const mine = await b.post({ text: 'mine' })
  t.is((await b.thread(mine)).root?.authorName, 'robert', 'my own rename shows at once')
})

test('views – thread pages: bad limits and cursors are coded errors', async (t) => {
  const a = await createPeer(t)
  const root = await a.post({ text: 'root' })
  await a.post({ text: 'r', reply: root })
  for (const limit of [0, -1, 501, 1.5, Number.NaN]) {
    await t.exception(a.thread(root, { limit }), /INVALID_ARGUMENT/, `limit ${limit}`)
  }
  const tooShort = z32.encode(b4a.alloc(47))
  const notCanonical = z32.encode(b4a.alloc(48)).slice(0, -1) + 'x'
  for (const before of ['not a cursor!', tooShort, notCanonical, 'y'.repeat(10_000)]) {
    await t.exception(a.thread(root, { before }), /INVALID_ID/, `cursor ${before.slice(0, 20)}`)
  }
  // A well-formed cursor past the end: an empty page, not an unknown thread.
  const past = z32.encode(b4a.alloc(48, 0xff))
  const page = await a.thread(root, { before: past })
  t.alike([page.replies.length, page.next], [0, null], 'a cursor past the last reply: empty last page')
})

test('views – thread pages: blocked repliers are left out without losing the cursor', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const m = await createPeer(t, { name: 'mallory' })
  replicate(a, m, t)
  const root = await a.post({ text: 'root' })
  await syncFeed(m, a)
  for (let i = 0; i < 6; i++) await m.post({ text: `m${i}`, reply: root })
  await syncFeed(a, m)
  for (let i = 0; i < 3; i++) await a.post({ text: `a${i}`, reply: root })
  t.is((await a.thread(root, { limit: 500 })).replies.length, 9)
  await a.block(m.identity)
  const texts: string[] = []
  let before: string | null = null
  for (let i = 0; i < 10; i++) {
    const page = await a.thread(root, { limit: 2, before })
    texts.push(...page.replies.map((r) => r.text))
    before = page.next
    if (before === null) break
  }
  t.alike(texts, ['a0', 'a1', 'a2'], 'only the unblocked replies, all of them')
})

test('cli – thread --limit/--before pages a thread; bad values are usage errors', async (t) => {
  const dir = await t.tmp()
  const { shoal: node } = await Shoal.init(dir, { name: 'alice' })
  const root = await node.post({ text: 'root' })
  for (let i = 0; i < 5; i++) await node.post({ text: `reply ${i}`, reply: root })
  await node.close()
  const id = refToString(root)
  const first = await cli(dir, ['thread', id, '--limit', '3', '--json'])
  t.is(first.code, 0, first.stderr)
  t.alike(first.json.replies.map((r: any) => r.text), ['reply 0', 'reply 1', 'reply 2'])
  t.ok(typeof first.json.next === 'string')
  const text = await cli(dir, ['thread', id, '--limit', '3'])
  t.ok(text.stdout.includes(`more replies: shoal thread ${id} --before ${first.json.next as string}`), 'text output says how to go on')
  const second = await cli(dir, ['thread', id, '--limit', '3', '--before', first.json.next, '--json'])
  t.alike(second.json.replies.map((r: any) => r.text), ['reply 3', 'reply 4'])
  t.is(second.json.next, null)
  const bad = await cli(dir, ['thread', id, '--limit', 'lots', '--json'])
  t.is(bad.code, 2)
  t.is(bad.json.error.code, 'USAGE')
  const badCursor = await cli(dir, ['thread', id, '--before', 'zzz', '--json'])
  t.is(badCursor.json.error.code, 'INVALID_ID')
})

test('shoal – lazy feeds: fully indexed feeds stay closed on reopen until replicated or read', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const writers: Shoal[] = []
  for (let i = 0; i < 3; i++) {
    const w = await createPeer(t, { name: `w${i}` })
    await w.post({ text: `hello from w${i}` })
    replicate(w, b, t)
    await b.follow(w.identity)
    await syncFeed(b, w)
    writers.push(w)
  }
  const before = (await b.timeline()).items.map((i) => i.text)
  const totals = b.totals()
  await b.close()

  const again = new Shoal(dir)
  t.teardown(() => again.close(), { order: 1 })
  await again.ready()
  t.is(again.trackedCores().length, 0, 'no tracked feed is opened')
  t.is(again.trackedFeeds.length, 3, 'all three are still tracked')
  t.alike((await again.timeline()).items.map((i) => i.text), before, 'the timeline reads the same')
  t.alike(again.totals(), totals, 'totals count the closed feeds by their checkpoints')
  t.is((await again.whoami()).name, 'bob')

  // Replicating one opens it; new posts are indexed.
  const w0 = writers[0]
  replicate(w0, again, t)
  await again.addFeed(w0.feedKey)
  t.is(again.trackedCores().length, 1, 'addFeed opens that one feed')
  await w0.post({ text: 'new from w0' })
  await again.waitForIndexed(w0.feedKey, w0.feedLength)
  t.is((await again.timeline()).items[0].text, 'new from w0')

  // status lists every feed, the closed ones at their indexed length, and opens none of them.
  const listed = (await again.status()).identities.flatMap((i) => i.feeds)
  for (const w of writers) t.is(listed.find((f) => f.key === feedToString(w.feedKey))?.local, w.feedLength, 'listed at its length')
  t.is(again.trackedCores().length, 1, 'status opened none of the others')
})

test('shoal – lazy feeds: wiped views or a crash open every feed again', async (t) => {
  const fs = await import('node:fs/promises')
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const w = await createPeer(t, { name: 'w' })
  await w.post({ text: 'hi' })
  replicate(w, b, t)
  await b.follow(w.identity)
  await syncFeed(b, w)
  await b.close()

  await fs.rm(b.paths.views, { recursive: true })
  const rebuilt = new Shoal(dir)
  await rebuilt.ready()
  await rebuilt.indexed()
  t.alike((await rebuilt.timeline()).items.map((i) => i.text), ['hi'], 'views gone: the feed is opened and indexed again')
  t.is(rebuilt.trackedCores().length, 0, 'and closed again once indexed (off the network)')
  await rebuilt.close()

  // A feed's settled record is dropped when it opens: a process that dies after that opens it again.
  const open1 = new Shoal(dir)
  await open1.ready()
  t.is(open1.trackedCores().length, 0, 'after a clean close it is left closed')
  const { NodeState } = await import('../src/node/node-state.js')
  const state = (open1 as unknown as { stateInstance: InstanceType<typeof NodeState> }).stateInstance
  t.is(await state.openRecord(), null, 'the record is cleared while open (a crash then opens every feed)')
  await open1.openFeed(w.feedKey)
  t.is(open1.trackedCores().length, 1, 'opened when read')
  await open1.close()
  const open2 = new Shoal(dir)
  await open2.ready()
  t.is(open2.trackedCores().length, 0, 'a clean close recorded it again: left closed')
  await open2.close()
})

test('views – sparse home timeline: the home index gives the same pages whatever the page size', async (t) => {
  let clock = 1_700_000_000_000
  const now = (): number => clock++
  const b = await createPeer(t, { name: 'bob', now })
  const writers: Shoal[] = []
  for (let i = 0; i < 12; i++) {
    const w = await createPeer(t, { name: `w${i}`, now })
    replicate(w, b, t)
    writers.push(w)
  }
  for (let round = 0; round < 8; round++) {
    for (const [i, w] of writers.entries()) if (i !== 11) await w.post({ text: `w${i} post ${round}` })
  }
  await b.post({ text: 'mine' })
  for (const w of writers) await syncFeed(b, w)
  // I follow w3, w7 and w11 (who never posted): 4 home authors of 13 held.
  for (const i of [3, 7, 11]) await b.follow(writers[i].identity)
  const texts: string[] = []
  let before: string | null = null
  for (let i = 0; i < 20; i++) {
    const page = await b.timeline({ limit: 2, before })
    texts.push(...page.items.map((x) => x.text))
    before = page.next
    if (before === null) break
  }
  const expected = ['mine']
  for (let round = 7; round >= 0; round--) expected.push(`w7 post ${round}`, `w3 post ${round}`)
  t.alike(texts, expected, 'pages of 2: newest first across the followed authors, every post once')
  const big = await b.timeline({ limit: 500 })
  t.alike(big.items.map((x) => x.text), expected, 'one big page says the same')
  const m1 = await b.timeline({ limit: 9 })
  const m2 = await b.timeline({ limit: 9, before: m1.next })
  t.alike([...m1.items, ...m2.items].map((x) => x.text), expected, 'pages of 9 with the cursor')
  t.is(m2.next, null)
  await b.block(writers[7].identity)
  t.alike((await b.timeline({ limit: 2 })).items.map((x) => x.text), ['mine', 'w3 post 7'], 'a blocked follow is left out')
  const merged = await b.timeline({ limit: 50 })
  t.alike(merged.items.map((x) => x.text), expected.filter((x) => !x.startsWith('w7')), 'and from a big page')
})

test('api – thread pages: limit and before, and what a request may carry instead', async (t) => {
  const { createLocalDht } = await import('./helpers/swarm.js')
  const { call, createApiNode } = await import('./helpers/api.js')
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice' })
  const shoal = app.need()
  const root = await shoal.post({ text: 'root' })
  for (let i = 0; i < 5; i++) await shoal.post({ text: `r${i}`, reply: root })
  const id = refToString(root)
  const first = (await call(api, 'thread', { id, limit: 3 })).result
  t.alike(first.replies.map((r: any) => r.text), ['r0', 'r1', 'r2'])
  const second = (await call(api, 'thread', { id, limit: 3, before: first.next })).result
  t.alike(second.replies.map((r: any) => r.text), ['r3', 'r4'])
  t.is(second.next, null)
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ id, limit: 'ten' }, 'BAD_REQUEST'],
    [{ id, limit: 0 }, 'INVALID_ARGUMENT'],
    [{ id, limit: 501 }, 'INVALID_ARGUMENT'],
    [{ id, limit: 2.5 }, 'BAD_REQUEST'],
    [{ id, before: 42 }, 'BAD_REQUEST'],
    [{ id, before: { a: 1 } }, 'BAD_REQUEST'],
    [{ id, before: 'zz' }, 'INVALID_ID'],
    [{ id, before: 'y'.repeat(100_000) }, 'BAD_REQUEST']
  ]
  for (const [params, code] of bad) {
    const r = await call(api, 'thread', params)
    t.is(r.error?.code, code, JSON.stringify(params).slice(0, 60))
  }
})

test('swarm – lazy feeds: a reopened node joins the network, opens the feed its peer offers and syncs what is new', async (t) => {
  const { createLocalDht, createSwarmPeer, reopenSwarmPeer } = await import('./helpers/swarm.js')
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  await b.joinNetwork({ dht: testnet.createNode() })
  await a.post({ text: 'before' })
  await b.follow(a.identity)
  await b.sync({ timeout: 30_000 })
  t.alike((await b.timeline()).items.map((i) => i.text), ['before'])
  await b.close()

  await a.post({ text: 'while bob was away' })
  const again = await reopenSwarmPeer(t, testnet, dir)
  t.is(again.trackedCores().length, 0, 'joining the network opens no lazily closed feed')
  await again.sync({ timeout: 30_000 })
  t.is(again.trackedCores().length, 1, 'alice offered her feed: it was opened')
  t.alike((await again.timeline()).items.map((i) => i.text), ['while bob was away', 'before'])
})
