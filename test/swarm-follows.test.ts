import test, { type Test } from 'brittle'
import b4a from 'b4a'
import { createHeader } from '../src/feeds/header.js'
import { identityTopic } from '../src/caps.js'
import { createSeed, keyPairFromSeed, seedToPhrase } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import { WIRE_CAPS } from '../src/swarm/messages.js'
import type { FeedKey, IdentityKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { addGhosts } from './helpers/peers.js'
import { createLocalDht, createSwarmPeer, reopenSwarmPeer } from './helpers/swarm.js'

const GHOSTS = 40

/** The cores open in a Corestore (Corestore's own tracker: sessions of Shoal's and its own), by key (hex). */
function openCores (shoal: Shoal | Shoal['store']): Set<string> {
  const store = shoal instanceof Shoal ? shoal.store : shoal
  const tracker = (store as unknown as { cores: Iterable<{ key: Uint8Array }> }).cores
  return new Set([...tracker].map((core) => b4a.toString(core.key, 'hex')))
}

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

/** A node following a friend online and GHOSTS identities nobody serves, closed cleanly once. */
async function followsNode (t: Test, testnet: Awaited<ReturnType<typeof createLocalDht>>, friendHops: number): Promise<{ dir: string, friend: Shoal, ghosts: Array<{ identity: IdentityKey, feed: FeedKey }> }> {
  // The friend follows me (it announces my topic, so my sync finds it there).
  const friend = await createSwarmPeer(t, testnet, { name: 'friend', join: { hops: friendHops } })
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  await friend.follow(b.identity)
  await b.follow(friend.identity)
  const ghosts = await addGhosts(b, GHOSTS)
  await b.close() // clean close: every ghost feed is settled and stays closed on the next open
  await friend.replicator?.flush()
  return { dir, friend, ghosts }
}

test('swarm – unreachable follows: join opens no tracked feed; sync opens only what the peer offered; close leaves nothing open', async (t) => {
  const testnet = await createLocalDht(t)
  // hops 1: the friend wants me, not whom I follow, so no peer online holds or wants the ghosts.
  const { dir, friend, ghosts } = await followsNode(t, testnet, 1)
  await friend.post({ text: 'from the one peer online' })

  const b = await reopenSwarmPeer(t, testnet, dir)
  const own = hex(b.feedKey)
  // The friend may have connected while the node joined (the handshake runs while the scope is
  // computed), so its feed may be held and open already; no ghost feed is.
  const ghostFeeds = new Set(ghosts.map((g) => hex(g.feed)))
  t.is(b.trackedFeeds.filter((f) => ghostFeeds.has(hex(f))).length, GHOSTS, `${GHOSTS} ghost feeds tracked`)
  t.alike([...openCores(b)].filter((h) => h !== hex(friend.feedKey)), [own], 'after joining, no ghost feed is open')

  const res = await b.sync({ timeout: 60_000 })
  t.is(res.peers, 1)
  t.is(b.core(friend.feedKey)?.contiguousLength, friend.feedLength, 'the friend\'s new post arrived')
  t.is(res.feeds, GHOSTS + 2, 'the result counts every feed held, open or not')
  const open = openCores(b)
  t.alike([...open].sort(), [own, hex(friend.feedKey)].sort(), 'after sync: my feed and the one the friend offered, no ghost feed')
  t.absent(ghosts.some((g) => open.has(hex(g.feed))), 'no ghost feed opened')

  const cores = [b.core(b.feedKey), b.core(friend.feedKey)]
  const store = b.store
  await b.close()
  t.ok(cores.every((c) => c?.closed === true), 'close closed what sync opened')
  t.is(openCores(store).size, 0, 'nothing is left open in the Corestore')
})

test('swarm – unreachable follows: dropping blocked identities on join opens only their feeds', async (t) => {
  const testnet = await createLocalDht(t)
  const { dir, friend, ghosts } = await followsNode(t, testnet, 1)
  const b1 = new Shoal(dir)
  await b1.ready()
  await b1.block(ghosts[0].identity)
  t.alike(b1.trackedCores().map((c) => hex(c.key as Uint8Array)), [hex(ghosts[0].feed)], 'blocking opens the blocked identity\'s feed, no other')
  await b1.close()

  // On join the replicator drops every blocked identity (their feeds are untracked); that must
  // not open the feeds of the others.
  const b = await reopenSwarmPeer(t, testnet, dir)
  t.absent(b.trackedFeeds.some((f) => b4a.equals(f, ghosts[0].feed)), 'the blocked identity\'s feed is no longer tracked')
  t.is(b.trackedFeeds.filter((f) => ghosts.some((g) => b4a.equals(f, g.feed))).length, GHOSTS - 1)
  t.alike([...openCores(b)].filter((h) => h !== hex(friend.feedKey)), [hex(b.feedKey)], 'no other ghost feed is open after joining (the friend\'s may be)')
  await b.sync({ timeout: 60_000 })
  t.is(b.core(friend.feedKey)?.contiguousLength, friend.feedLength)
  t.absent(ghosts.some((g) => openCores(b).has(hex(g.feed))), 'no ghost feed opened')
})

test('swarm – unreachable follows: a feed left closed opens and is served once a peer asks for its identity', async (t) => {
  const testnet = await createLocalDht(t)
  // hops 2: the friend follows me, so it wants whom I follow, and I hold their feeds.
  const { dir, friend, ghosts } = await followsNode(t, testnet, 2)
  const b = await reopenSwarmPeer(t, testnet, dir)
  t.alike([...openCores(b)], [hex(b.feedKey)], 'only my own feed is open after joining')
  const g = ghosts[GHOSTS - 1]
  const replicator = friend.replicator
  if (replicator === null) throw new Error('the friend is joined')
  // The friend learns my follows from my feed and asks me for them; I open each ghost feed to
  // answer with its header, and the friend tracks and replicates it.
  const tracked = new Promise<void>((resolve) => {
    const check = (): void => {
      if (!friend.trackedFeeds.some((f) => b4a.equals(f, g.feed))) return
      replicator.off('accepted', check)
      resolve()
    }
    replicator.on('accepted', check)
  })
  await b.sync({ timeout: 60_000 })
  await tracked
  await friend.waitForIndexed(g.feed, 1)
  t.pass('the friend tracks and indexed a ghost feed it could only get from me')
  t.ok(openCores(b).has(hex(g.feed)), 'I opened that ghost feed to serve it')
})

test('swarm – more wants than one want list holds: a peer is asked first for the identities it proved it knows', async (t) => {
  const testnet = await createLocalDht(t)
  // The friend's identity sorts last among whom my contact follows, so a want list in scope
  // order (capped at WIRE_CAPS.topics) would leave it out.
  let seed = createSeed()
  while (keyPairFromSeed(seed).publicKey[0] !== 0xff) seed = createSeed()
  const friend = await createSwarmPeer(t, testnet, { restore: seedToPhrase(seed), join: { hops: 1 } })
  const { shoal: b } = await Shoal.init(await t.tmp(), { name: 'bob' })
  t.teardown(() => b.close(), { order: 1 })
  // I follow one contact (a feed I hold) who follows the friend and more identities than the cap.
  const contact = keyPairFromSeed(createSeed())
  const core = b.store.get({ name: 'contact' })
  await core.ready()
  const blocks = [encodeRecord(createHeader(contact, core.key as FeedKey, 'contact', Date.now()))]
  blocks.push(encodeRecord({ type: 'follow', timestamp: Date.now(), target: friend.identity }))
  for (let i = 0; i < WIRE_CAPS.topics; i++) {
    const target = createSeed() as IdentityKey // any 32 bytes sorting before the friend
    target[0] = Math.min(target[0], 0xfe)
    blocks.push(encodeRecord({ type: 'follow', timestamp: Date.now(), target }))
  }
  await core.append(blocks)
  await core.close()
  await b.addFeed(core.key as FeedKey)
  await b.follow(contact.publicKey)
  await b.indexed()
  await friend.follow(b.identity) // it announces my topic: my sync finds it there
  await friend.replicator?.flush()
  await friend.post({ text: 'two hops away' })

  await b.joinNetwork({ dht: testnet.createNode() })
  const replicator = b.replicator
  if (replicator === null) throw new Error('joined')
  const friendTopic = hex(identityTopic(friend.identity))
  t.ok(replicator.joinedTopics.size > WIRE_CAPS.topics, `${replicator.joinedTopics.size} identities in scope`)
  t.absent(replicator.wantTopics().some((x) => hex(x) === friendTopic), 'a want list in scope order leaves the friend out')
  const res = await b.sync({ timeout: 120_000 })
  t.is(res.peers, 1)
  t.ok(replicator.peers[0]?.asked.has(friendTopic), 'the friend was asked for itself')
  t.is(b.core(friend.feedKey)?.contiguousLength, friend.feedLength, 'and its post arrived')
})
