import test from 'brittle'
import { createPeer, followSynced, openPeer, unindexedReader } from './helpers/peers.js'
import { feedToString } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'

/** True if `p` has settled once the microtasks queued now have run (checked on the next macrotask). */
async function settledNow (p: Promise<unknown>): Promise<boolean> {
  let done = false
  p.then(() => { done = true }, () => { done = true })
  await new Promise<void>((resolve) => setImmediate(resolve))
  return done
}

/** A Shoal folder tracking the feed of `w`, indexed whole and closed cleanly: it reopens lazily closed. */
async function folderWithSettledFeed (t: Parameters<typeof createPeer>[0]): Promise<{ dir: string, w: Shoal }> {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const w = await createPeer(t, { name: 'w' })
  await w.post({ text: 'hello' })
  await followSynced(b, w, t)
  await b.close()
  return { dir, w }
}

// A one-shot sync opened such a feed twice at once (a peer's want for its identity and the same
// peer's offer of it): the second open returned before the feed was handed to the indexer, and
// the sync's wait for it to be indexed then slept until something else got indexed (SYNC_TIMEOUT).
test('lazy open – a second openFeed while the first is opening resolves only once the feed is indexed', async (t) => {
  const { dir, w } = await folderWithSettledFeed(t)
  const b = await openPeer(t, dir)
  t.is(b.trackedCores().length, 0, 'the settled feed is left closed')
  const first = b.openFeed(w.feedKey)
  const core = await b.openFeed(w.feedKey)
  t.is(core?.length, w.feedLength, 'the second call gets the core')
  const indexed = b.waitForIndexed(w.feedKey, w.feedLength)
  indexed.catch(() => {}) // asserted below; only its settling is looked at
  t.ok(await settledNow(indexed), 'and the feed is indexed to its length as soon as it returns')
  await first
})

test('lazy open – waitForIndexed while the feed is opening resolves once it is open', async (t) => {
  const { dir, w } = await folderWithSettledFeed(t)
  const b = await openPeer(t, dir)
  const opening = b.openFeed(w.feedKey)
  const indexed = b.waitForIndexed(w.feedKey, w.feedLength)
  await opening
  await indexed
  t.pass('resolved with nothing else indexed')
})

// A feed refused (here by the storage cap, once its header named its identity) while
// waitForIndexed waited for its open was never handed to the indexer, or was taken from it
// again, and the indexer's wait for it then slept until the node closed.
test('lazy open – waitForIndexed of a feed refused while it opens resolves: nothing more of it is indexed here', async (t) => {
  t.timeout(60_000) // the failure is a wait that never ends
  const { dir, w } = await folderWithSettledFeed(t)
  const b = await openPeer(t, dir, { storagePerIdentity: 1 })
  t.is(b.trackedCores().length, 0, 'the settled feed is left closed')
  await b.waitForIndexed(w.feedKey, w.feedLength + 1) // one block more than is stored: only a refusal ends this wait
  t.ok(b.isRefused(w.feedKey), 'refused by the storage cap')
  await b.waitForIndexed(w.feedKey, w.feedLength + 1)
  t.pass('and a wait for it after the refusal returns too')
})

test('lazy open – addFeed of a feed being opened resolves once it is open', async (t) => {
  const { dir, w } = await folderWithSettledFeed(t)
  const b = await openPeer(t, dir)
  const opening = b.openFeed(w.feedKey)
  await b.addFeed(w.feedKey, w.identity)
  const indexed = b.waitForIndexed(w.feedKey, w.feedLength)
  indexed.catch(() => {})
  t.ok(await settledNow(indexed), 'indexed to its length as soon as addFeed returns')
  await opening
})

// `status` opened every lazily closed feed: with 5,000 follows, a `shoal status` took 19 s and
// 557 MB, and a serving node kept them all open from then on.
test('lazy open – status lists a closed feed with its lengths and leaves it closed', async (t) => {
  const { dir, w } = await folderWithSettledFeed(t)
  const b = await openPeer(t, dir)
  t.is(b.trackedCores().length, 0, 'the settled feed is left closed')
  const status = await b.status()
  const mine = status.identities.flatMap((i) => i.feeds).find((f) => f.key === feedToString(w.feedKey))
  t.alike(mine && { local: mine.local, remote: mine.remote }, { local: w.feedLength, remote: w.feedLength }, 'listed at its whole length')
  t.is(b.trackedCores().length, 0, 'and still closed')
})

test('lazy open – status while feeds wait to be indexed opens none beyond the backlog\'s, and lists each at its length', async (t) => {
  const { dir, feeds: writers } = await unindexedReader(t, 4, 3) // every feed goes to the backlog
  const b = new Shoal(dir, { indexingFeeds: 1 })
  t.teardown(() => b.close(), { order: 1 })
  await b.ready()
  // A feed is listed under its identity once its header is indexed; each one listed has its length.
  const early = (await b.status()).identities.flatMap((i) => i.feeds)
  for (const f of early) {
    const w = writers.find((x) => feedToString(x.feedKey) === f.key)
    if (w !== undefined) t.alike({ local: f.local, remote: f.remote }, { local: w.feedLength, remote: w.feedLength }, `${f.key.slice(0, 8)} listed at its length while the backlog runs`)
  }
  t.ok(b.trackedCores().length <= 1, `no more open than the backlog's one (${b.trackedCores().length})`)
  await b.indexed()
  const feeds = (await b.status()).identities.flatMap((i) => i.feeds)
  for (const w of writers) {
    const f = feeds.find((x) => x.key === feedToString(w.feedKey))
    t.alike(f && { local: f.local, remote: f.remote }, { local: w.feedLength, remote: w.feedLength }, `${feedToString(w.feedKey).slice(0, 8)} listed at its length once indexed`)
  }
  t.is(b.trackedCores().length, 0, 'and none is open')
})
