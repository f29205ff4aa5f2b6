import test from 'brittle'
import { createPeer, followSynced, openPeer, replicate, syncFeed, unindexedReader } from './helpers/peers.js'
import { createLocalDht, createSwarmPeer, reopenSwarmPeer } from './helpers/swarm.js'
import { feedToString } from '../src/ids.js'
import { identityTopic } from '../src/caps.js'
import { IDLE_GRACE_MS } from '../src/node/idle-feeds.js'
import type { PeerSession } from '../src/swarm/peer-session.js'
import { Shoal } from '../src/node/shoal.js'

/** Resolves once `check` holds, looking again after each turn of the event loop (fails the test after `ms`). */
async function until (check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) return false
    await new Promise<void>((resolve) => setTimeout(resolve, 5))
  }
  return true
}

// Every feed a node added or synced stayed open for as long as the node ran: a first index of
// 3,000 feeds peaked at 256 MiB, about 24 KB per open Hypercore.
test('idle feeds – past openFeeds, feeds synced whole close once no peer replicates them, and stay readable', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob', openFeeds: 1 })
  t.teardown(() => b.close(), { order: 1 })
  const writers: Shoal[] = []
  const texts: string[] = []
  for (let i = 0; i < 3; i++) {
    const w = await createPeer(t, { name: `w${i}` })
    for (let j = 0; j < 2; j++) {
      await w.post({ text: `w${i} post ${j}` })
      texts.push(`w${i} post ${j}`)
    }
    const stop = replicate(w, b, t)
    await b.follow(w.identity)
    await syncFeed(b, w)
    t.ok(b.core(w.feedKey) !== null, `w${i}'s feed is open while a peer replicates it`)
    stop()
    writers.push(w)
  }
  t.ok(await until(() => b.trackedCores().length <= 1), `at most 1 idle feed stays open (${b.trackedCores().length})`)
  t.is(b.trackedFeeds.length, 3, 'every feed is still tracked')
  const timeline = await b.timeline({ limit: 50 })
  t.alike(timeline.items.map((i) => i.text).sort(), [...texts].sort(), 'every post is in the timeline')
  const status = await b.status()
  for (const w of writers) {
    const feed = status.identities.flatMap((s) => s.feeds).find((f) => f.key === feedToString(w.feedKey))
    t.alike(feed === undefined ? null : [feed.local, feed.remote], [w.feedLength, w.feedLength], `status lists each feed's ${w.feedLength} blocks (${b.core(w.feedKey) === null ? 'closed' : 'open'})`)
  }

  // A closed one opens again when read or replicated, and a post made meanwhile arrives.
  const w0 = writers[0]
  await w0.post({ text: 'w0 later' })
  const stop = replicate(w0, b, t)
  t.ok(await b.openFeed(w0.feedKey) !== null, 'openFeed opens a feed closed while idle')
  await b.waitForIndexed(w0.feedKey, w0.feedLength)
  t.ok((await b.timeline({ limit: 50 })).items.some((i) => i.text === 'w0 later'), 'and what it gained is indexed')
  stop()
  t.ok(await until(() => b.trackedCores().length <= 1), 'and it closes again once idle')

  // A clean close records the closed feeds: the reopen leaves them closed and reads them all.
  await b.close()
  const again = await openPeer(t, dir, { openFeeds: 1 })
  t.is(again.trackedCores().length, 0, 'the reopen leaves every settled feed closed')
  t.is((await again.timeline({ limit: 50 })).items.length, texts.length + 1, 'and every post is there')
})

test('idle feeds – feeds opened one after another close past openFeeds, and waiting on them needs no open', async (t) => {
  const { dir, texts, feeds } = await unindexedReader(t, 4, 2)
  const b = new Shoal(dir, { indexingFeeds: 4, openFeeds: 2 })
  t.teardown(() => b.close(), { order: 1 })
  await b.ready()
  await b.indexed()
  t.is(b.trackedCores().length, 0, 'the backlog closed its feeds')
  for (const w of feeds) t.ok(await b.openFeed(w.feedKey) !== null, 'openFeed opens it')
  t.ok(await until(() => b.trackedCores().length <= 2), `at most 2 idle feeds stay open (${b.trackedCores().length})`)
  for (const w of feeds) await b.waitForIndexed(w.feedKey, w.feedLength)
  t.ok(b.trackedCores().length <= 2, 'waiting on an indexed closed feed does not open it')
  t.is((await b.timeline({ limit: 200 })).items.length, texts.length, 'every post is in the timeline')
})

