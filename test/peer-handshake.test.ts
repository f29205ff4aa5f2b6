import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import sodium from 'sodium-universal'
import { identityTopic } from '../src/caps.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { identityToString } from '../src/ids.js'
import { WIRE_CAPS, identifyPayload, knowledgeProof } from '../src/swarm/messages.js'
import type { PeerDrop, Replicator } from '../src/swarm/replicator.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { RawPeer, streamPair, twoDrops } from './helpers/raw-peer.js'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

function nextDrop (r: Replicator): Promise<PeerDrop> {
  return new Promise((resolve) => r.once('drop', resolve))
}

test('handshake – a stranger who knows no identity I want learns nothing: no identity, no topics', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const friend = keyPairFromSeed(createSeed())
  await node.follow(friend.publicKey)
  await node.replicator!.refresh()

  const raw = await RawPeer.connect(t, node.replicator!)
  raw.openWith([keyPairFromSeed(createSeed()).publicKey, b4a.alloc(32, 7)])
  await raw.until((s) => s.open !== null)
  // A round trip on the same channel: anything the node sent on open arrives before this answer.
  raw.want.send({ round: 1, topics: [identityTopic(friend.publicKey)] })
  await raw.until((s) => s.have.length === 1)
  t.is(raw.seen.identify.length, 0, 'no identity revealed')
  t.is(raw.seen.want.length, 0, 'no want topics sent')
  t.alike(raw.seen.have[0].headers, [], 'its want is answered empty')
  const open = raw.seen.open!
  t.is(open.proofs.length, 2, 'the node proves two identities (itself, the friend)')
  const topics = [identityTopic(node.identity), identityTopic(friend.publicKey)].map(hex)
  t.absent(open.proofs.some((p) => topics.includes(hex(p))), 'proofs are not the stable topics')
  t.ok(open.proofs.some((p) => hex(p) === hex(knowledgeProof(raw.hash, false, friend.publicKey))), 'a peer that knows the friend can recognise one')

  // Reflecting the node's own proofs back (what the node sends, computed with its role) does not
  // count as knowing them.
  const raw2 = await RawPeer.connect(t, node.replicator!)
  raw2.channel.open({ version: 2, proofs: [node.identity, friend.publicKey].map((id) => knowledgeProof(raw2.hash, false, id)) })
  raw2.want.send({ round: 1, topics: [] })
  await raw2.until((s) => s.have.length === 1)
  t.is(raw2.seen.identify.length, 0, 'reflected proofs are refused (the role is bound in)')
})

test('handshake – a peer that knows an identity I want, or me, gets my identity, then my want', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const friend = keyPairFromSeed(createSeed())
  await node.follow(friend.publicKey)
  await node.replicator!.refresh()

  for (const known of [friend.publicKey, node.identity]) {
    const raw = await RawPeer.connect(t, node.replicator!)
    raw.openWith([known])
    await raw.until((s) => s.identify.length === 1)
    const id = raw.seen.identify[0]
    t.is(hex(id.identity), hex(node.identity))
    t.ok(sodium.crypto_sign_verify_detached(id.signature, identifyPayload(raw.hash, false), id.identity), 'signed over the handshake hash and its role')
    t.is(raw.seen.want.length, 0, 'no want before I identify')
    raw.identifyAs(keyPairFromSeed(createSeed()))
    await raw.until((s) => s.want.length === 1)
    t.ok(raw.seen.want[0].topics.some((x) => hex(x) === hex(identityTopic(friend.publicKey))), 'want topics come after both identified')
  }
})

