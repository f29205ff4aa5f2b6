import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { Shoal } from '../src/node/shoal.js'
import { feedToString, identityToString, type FeedKey } from '../src/ids.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { createPeer } from './helpers/peers.js'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

test('wire caps – followed feeds with 1, 4 and 8 MiB blocks: refused at once, flagged in status, nothing kept', async (t) => {
  const testnet = await createLocalDht(t)
  const sizes = [1, 4, 8]
  const authors: Shoal[] = []
  for (const mib of sizes) {
    const a = await createSwarmPeer(t, testnet, { name: `big${mib}` })
    await a.post({ text: 'before the big block' })
    await a.core(a.feedKey)!.append(b4a.alloc(mib * 1024 * 1024, 1))
    authors.push(a)
  }
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  for (const a of authors) await b.follow(a.identity)
  await b.sync({ timeout: 60_000 })
  const status = await b.status()
  for (const [i, a] of authors.entries()) {
    t.absent(b.trackedFeeds.some((f) => hex(f) === hex(a.feedKey)), `${sizes[i]} MiB: the feed is no longer tracked`)
    t.is(b.core(a.feedKey), null, `${sizes[i]} MiB: its blocks are purged`)
    const feed = status.identities.find((x) => x.id === a.id)?.feeds.find((f) => f.key === feedToString(a.feedKey))
    t.alike(feed?.issues.map((x) => x.flag), ['oversize'], `${sizes[i]} MiB: flagged oversize in status`)
  }
  // A later sync does not take the refused feeds again.
  await b.sync({ timeout: 60_000 })
  t.absent(b.trackedFeeds.some((f) => authors.some((a) => hex(f) === hex(a.feedKey))), 'refused feeds stay refused')
})

test('wire caps – storage per remote identity: a feed past the cap is refused and flagged', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  for (let i = 0; i < 8; i++) await a.post({ text: 'x'.repeat(8000) })
  const small = await createSwarmPeer(t, testnet, { name: 'small' })
  await small.post({ text: 'short' })
  const b = await createSwarmPeer(t, testnet, { name: 'bob', storagePerIdentity: 32 * 1024 })
  await b.follow(a.identity)
  await b.follow(small.identity)
  await b.sync({ timeout: 60_000 })
  t.absent(b.trackedFeeds.some((f) => hex(f) === hex(a.feedKey)), 'alice\'s 64 KB feed is refused at a 32 KiB cap')
  t.ok(b.trackedFeeds.some((f) => hex(f) === hex(small.feedKey)), 'a feed under the cap is kept')
  const feed = (await b.status()).identities.find((x) => x.id === a.id)?.feeds[0]
  t.is(feed?.issues[0]?.flag, 'storage-cap')
  t.is((await b.timeline({ author: small.identity })).items[0]?.text, 'short')
})

test('forks – a followed feed rewritten by its writer (truncated, new fork): shown in status for that feed', async (t) => {
  const owner = keyPairFromSeed(createSeed())
    const store = new Corestore(await t.tmp())
  t.teardown(() => store.close(), { order: 2 })
  const writer = store.get({ name: 'device' })
  await writer.ready()
  const post = (text: string): Uint8Array => encodeRecord({ type: 'post', timestamp: 2, text, root: null, parent: null, cw: null, mentions: [] })
  const key = writer.key as FeedKey
  await writer.append(encodeRecord(createHeader(owner, key, 'laptop', 1)))
  await writer.append([post('one'), post('two')])

  const b = await createPeer(t, { name: 'bob' })
  await b.addFeed(key)
  const s1 = store.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2 as any).pipe(s1)
  t.teardown(() => { s1.destroy(); s2.destroy() }, { order: 0 })
  await b.waitForIndexed(key, 3)
  const core = b.core(key)!
  const forked = new Promise<void>((resolve) => core.once('truncate', () => resolve()))
  await writer.truncate(2)
  await writer.append(post('two, rewritten'))
  await forked
  const feed = (await b.status()).identities.find((x) => x.id === identityToString(owner.publicKey))?.feeds[0]
  t.is(feed?.issues[0]?.flag, 'fork', 'the fork is shown, not dropped silently')
  t.ok(feed?.issues[0]?.detail.includes('fork 1'), feed?.issues[0]?.detail)
})

test('forks – two signed versions of a followed feed (one key, two writers): shown in status for that feed', async (t) => {
  const owner = keyPairFromSeed(createSeed())
  const feedKeys = crypto.keyPair()
  const post = (text: string): Uint8Array => encodeRecord({ type: 'post', timestamp: 2, text, root: null, parent: null, cw: null, mentions: [] })
  const writers: Array<{ store: Corestore, core: Hypercore }> = []
  for (const text of ['version one', 'version two']) {
    const store = new Corestore(await t.tmp())
    t.teardown(() => store.close(), { order: 2 })
    const core = store.get({ keyPair: feedKeys } as unknown as { name: string })
    await core.ready()
    await core.append(encodeRecord(createHeader(owner, core.key as FeedKey, 'laptop', 1)))
    await core.append(post(text))
    writers.push({ store, core })
  }
  await writers[1].core.append(post('and longer'))
  const key = writers[0].core.key as FeedKey
  t.is(b4a.toString(key, 'hex'), b4a.toString(writers[1].core.key as Uint8Array, 'hex'), 'one feed key, two writers')

  const b = await createPeer(t, { name: 'bob' })
  await b.addFeed(key)
  const link = (store: Corestore): () => void => {
    const s1 = store.replicate(true)
    const s2 = b.replicate(false)
    s1.pipe(s2 as any).pipe(s1)
    const stop = (): void => { s1.destroy(); s2.destroy() }
    t.teardown(stop, { order: 0 })
    return stop
  }
  const stop = link(writers[0].store)
  await b.waitForIndexed(key, 2)
  stop()
  const core = b.core(key)!
  const conflict = new Promise<void>((resolve) => core.once('conflict', () => resolve()))
  link(writers[1].store)
  await conflict
  const feed = (await b.status()).identities.find((x) => x.id === identityToString(owner.publicKey))?.feeds[0]
  t.is(feed?.issues[0]?.flag, 'fork', 'the fork is shown, not dropped silently')
  t.ok(feed?.issues[0]?.detail.includes('two signed versions'), feed?.issues[0]?.detail)
})