test('idle feeds – openFeeds 0 closes every idle feed; a bad value is INVALID_ARGUMENT', async (t) => {
  const { dir, feeds } = await unindexedReader(t, 2, 1)
  const b = new Shoal(dir, { openFeeds: 0 })
  t.teardown(() => b.close(), { order: 1 })
  await b.ready()
  await b.indexed()
  for (const w of feeds) {
    const core = await b.openFeed(w.feedKey)
    t.ok(core !== null && !core.closing, 'openFeed returns the open core: an idle feed closes only after a grace')
  }
  t.ok(await until(() => b.trackedCores().length === 0), 'every idle feed closes')
  for (const bad of [-1, 1.5, Number.NaN]) {
    t.exception(() => new Shoal(dir, { openFeeds: bad }), /INVALID_ARGUMENT/, `openFeeds ${bad}`)
  }
})

test('idle feeds – on the network, feeds a connected peer offered stay open; once it leaves they close past openFeeds and come back when offered again', async (t) => {
  t.timeout(120_000)
  const testnet = await createLocalDht(t)
  const b = await createSwarmPeer(t, testnet, { name: 'bob', openFeeds: 1 })
  const dirs: string[] = []
  const writers: Shoal[] = []
  for (let i = 0; i < 3; i++) {
    const dir = await t.tmp()
    const w = await createSwarmPeer(t, testnet, { name: `w${i}`, storage: dir })
    await w.post({ text: `w${i} before` })
    await b.follow(w.identity)
    dirs.push(dir)
    writers.push(w)
  }
  await b.sync({ timeout: 60_000 })
  for (const w of writers) await b.waitForIndexed(w.feedKey, w.feedLength)
  t.is(b.trackedCores().length, 3, 'each feed a connected peer offered stays open, past the bound')

  // w1 and w2 leave: no connected peer offers their feeds, which are indexed whole, so they close.
  await writers[1].close()
  await writers[2].close()
  t.ok(await until(() => b.trackedCores().length <= 1, 30_000), `past the bound, the feeds no connected peer offers close (${b.trackedCores().length} open)`)
  t.ok(b.core(writers[0].feedKey) !== null, 'the feed the connected peer offered stays open')

  // Its new blocks still come over the open core.
  await writers[0].post({ text: 'w0 live' })
  await b.waitForIndexed(writers[0].feedKey, writers[0].feedLength)
  t.pass('a post of the connected peer arrives live')

  // w1 comes back with a new post: its offer opens the closed feed again, and the post arrives.
  const w1 = await reopenSwarmPeer(t, testnet, dirs[1])
  await w1.post({ text: 'w1 after' })
  await b.sync({ timeout: 60_000 })
  await b.waitForIndexed(w1.feedKey, w1.feedLength)
  const texts = (await b.timeline({ limit: 50 })).items.map((i) => i.text).sort()
  t.alike(texts, ['w0 before', 'w0 live', 'w1 after', 'w1 before', 'w2 before'], 'every post, from open and closed feeds')
})

// A waitForIndexed for blocks still to come left the feed idle (indexed to what it stored, no
// peer yet): an idle close would take it from the indexer, and the wait resolved unindexed.
test('idle feeds – a feed waited on stays open past openFeeds until what the wait asks for is indexed', async (t) => {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob', openFeeds: 0 })
  t.teardown(() => b.close(), { order: 1 })
  const w = await createPeer(t, { name: 'w' })
  await w.post({ text: 'first' })
  await followSynced(b, w, t)
  t.ok(await until(() => b.trackedCores().length === 0), 'synced whole and idle: closed')
  await w.post({ text: 'second' })
  let done = false
  const waiting = b.waitForIndexed(w.feedKey, w.feedLength).then(() => { done = true })
  await new Promise<void>((resolve) => setTimeout(resolve, IDLE_GRACE_MS + 1000))
  t.absent(done, 'the wait has not resolved: the block it waits for is not here')
  t.ok(b.core(w.feedKey) !== null, 'and the feed it waits on is open, past the bound and the grace')
  const stop = replicate(w, b, t)
  await waiting
  t.ok((await b.timeline({ limit: 10 })).items.some((i) => i.text === 'second'), 'it resolves once the new block is indexed')
  stop()
  t.ok(await until(() => b.trackedCores().length === 0), 'then it closes again')
})

