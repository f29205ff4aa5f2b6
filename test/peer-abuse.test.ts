import test from 'brittle'
import b4a from 'b4a'
import { identityTopic } from '../src/caps.js'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed, type IdentityKeyPair } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import type { Shoal } from '../src/node/shoal.js'
import type { PeerDrop, Replicator } from '../src/swarm/replicator.js'
import type { PeerLimits } from '../src/swarm/peer-limits.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { RawPeer, streamPair } from './helpers/raw-peer.js'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

/** `n` headers of fresh device feeds, each validly signed by `owner`. */
function attestedHeaders (owner: IdentityKeyPair, n: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) out.push(encodeRecord(createHeader(owner, keyPairFromSeed(createSeed()).publicKey as unknown as FeedKey, '', 1)))
  return out
}

/** Resolves with the first `n` drops the replicator records from now on. */
function drops (r: Replicator, n: number): Promise<PeerDrop[]> {
  const seen: PeerDrop[] = []
  return new Promise((resolve) => {
    const on = (d: PeerDrop): void => {
      seen.push(d)
      if (seen.length < n) return
      r.off('drop', on)
      resolve(seen)
    }
    r.on('drop', on)
  })
}

/** Resolves after `n` feed lists were processed. */
function accepted (r: Replicator, n: number): Promise<void> {
  let left = n
  return new Promise((resolve) => {
    const on = (): void => { if (--left === 0) { r.off('accepted', on); resolve() } }
    r.on('accepted', on)
  })
}

/** A node that follows `friend`, and a raw peer that proved it knows `friend` and identified as `as`. */
async function provenPeer (t: Parameters<Parameters<typeof test>[1]>[0], node: Shoal, friend: IdentityKeyPair, as: IdentityKeyPair): Promise<RawPeer> {
  const raw = await RawPeer.connect(t, node.replicator as Replicator)
  raw.openWith([friend.publicKey])
  await raw.until((s) => s.identify.length === 1)
  raw.identifyAs(as)
  await raw.until((s) => s.want.length === 1)
  return raw
}

/** A node (with these peer limits) that follows `friend`, and a raw peer proven to know `friend`. */
async function followedFriendPeer (t: Parameters<Parameters<typeof test>[1]>[0], limits: Partial<PeerLimits> = {}): Promise<{ testnet: Awaited<ReturnType<typeof createLocalDht>>, node: Shoal, friend: IdentityKeyPair, raw: RawPeer }> {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet, { join: { limits } })
  const friend = keyPairFromSeed(createSeed())
  await node.follow(friend.publicKey)
  await node.replicator!.refresh()
  const raw = await provenPeer(t, node, friend, keyPairFromSeed(createSeed()))
  return { testnet, node, friend, raw }
}

test('peers – 20,480 attested device feeds of a followed identity: 16 tracked, the rest ignored without a signature check', async (t) => {
  const { node, friend, raw } = await followedFriendPeer(t)
  const headers = attestedHeaders(friend, 20_480)
  const done = accepted(node.replicator!, 5)
  raw.have.send({ round: 1, headers: headers.slice(0, 4096) })
  for (let i = 1; i < 5; i++) raw.have.send({ round: 0, headers: headers.slice(i * 4096, (i + 1) * 4096) })
  await done
  t.is(node.trackedFeeds.length, 16, 'the default cap of device feeds per identity')
  t.is(node.replicator!.capped, 20_480 - 16)
  t.is(node.replicator!.rejected, 0, 'valid entries are not rejections')
  t.absent(raw.seen.closed, 'an honest relay is not dropped')

  await node.block(friend.publicKey)
  await node.replicator!.refresh()
  t.is(node.trackedFeeds.length, 0, 'blocking untracks every feed whose header names it (none indexed yet)')
  t.absent(node.replicator!.wantTopics().some((x) => hex(x) === hex(identityTopic(friend.publicKey))), 'and stops asking for it')
})

test('peers – the device-feed cap is configurable', async (t) => {
  const { node, friend, raw } = await followedFriendPeer(t, { feedsPerIdentity: 3 })
  const done = accepted(node.replicator!, 1)
  raw.have.send({ round: 1, headers: attestedHeaders(friend, 10) })
  await done
  t.is(node.trackedFeeds.length, 3)
})

test('peers – a list naming one feed several times: tracked once, counted once against the cap', async (t) => {
  const { node, friend, raw } = await followedFriendPeer(t, { feedsPerIdentity: 3 })
  const [h0, h1, h2, h3] = attestedHeaders(friend, 4)
  const done = accepted(node.replicator!, 1)
  raw.have.send({ round: 1, headers: [h0, h0, h1, h0, h2, h1, h3] })
  await done
  t.is(node.trackedFeeds.length, 3, 'the three first distinct feeds')
  t.is(node.replicator!.capped, 1, 'the fourth is over the cap; the repeats are not counted')
  t.is(node.replicator!.rejected, 0)
})

