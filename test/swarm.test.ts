import test from 'brittle'
import b4a from 'b4a'
import { identityTopic } from '../src/caps.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import type { PeerSession } from '../src/swarm/peer-session.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { addGhosts } from './helpers/peers.js'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

test('swarm – B follows A and syncs: A\'s posts and profile name arrive', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await a.post({ text: 'hello from alice' })
  await a.post({ text: 'second' })
  await b.follow(a.identity)
  const res = await b.sync({ timeout: 30_000 })
  const items = (await b.timeline()).items
  t.alike(items.map((i) => i.text), ['second', 'hello from alice'])
  t.is(items[0].authorName, 'alice')
  t.is((await b.profile(a.identity)).name, 'alice')
  t.is(res.peers, 1)
  t.is(res.blocks, 5, 'header, DM keys, name, two posts')
  t.is(res.identities, 2)

  const status = await b.status()
  t.is(status.peers.length, 1)
  t.is(status.peers[0].identity, a.id, 'the peer proved its identity')
  const alice = status.identities.find((i) => i.id === a.id)
  t.alike(alice?.feeds.map((f) => [f.local, f.remote]), [[5, 5]])
})

test('swarm – store-and-forward: A is offline, C serves A\'s posts to B', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  await a.post({ text: 'written while online' })
  await c.follow(a.identity)
  await c.sync({ timeout: 30_000 })
  t.is((await c.timeline()).items.length, 1, 'C holds A\'s post')
  await a.close()

  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await b.follow(a.identity)
  await b.sync({ timeout: 30_000 })
  const items = (await b.timeline()).items
  t.alike(items.map((i) => i.text), ['written while online'])
  t.is(items[0].authorName, 'alice')
  t.ok(b.replicator?.peers.every((p) => p.remoteIdentity !== null && hex(p.remoteIdentity) === hex(c.identity)), 'served by C alone')
})

test('swarm – hop limit: B holds D\'s feed at hops 2 and not at hops 1', async (t) => {
  const testnet = await createLocalDht(t)
  const d = await createSwarmPeer(t, testnet, { name: 'dave' })
  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  await d.post({ text: 'dave here' })
  await c.follow(d.identity)
  await c.sync({ timeout: 30_000 })

  const b1 = await createSwarmPeer(t, testnet, { name: 'bob1', join: { hops: 1 } })
  await b1.follow(c.identity)
  await b1.sync({ timeout: 30_000 })
  t.ok(b1.trackedFeeds.some((f) => hex(f) === hex(c.feedKey)), 'hops 1: holds C')
  t.absent(b1.trackedFeeds.some((f) => hex(f) === hex(d.feedKey)), 'hops 1: does not hold D')

  const b2 = await createSwarmPeer(t, testnet, { name: 'bob2', join: { hops: 2 } })
  await b2.follow(c.identity)
  await b2.sync({ timeout: 30_000 })
  t.ok(b2.trackedFeeds.some((f) => hex(f) === hex(d.feedKey)), 'hops 2: holds D')
  t.is((await b2.timeline({ author: d.identity })).items[0]?.text, 'dave here')
})

test('swarm – block: no feed of A is requested, served or shown', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await a.post({ text: 'alice post' })
  await b.follow(a.identity)
  await b.sync({ timeout: 30_000 })
  t.is((await b.timeline()).items.length, 1, 'held before the block')

  await b.block(a.identity)
  await b.replicator?.refresh()
  const topicA = hex(identityTopic(a.identity))
  t.absent(b.replicator?.joinedTopics.has(topicA), 'A\'s topic left: not connected for')
  t.absent(b.replicator?.wantTopics().some((x) => hex(x) === topicA), 'not requested')
  t.absent(b.trackedFeeds.some((f) => hex(f) === hex(a.feedKey)), 'feed dropped')
  t.absent(b.replicator?.peers.some((p) => p.remoteIdentity && hex(p.remoteIdentity) === hex(a.identity)), 'connection to A closed')
  t.is((await b.timeline()).items.length, 0, 'not shown')
  t.alike(await b.replicator?.headersFor([identityTopic(a.identity)]), [], 'not offered to others')

  // A goes offline; C asks for A: B must not serve it.
  await a.close()
  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  await c.follow(a.identity)
  await c.follow(b.identity)
  await c.sync({ timeout: 30_000 })
  t.absent(c.trackedFeeds.some((f) => hex(f) === hex(a.feedKey)), 'C got no feed of A from B')
  t.is((await c.timeline({ author: a.identity })).items.length, 0)
})