test('handshake – a replayed identify, a bad signature, a blocked identity, an old or wrong version: dropped with a reason', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet, { join: { limits: { helloTimeoutMs: 1000 } } })
  const friend = keyPairFromSeed(createSeed())
  const enemy = keyPairFromSeed(createSeed())
  await node.follow(friend.publicKey)
  await node.block(enemy.publicKey)
  await node.replicator!.refresh()
  const r = node.replicator!

  // Echo the node's own identify back: it is bound to the node's role, so it does not verify.
  const echo = await RawPeer.connect(t, r)
  echo.openWith([friend.publicKey])
  await echo.until((s) => s.identify.length === 1)
  let dropped = nextDrop(r)
  echo.identify.send(echo.seen.identify[0])
  t.is((await dropped).reason, 'PEER_REJECTED', 'replayed identify')

  const blocked = await RawPeer.connect(t, r)
  blocked.openWith([friend.publicKey])
  await blocked.until((s) => s.identify.length === 1)
  dropped = nextDrop(r)
  blocked.identifyAs(enemy)
  const d = await dropped
  t.is(d.reason, 'PEER_REJECTED', 'blocked identity')

  dropped = nextDrop(r)
  const v3 = await RawPeer.connect(t, r)
  v3.channel.open({ version: 3, proofs: [] })
  t.is((await dropped).reason, 'PROTOCOL_ERROR', 'version 3 on the v2 channel')

  const oldHello: c.Encoder<{ version: number, identity: Uint8Array, signature: Uint8Array }> = {
    preencode (s, v) { c.uint.preencode(s, v.version); c.fixed32.preencode(s, v.identity); c.fixed64.preencode(s, v.signature) },
    encode (s, v) { c.uint.encode(s, v.version); c.fixed32.encode(s, v.identity); c.fixed64.encode(s, v.signature) },
    decode (s) { return { version: c.uint.decode(s), identity: c.fixed32.decode(s), signature: c.fixed64.decode(s) } }
  }
  dropped = nextDrop(r)
  const v1 = await RawPeer.connect(t, r, { protocol: 'shoal/feeds/v1', handshake: oldHello })
  v1.channel.open({ version: 1, identity: b4a.alloc(32), signature: b4a.alloc(64) })
  const old = await dropped
  t.is(old.reason, 'PROTOCOL_ERROR', 'a v1 peer refuses the v2 channel')
  t.ok(old.detail.includes('shoal/feeds/v2'), old.detail)

  const reasons = (await node.status()).drops.map((x) => x.reason)
  t.alike(reasons, ['PEER_REJECTED', 'PEER_REJECTED', 'PROTOCOL_ERROR', 'PROTOCOL_ERROR'], 'status lists each drop')
})

test('handshake – sync and status report dropped peers with their reason', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet, { join: { limits: { helloTimeoutMs: 1000 } } })
  const r = node.replicator!
  // A peer that never opens the channel (the sync waits for its handshake, which ends in a drop),
  // then one on the old channel version.
  const { sync: res, silent } = await twoDrops(t, node, r)
  t.is(res.peers, 0)
  t.alike(res.drops.map((d) => d.reason), ['PEER_TIMEOUT'], 'the sync says why it has no peer')
  t.is(res.drops[0].publicKey, identityToString(silent.publicKey as Uint8Array), 'the dropped peer\'s Noise key')
  t.alike((await node.status()).drops.map((d) => d.reason).sort(), ['PEER_TIMEOUT', 'PROTOCOL_ERROR'])
})

test('handshake – a scope change re-runs the proofs: a peer met before the follow is identified after it', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const later = keyPairFromSeed(createSeed())

  // The peer knows `later`, whom the node does not follow yet: no identify.
  const raw = await RawPeer.connect(t, node.replicator!)
  raw.openWith([later.publicKey])
  raw.want.send({ round: 1, topics: [] })
  await raw.until((s) => s.have.length === 1)
  t.is(raw.seen.identify.length, 0)
  await node.follow(later.publicKey)
  await node.replicator!.refresh()
  await raw.until((s) => s.identify.length === 1)
  t.is(hex(raw.seen.identify[0].identity), hex(node.identity), 'identified once the node wants `later`')
  t.ok(raw.seen.proofs.at(-1)?.some((p) => hex(p) === hex(knowledgeProof(raw.hash, false, later.publicKey))), 'and told the peer its new proofs')

  // A peer the node identified to (it knows the node) learns the node's new proofs too.
  const friend2 = keyPairFromSeed(createSeed())
  const raw2 = await RawPeer.connect(t, node.replicator!)
  raw2.openWith([node.identity])
  await raw2.until((s) => s.identify.length === 1)
  await node.follow(friend2.publicKey)
  await node.replicator!.refresh()
  await raw2.until((s) => s.proofs.some((list) => list.some((p) => hex(p) === hex(knowledgeProof(raw2.hash, false, friend2.publicKey)))))
  t.pass('new proofs reach a peer that has not identified yet')
})

