import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { createLocalDht } from './helpers/swarm.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { FeedKey, IdentityKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { Indexer } from '../src/views/indexer.js'
import { ViewDb } from '../src/views/view-db.js'

const holds = (node: Shoal, feed: Uint8Array): boolean => node.trackedFeeds.some((f) => b4a.equals(f, feed))

test('block drop – a drop asked for someone unblocked meanwhile (a scope from before the unblock) keeps their feeds', async (t) => {
  const me = await createPeer(t, { name: 'me' })
  const y = await createPeer(t, { name: 'yves' })
  const z = await createPeer(t, { name: 'zed' })
  await z.follow(y.identity)
  replicate(me, z, t)
  await syncFeed(me, z)
  await me.block(z.identity)
  t.ok(holds(me, z.feedKey), 'not joined to a network: a block keeps their feed (hidden)')
  await me.unblock(z.identity)
  await me.dropIdentity(z.identity) // what a replicator whose scope was computed before the unblock asks
  t.ok(holds(me, z.feedKey), 'unblocked: their feed is kept')
  t.is((await me.profile(y.identity)).followers, 1, 'and zed\'s follow of yves still counts')
  await me.block(z.identity)
  await me.dropIdentity(z.identity)
  t.absent(holds(me, z.feedKey), 'blocked: the same drop lets their feed go')
})

test('block drop – joined to a network, my other device\'s block drops their feeds by the time indexed() resolves', async (t) => {
  const testnet = await createLocalDht(t)
  const { shoal: laptop, phrase } = await Shoal.init(await t.tmp(), { name: 'bob' })
  t.teardown(() => laptop.close(), { order: 1 })
  await laptop.joinNetwork({ dht: testnet.createNode() })
  const phone = await createPeer(t, { restore: phrase as string })
  const m = await createPeer(t, { name: 'mallory' })
  replicate(laptop, phone, t)
  replicate(m, laptop, t)
  await m.post({ text: 'mallory here' })
  await syncFeed(laptop, m)
  t.ok(holds(laptop, m.feedKey))
  await phone.block(m.identity)
  await syncFeed(laptop, phone)
  await laptop.indexed()
  t.absent(holds(laptop, m.feedKey), 'mallory\'s feed is dropped, not left to the next scope refresh')
  t.is((await laptop.timeline({ author: m.identity })).items.length, 0)
  await laptop.unblock(m.identity)
  t.absent(holds(laptop, m.feedKey), 'an unblock does not bring back what the block dropped')
  await syncFeed(laptop, m)
  t.is((await laptop.timeline({ author: m.identity })).items.length, 1, 'synced again: her post is back')
})

test('block drop – waiting on a feed that is removed meanwhile resolves (a drop during an unblock\'s wait)', async (t) => {
  const store = new Corestore(await t.tmp())
  t.teardown(() => store.close(), { order: 2 })
  const db = new ViewDb(await t.tmp())
  await db.ready()
  const me = keyPairFromSeed(createSeed()).publicKey as IdentityKey
  const indexer = new Indexer(db, { me })
  t.teardown(async () => { await indexer.close(); await db.close() }, { order: 1 })
  const core = store.get({ name: 'theirs' })
  await core.ready()
  await core.append(encodeRecord(createHeader(keyPairFromSeed(createSeed()), core.key as FeedKey, 'them', Date.now())))
  await indexer.add(core)
  const waiting = indexer.waitFor(core.key as Uint8Array, 10) // more than it holds: indexed up to 1
  indexer.remove(core.key as Uint8Array)
  await waiting
  t.is(indexer.position(core.key as Uint8Array), 0, 'resolved: nothing more of it is indexed here')
})