test('swarm – restore: both device feeds of A reach B, attributed to A', async (t) => {
  const testnet = await createLocalDht(t)
  const dir = await t.tmp()
  const first = await Shoal.init(dir, { name: 'alice' })
  const a1 = first.shoal
  t.teardown(() => a1.close(), { order: 1 })
  await a1.joinNetwork({ dht: testnet.createNode() })
  await a1.post({ text: 'from the laptop' })

  const a2 = await createSwarmPeer(t, testnet, { restore: first.phrase as string })
  t.is(a2.id, a1.id)
  await a2.post({ text: 'from the phone' })

  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await b.follow(a1.identity)
  await b.sync({ timeout: 30_000 })
  const items = (await b.timeline()).items
  t.alike(items.map((i) => i.text).sort(), ['from the laptop', 'from the phone'])
  t.ok(items.every((i) => i.author === a1.id && i.authorName === 'alice'))
  t.is((await b.views.feedsOf(a1.identity)).length, 2)

  await a2.sync({ timeout: 30_000 })
  t.ok(a2.trackedFeeds.some((f) => hex(f) === hex(a1.feedKey)), 'the new device finds the old one')
})

test('swarm – malformed records and forged feed lists: skipped, counted, sync goes on', async (t) => {
  const testnet = await createLocalDht(t)
  const e = await createSwarmPeer(t, testnet, { name: 'eve' })
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  await a.post({ text: 'fine post' })
  await e.post({ text: 'valid from eve' })
  const core = e.core(e.feedKey)
  t.ok(core)
  await core!.append([b4a.from([1, 1, 1]), b4a.from([1, 1, 0, 9]), b4a.from([250, 1, 0])])
  await e.post({ text: 'eve again' })

  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await b.follow(e.identity)
  await b.follow(a.identity)
  await b.sync({ timeout: 30_000 })
  const texts = (await b.timeline()).items.map((i) => i.text).sort()
  t.alike(texts, ['eve again', 'fine post', 'valid from eve'])
  t.is(b.totals().malformed, 2)
  t.is(b.totals().unknown, 1)

  // A feed-list entry whose header is not signed by the identity it names is rejected.
  const mallory = keyPairFromSeed(createSeed())
  const forged = createHeader(mallory, b4a.alloc(32, 3) as FeedKey, 'forged', Date.now())
  forged.identity = a.identity
  const before = b.replicator!.rejected
  const from = b.replicator!.peers[0] as PeerSession
  await b.replicator!.acceptHeaders([encodeRecord(forged), b4a.from([0, 1, 2])], from)
  t.is(b.replicator!.rejected, before + 2, 'both entries rejected')
  t.absent(b.trackedFeeds.some((f) => hex(f) === hex(b4a.alloc(32, 3))), 'forged feed not tracked')
})

test('swarm – a connection cut mid-sync resumes without loss; 10,000 posts sync completely', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  for (let i = 0; i < 10_000; i++) await a.post({ text: `post ${i}` })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await b.follow(a.identity)
  let cut = 0
  const onIndexed = (ev: { feed: Uint8Array, position: number }): void => {
    if (cut > 0 || hex(ev.feed) !== hex(a.feedKey) || ev.position < 2000) return
    cut = ev.position
    for (const p of b.replicator!.peers) p.conn.destroy()
  }
  b.on('indexed', onIndexed)
  await b.sync({ timeout: 120_000 })
  b.off('indexed', onIndexed)
  t.ok(cut >= 2000 && cut < 10_003, `cut the connection at block ${cut}`)
  t.is(b.core(a.feedKey)?.contiguousLength, 10_003, 'header, DM keys, name, 10,000 posts')
  const authored = await b.timeline({ author: a.identity, limit: 500 })
  t.is(authored.items[0].text, 'post 9999')
  t.is(b.totals().messages, 10_001 + 2, 'all 10,000 posts, the name, and my own name + follow')
})