// A backlog indexed on the network (here a reindex's; the app joins right after it opens): each
// turn leaves its feed open there, and the idle close must still take it past the bound.
test('idle feeds – feeds a backlog indexed close past openFeeds on the network too', async (t) => {
  const testnet = await createLocalDht(t)
  const { dir, texts } = await unindexedReader(t, 4, 2)
  const b = new Shoal(dir, { openFeeds: 1 })
  t.teardown(() => b.close(), { order: 1 })
  await b.ready()
  await b.indexed()
  await b.joinNetwork({ dht: testnet.createNode() })
  await b.reindex() // every feed again, through a backlog, on the network
  await b.indexed()
  t.ok(await until(() => b.trackedCores().length <= 1, 30_000), `at most 1 idle feed stays open (${b.trackedCores().length})`)
  t.is((await b.timeline({ limit: 200 })).items.length, texts.length, 'every post is in the timeline')
})

// A serving node closed the feeds whose headers it had just sent a peer before that peer
// attached to them (nothing was attached yet, and nobody had offered them): the peer then
// knew their lengths but never got a block (a swarm sync of 100 feeds timed out with 31 at 0).
test('idle feeds – a node keeps open the feeds whose headers it sent a connected peer, and lets them go when it leaves', async (t) => {
  t.timeout(120_000)
  const testnet = await createLocalDht(t)
  const w = await createPeer(t, { name: 'w' })
  await w.post({ text: 'from w' })
  // The server holds w's feed, synced over a stream and idle since: with openFeeds 0 it closes.
  const server = await createSwarmPeer(t, testnet, { name: 'server', openFeeds: 0 })
  await followSynced(server, w, t)
  const feed = feedToString(w.feedKey)
  t.ok(await until(() => server.core(w.feedKey) === null), 'idle on the server: closed')

  const reader = await createSwarmPeer(t, testnet, { name: 'reader' })
  await reader.follow(w.identity)
  await server.follow(reader.identity) // so the server wants the reader, and they meet on its topic
  await reader.sync({ timeout: 60_000 })
  await reader.waitForIndexed(w.feedKey, w.feedLength)
  t.ok((await reader.timeline({ limit: 10 })).items.some((i) => i.text === 'from w'), 'the reader got w\'s post from the server')
  t.ok(server.core(w.feedKey) !== null, `the server's copy of ${feed.slice(0, 8)}… is open while the reader is connected`)
  await reader.close()
  t.ok(await until(() => server.core(w.feedKey) === null, 30_000), 'once the reader left, it closes again')

  // A header sent to a peer that has not attached yet keeps the feed open for EXPECT_PEER_MS.
  const replicator = server.replicator
  if (replicator === null) throw new Error('the server is on the network')
  const asking = { isClosed: false } as unknown as PeerSession // a session that asked and has not attached
  t.is((await replicator.headersFor([identityTopic(w.identity)], asking)).length, 1, 'the header is sent, the feed opened for it')
  await new Promise<void>((resolve) => setTimeout(resolve, IDLE_GRACE_MS + 1000))
  t.ok(server.core(w.feedKey) !== null, 'past the grace it is still open: the peer may attach next')
  t.ok(await until(() => server.core(w.feedKey) === null, 30_000), 'and it closes once that peer had its time to attach')
})

// A join whose network failed to start left it set: every later join was refused ("already
// joining the network"), and idle closes waited for a replicator that never came.
test('idle feeds – a failed join leaves the node off the network: a later join works', async (t) => {
  const testnet = await createLocalDht(t)
  const b = await createPeer(t, { name: 'bob' })
  // 192.0.2.1 (TEST-NET-1) is no address of this machine: the LAN listener cannot bind it.
  await t.exception(b.joinNetwork({ bootstrap: { kind: 'none' }, lan: true, lanOptions: { host: '192.0.2.1', mdnsPort: 0 } }), /NETWORK_ERROR/, 'the join fails with a coded error')
  t.is(b.replicator, null, 'not joined')
  const replicator = await b.joinNetwork({ dht: testnet.createNode() })
  t.ok(replicator !== null, 'a second join works')
})