test('peers – 40 × 4,096 junk headers: dropped with PEER_ABUSE after the rejection budget', async (t) => {
  const { node, friend, raw } = await followedFriendPeer(t)
  const dropped = drops(node.replicator!, 1)
  // Validly encoded headers of identities never asked for, and forged ones of the friend.
  const stranger = keyPairFromSeed(createSeed())
  const junk = attestedHeaders(stranger, 2048)
  const forged = attestedHeaders(keyPairFromSeed(createSeed()), 2048).map((h) => { h.set(friend.publicKey, 3); return h })
  for (let i = 0; i < 40 && !raw.seen.closed; i++) raw.have.send({ round: 0, headers: i % 2 === 0 ? junk.concat(forged) : forged.concat(junk) })
  const [d] = await dropped
  t.is(d.reason, 'PEER_ABUSE')
  await raw.until((s) => s.closed)
  t.ok(node.replicator!.rejected <= 65, `stopped after the budget (${node.replicator!.rejected} rejections, not 163,840)`)
  t.is(node.trackedFeeds.length, 0)
  t.ok((await node.status()).drops.some((x) => x.reason === 'PEER_ABUSE'), 'status lists the drop')
})

test('peers – message and byte budgets: a flood of wants is dropped with PEER_ABUSE', async (t) => {
  const { testnet, node, friend, raw } = await followedFriendPeer(t, { messages: 50 })
  const dropped = drops(node.replicator!, 1)
  for (let i = 0; i < 200 && !raw.seen.closed; i++) raw.want.send({ round: i + 1, topics: [] })
  const [d] = await dropped
  t.is(d.reason, 'PEER_ABUSE')
  t.ok(d.detail.includes('messages'), d.detail)

  const node2 = await createSwarmPeer(t, testnet, { join: { limits: { bytes: 64 * 1024 } } })
  await node2.follow(friend.publicKey)
  await node2.replicator!.refresh()
  const raw2 = await provenPeer(t, node2, friend, keyPairFromSeed(createSeed()))
  const dropped2 = drops(node2.replicator!, 1)
  raw2.have.send({ round: 0, headers: Array.from({ length: 100 }, () => b4a.alloc(1000, 1)) })
  const [d2] = await dropped2
  t.is(d2.reason, 'PEER_ABUSE')
  t.ok(d2.detail.includes('bytes'), d2.detail)
})

test('peers – 70 connections that never open the channel: dropped at the hello deadline, and a wanted peer still gets in', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet, { join: { limits: { maxPeers: 8, helloTimeoutMs: 2000 } } })
  const friend = keyPairFromSeed(createSeed())
  await node.follow(friend.publicKey)
  await node.replicator!.refresh()
  const r = node.replicator!
  const all = drops(r, 70)
  const silent = []
  for (let i = 0; i < 70; i++) {
    const { node: end, peer } = await streamPair(t)
    r.connect(end)
    silent.push(peer)
    t.ok(r.pending.length + r.peers.length <= 8, 'never more than the connection limit') // checked 70 times
  }
  const raw = await RawPeer.connect(t, r)
  raw.openWith([friend.publicKey])
  await raw.until((s) => s.identify.length === 1)
  t.is(hex(raw.seen.identify[0].identity), hex(node.identity), 'the peer that knows a wanted identity is answered')
  const seen = await all
  const reasons = new Set(seen.map((d) => d.reason))
  t.alike([...reasons].sort(), ['PEER_LIMIT', 'PEER_TIMEOUT'], 'evicted at the limit or timed out, each recorded')
  t.is(seen.filter((d) => d.reason === 'PEER_LIMIT').length, 70 - 7, 'room kept: all but 7 silent ones evicted as others came')
  t.absent(raw.seen.closed, 'the proven peer stays')
})

test('peers – blocking untracks feeds the views never indexed', async (t) => {
  const { node, friend, raw } = await followedFriendPeer(t)
  const done = accepted(node.replicator!, 1)
  raw.have.send({ round: 1, headers: attestedHeaders(friend, 5) })
  await done
  t.is(node.trackedFeeds.length, 5)
  t.alike(await node.views.feedsOf(friend.publicKey), [], 'no device rows: no block of those feeds was ever downloaded')
  await node.block(friend.publicKey)
  await node.replicator!.refresh()
  t.is(node.trackedFeeds.length, 0)
})