test('handshake – a peer whose proofs were complete is asked only for what they name, then for what its later proofs and wants name', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const [friend, other, third, fourth, fifth] = Array.from({ length: 5 }, () => keyPairFromSeed(createSeed()).publicKey)
  for (const id of [friend, other, third]) await node.follow(id)
  await node.replicator!.refresh()
  const topicsOf = (list: Uint8Array[]): string[] => list.map(hex).sort()
  const topic = (id: Uint8Array): string => hex(identityTopic(id))
  const proofsFor = (raw: RawPeer, ids: Uint8Array[]): Uint8Array[] => ids.map((id) => knowledgeProof(raw.hash, true, id))

  // Two proofs (complete: fewer than the cap, more than a node whose scope is not known yet).
  const raw = await RawPeer.connect(t, node.replicator!)
  raw.openWith([node.identity, friend])
  await raw.until((s) => s.identify.length === 1)
  raw.identifyAs(keyPairFromSeed(createSeed()))
  await raw.until((s) => s.want.length === 1)
  t.is(hex(raw.seen.want[0].topics[0]), topic(node.identity), 'me first')
  t.alike(topicsOf(raw.seen.want[0].topics), [node.identity, friend].map(topic).sort(), 'only the identities its proofs named, not every follow')

  // Its scope grew: new proofs name `other`, a later want names `third`. Each is asked for next.
  raw.proofs.send({ proofs: proofsFor(raw, [node.identity, friend, other]) })
  await raw.until((s) => s.want.length === 2)
  t.alike(topicsOf(raw.seen.want[1].topics), [node.identity, friend, other].map(topic).sort(), 'its new proofs named `other`: asked for')
  raw.want.send({ round: 1, topics: [identityTopic(third), identityTopic(fourth)] })
  await raw.until((s) => s.want.length === 3 && s.have.length >= 1)
  t.alike(topicsOf(raw.seen.want[2].topics), [node.identity, friend, other, third].map(topic).sort(), 'its want named `third`, whom I follow: asked for (not `fourth`, whom I do not)')
  t.is(raw.seen.have.find((h) => h.round === 1)?.round, 1, 'and its want is answered as before')

  // My scope grows: the narrow peer gets my new proofs after my new want.
  const proofsBefore = raw.seen.proofs.length
  await node.follow(fourth)
  await node.replicator!.refresh()
  await raw.until((s) => s.proofs.length > proofsBefore)
  t.ok(raw.seen.proofs.at(-1)?.some((p) => hex(p) === hex(knowledgeProof(raw.hash, false, fourth))), 'my new proofs, sent after it identified')

  // Its proofs name `fifth`, whom I do not follow: nothing asked. Once I follow `fifth`, asked.
  raw.proofs.send({ proofs: proofsFor(raw, [node.identity, friend, other, fifth]) })
  raw.want.send({ round: 2, topics: [] }) // answered after the proofs above were handled
  await raw.until((s) => s.have.some((h) => h.round === 2))
  t.absent(raw.seen.want.some((w) => w.topics.some((x) => hex(x) === topic(fifth))), 'a named identity I do not want is not asked for')
  await node.follow(fifth)
  await node.replicator!.refresh()
  await raw.until((s) => s.want.some((w) => w.topics.some((x) => hex(x) === topic(fifth))))
  t.pass('after I follow it, the identity its latest proofs named is asked for')

  // One proof (a node whose scope is not known yet proves only itself), or a capped list: asked for everything.
  const all = [node.identity, friend, other, third, fourth, fifth].map(topic).sort()
  const one = await RawPeer.connect(t, node.replicator!)
  one.openWith([node.identity])
  await one.until((s) => s.identify.length === 1)
  one.identifyAs(keyPairFromSeed(createSeed()))
  await one.until((s) => s.want.length === 1)
  t.alike(topicsOf(one.seen.want[0].topics), all, 'one proof: every identity I want')
  const capped = await RawPeer.connect(t, node.replicator!)
  capped.channel.open({ version: 2, proofs: [...proofsFor(capped, [friend]), ...Array.from({ length: WIRE_CAPS.proofs - 1 }, () => b4a.alloc(32, 9))] })
  await capped.until((s) => s.identify.length === 1)
  capped.identifyAs(keyPairFromSeed(createSeed()))
  await capped.until((s) => s.want.length === 1)
  t.alike(topicsOf(capped.seen.want[0].topics), all, 'a list at the cap: every identity I want')
})