test('swarm – sync delivers my own writes: the peer holding my feed has the new post when sync returns', async (t) => {
  const testnet = await createLocalDht(t)
  const dir = await t.tmp()
  const a = await createSwarmPeer(t, testnet, { name: 'alice', storage: dir })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await b.follow(a.identity)
  await b.sync({ timeout: 30_000 })
  t.is(b.core(a.feedKey)?.contiguousLength, 3, 'B holds A\'s feed (header, DM keys, name)')
  await a.close()

  // A comes back as a CLI-only node would: open, post, join, sync once, close.
  const again = new Shoal(dir)
  await again.ready()
  t.teardown(() => again.close(), { order: 1 })
  await again.post({ text: 'written offline, then one sync' })
  await again.joinNetwork({ dht: testnet.createNode() })
  const res = await again.sync({ timeout: 30_000 })
  t.is(b.core(a.feedKey)?.contiguousLength, 4, 'B holds the post the moment A\'s sync returns')
  t.is(res.uploaded, 1, 'the post was uploaded, and counted')
  t.is(res.blocks, 0, 'nothing new to download')
  await again.close()
  await b.waitForIndexed(a.feedKey, 3)
  t.is((await b.timeline()).items[0]?.text, 'written offline, then one sync')
})

test('swarm – sync delivers a restored device\'s writes to every peer that wants the identity', async (t) => {
  const testnet = await createLocalDht(t)
  const first = await Shoal.init(await t.tmp(), { name: 'alice' })
  const a1 = first.shoal
  t.teardown(() => a1.close(), { order: 1 })
  await a1.joinNetwork({ dht: testnet.createNode() })
  const original = await a1.post({ text: 'from the laptop' })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await b.follow(a1.identity)
  await b.sync({ timeout: 30_000 })

  const a2 = await createSwarmPeer(t, testnet, { restore: first.phrase as string })
  await a2.sync({ timeout: 30_000 }) // learns the laptop's feed, so it can edit its post
  await a2.waitForIndexed(a1.feedKey, a1.feedLength)
  await a2.edit(original, 'from the laptop (edited on the phone)')
  await a2.post({ text: 'from the phone' })
  const res = await a2.sync({ timeout: 30_000 })
  for (const [name, peer] of [['B', b], ['the laptop', a1]] as const) {
    t.is(peer.core(a2.feedKey)?.contiguousLength, a2.feedLength, `${name} holds all of the phone's feed when its sync returns`)
  }
  t.ok(res.uploaded >= 2, `the edit and the post were uploaded (${res.uploaded} blocks)`)
  await b.waitForIndexed(a2.feedKey, a2.feedLength)
  t.alike((await b.timeline()).items.map((i) => i.text).sort(), ['from the laptop (edited on the phone)', 'from the phone'])
})

test('swarm – 300 unreachable follows: sync finds the online friend through my own topic and completes', async (t) => {
  const testnet = await createLocalDht(t)
  const p = await createSwarmPeer(t, testnet, { name: 'friend' })
  const { shoal: b } = await Shoal.init(await t.tmp(), { name: 'bob' })
  t.teardown(() => b.close(), { order: 1 })
  await p.follow(b.identity) // the friend announces my topic: it is how a sync of mine finds it
  await b.follow(p.identity)
  await addGhosts(b, 300)
  await p.post({ text: 'from the one peer online' })
  await b.joinNetwork({ dht: testnet.createNode() })
  const res = await b.sync({ timeout: 60_000 })
  t.is(res.topics, 302, 'me, the friend and 300 follows nobody serves are all in scope')
  t.is(res.peers, 1)
  t.is(b.core(p.feedKey)?.contiguousLength, p.feedLength, 'the friend\'s feed is complete')
  await b.waitForIndexed(p.feedKey, p.feedLength)
  t.is((await b.timeline({ author: p.identity })).items[0]?.text, 'from the one peer online')
})
