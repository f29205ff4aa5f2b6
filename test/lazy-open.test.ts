import test from 'brittle'
import { createPeer, openPeer, replicate, syncFeed } from './helpers/peers.js'
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
  const stop = replicate(w, b, t)
  await b.follow(w.identity)
  await syncFeed(b, w)
  stop()
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
