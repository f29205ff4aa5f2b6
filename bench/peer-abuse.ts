/**
 * `tsc -p . && node dist/bench/peer-abuse.js`: what an abusive peer costs a node. A peer that
 * proved a followed identity floods (1) 40 × 4,096 junk headers and (2) 5 × 4,096 validly signed
 * device feeds of that identity. Reports how long the node took to drop or settle, the longest
 * event-loop stall meanwhile (what the local API would feel), and what was kept. Targets: dropped
 * after at most 65 rejected entries with no stall over 50 ms for (1); 16 feeds tracked and no
 * stall over 250 ms for (2). The attacker runs in the same process (its encryption of 28 MB of
 * junk is part of the wall time). Everything runs on a stream pair and a local testnet on 127.0.0.1.
 */
import b4a from 'b4a'
import Protomux from 'protomux'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import createTestnet from 'hyperdht/testnet.js'
import sodium from 'sodium-universal'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed, type IdentityKeyPair } from '../src/feeds/identity.js'
import { encodeRecord } from '../src/feeds/schema.js'
import type { FeedKey } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { PROTOCOL, have, identify, identifyPayload, knowledgeProof, open, proofs, want } from '../src/swarm/messages.js'
import type { Replicator } from '../src/swarm/replicator.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const TARGET = { junkRejections: 65, junkStallMs: 50, feedsStallMs: 250 }

/** The longest gap between 5 ms ticks while `fn` runs. */
async function maxStall<T> (fn: () => Promise<T>): Promise<{ value: T, stallMs: number }> {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 5)
    last = now
  }, 5)
  try {
    const value = await fn()
    return { value, stallMs: Math.max(0, worst) }
  } finally {
    clearInterval(timer)
  }
}

/** A proven, identified raw peer on `replicator`; resolves with its `have` message once the node sent its want. */
async function attacker (replicator: Replicator, friend: IdentityKeyPair): Promise<{ send: (headers: Uint8Array[], round: number) => void, closed: Promise<void> }> {
  const node = new NoiseSecretStream(false)
  const peer = new NoiseSecretStream(true)
  node.rawStream.pipe(peer.rawStream).pipe(node.rawStream)
  node.on('error', () => {})
  peer.on('error', () => {})
  await Promise.all([node.opened, peer.opened])
  replicator.connect(node)
  const hash = peer.handshakeHash as Uint8Array
  let wanted: () => void = () => {}
  const gotWant = new Promise<void>((resolve) => { wanted = resolve })
  let identified: () => void = () => {}
  const gotIdentify = new Promise<void>((resolve) => { identified = resolve })
  const ch = Protomux.from(peer).createChannel({ protocol: PROTOCOL, handshake: open }) as Protomux.Channel
  ch.addMessage({ encoding: proofs })
  const id = ch.addMessage({ encoding: identify, onmessage: () => identified() })
  ch.addMessage({ encoding: want, onmessage: () => wanted() })
  const hv = ch.addMessage({ encoding: have })
  ch.open({ version: 2, proofs: [knowledgeProof(hash, true, friend.publicKey)] })
  await gotIdentify
  const me = keyPairFromSeed(createSeed())
  const sig = b4a.alloc(64)
  sodium.crypto_sign_detached(sig, identifyPayload(hash, true), me.secretKey)
  id.send({ identity: me.publicKey, signature: sig })
  await gotWant
  const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()))
  return { send: (headers, round) => hv.send({ round, headers }), closed }
}

function headers (owner: IdentityKeyPair, n: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) out.push(encodeRecord(createHeader(owner, keyPairFromSeed(createSeed()).publicKey as unknown as FeedKey, '', 1)))
  return out
}

const tmp = new TmpDirs()

async function main (): Promise<void> {
  const testnet = await createTestnet(3)
  try {
    const { shoal } = await Shoal.init(await tmp.make('peer-abuse'))
    try {
      await shoal.joinNetwork({ dht: testnet.createNode() })
      const friend = keyPairFromSeed(createSeed())
      await shoal.follow(friend.publicKey)
      const r = shoal.replicator as Replicator
      await r.refresh()

      const junk = headers(keyPairFromSeed(createSeed()), 4096)
      const a = await attacker(r, friend)
      const t0 = performance.now()
      const junkRun = await maxStall(async () => {
        for (let i = 0; i < 40; i++) a.send(junk, 0)
        await a.closed
        return performance.now() - t0
      })
      console.log(`junk 40 × 4,096: dropped after ${junkRun.value.toFixed(1)} ms, ${r.rejected} entries rejected (target ≤ ${TARGET.junkRejections}), longest stall ${junkRun.stallMs.toFixed(1)} ms (target ${TARGET.junkStallMs})`)

      const valid = headers(friend, 5 * 4096)
      const b = await attacker(r, friend)
      const rss = process.memoryUsage().rss
      const feedsRun = await maxStall(async () => {
        const t1 = performance.now()
        let left = 5
        const done = new Promise<void>((resolve) => r.on('accepted', () => { if (--left === 0) resolve() }))
        for (let i = 0; i < 5; i++) b.send(valid.slice(i * 4096, (i + 1) * 4096), i === 0 ? 1 : 0)
        await done
        return performance.now() - t1
      })
      console.log(`valid 20,480 device feeds: settled after ${feedsRun.value.toFixed(1)} ms, ${shoal.trackedFeeds.length} tracked, ${r.capped} ignored over the cap, RSS +${((process.memoryUsage().rss - rss) / 2 ** 20).toFixed(1)} MiB, longest stall ${feedsRun.stallMs.toFixed(1)} ms (target ${TARGET.feedsStallMs})`)
    } finally {
      await shoal.close()
    }
  } finally {
    await testnet.destroy()
    await tmp.removeAll()
  }
}

runBench('peer-abuse', tmp, main)
