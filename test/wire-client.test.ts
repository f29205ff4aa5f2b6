/**
 * A client written from docs/SYNC.md and docs/PROTOCOL.md only: every frame is built and parsed by
 * hand here (no Protomux, no compact-encoding, no Shoal encoders), over a secret-stream pair.
 */
import test from 'brittle'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type { Replicator } from '../src/swarm/replicator.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { streamPair } from './helpers/raw-peer.js'

const blake = (...parts: Uint8Array[]): Uint8Array => {
  const out = b4a.alloc(32)
  sodium.crypto_generichash_batch(out, parts)
  return out
}
const utf8 = (s: string): Uint8Array => b4a.from(s)
/** compact-encoding `uint` for values up to 0xfc (all this client needs to write). */
const u = (n: number): number[] => { if (n > 0xfc) throw new Error('small uints only'); return [n] }
const bytes = (...parts: Array<number[] | Uint8Array>): Uint8Array => b4a.concat(parts.map((p) => b4a.from(p as Uint8Array)))

/** Reads one compact-encoding `uint` at `s.i`. */
function readUint (buf: Uint8Array, s: { i: number }): number {
  const first = buf[s.i++]
  if (first <= 0xfc) return first
  const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8
  let n = 0
  for (let k = 0; k < width; k++) n += buf[s.i++] * 2 ** (8 * k)
  return n
}

interface Frame { channel: number, type: number, payload: Uint8Array }

/** Splits a Protomux frame (SYNC.md "Framing") into messages; control frames come as channel 0. */
function parseFrame (buf: Uint8Array): Frame[] {
  const s = { i: 0 }
  const id = readUint(buf, s)
  const type = readUint(buf, s)
  if (id !== 0 || type !== 0) return [{ channel: id, type, payload: buf.subarray(s.i) }]
  const out: Frame[] = []
  let channel = readUint(buf, s)
  while (s.i < buf.byteLength) {
    const len = readUint(buf, s)
    if (len === 0) { channel = readUint(buf, s); continue }
    const msg = buf.subarray(s.i, s.i + len)
    s.i += len
    const m = { i: 0 }
    const t = readUint(msg, m)
    out.push({ channel, type: t, payload: msg.subarray(m.i) })
  }
  return out
}

test('wire client – a client built from the docs alone opens, identifies, is asked and tracks-in a feed', async (t) => {
  const testnet = await createLocalDht(t)
  const node = await createSwarmPeer(t, testnet)
  const friendSeed = b4a.alloc(32, 0x42)
  const friend = { publicKey: b4a.alloc(32), secretKey: b4a.alloc(64) }
  sodium.crypto_sign_seed_keypair(friend.publicKey, friend.secretKey, friendSeed)
  await node.follow(friend.publicKey as never)
  await node.replicator!.refresh()

  const { node: end, peer } = await streamPair(t)
  const frames: Frame[] = []
  let wake: () => void = () => {}
  peer.on('data', (buf: Uint8Array) => { frames.push(...parseFrame(buf)); wake() })
  const until = async (pick: () => Frame | undefined): Promise<Frame> => {
    for (;;) {
      const f = pick()
      if (f !== undefined) return f
      await new Promise<void>((resolve) => { wake = resolve })
    }
  }
  ;(node.replicator as Replicator).connect(end)

  const hh = peer.handshakeHash as Uint8Array
  const ROLE = [1] // this side started the Noise handshake
  const proof = blake(utf8('shoal/peer-proof/v2'), hh, b4a.from(ROLE), friend.publicKey)
  const MY_ID = 1
  const protocol = utf8('shoal/feeds/v2')
  peer.write(bytes([0, 1], u(MY_ID), u(protocol.byteLength), protocol, [0], u(2), u(1), proof))

  // The node's open: `00 01 uint localId string protocol 00`, version 2, its proofs.
  const opened = await until(() => frames.find((f) => f.channel === 0 && f.type === 1 && b4a.includes(f.payload, protocol)))
  const s = { i: 0 }
  const nodeId = readUint(opened.payload, s)
  const plen = readUint(opened.payload, s)
  t.is(b4a.toString(opened.payload.subarray(s.i, s.i + plen)), 'shoal/feeds/v2')
  s.i += plen
  t.is(opened.payload[s.i++], 0, 'no channel id')
  t.is(readUint(opened.payload, s), 2, 'version 2')
  const n = readUint(opened.payload, s)
  const theirs = Array.from({ length: n }, (_, k) => b4a.toString(opened.payload.subarray(s.i + 32 * k, s.i + 32 * (k + 1)), 'hex'))
  t.ok(theirs.includes(b4a.toString(blake(utf8('shoal/peer-proof/v2'), hh, b4a.from([0]), friend.publicKey), 'hex')), 'the node proves the friend under its role (0)')

  // identify (type 1): the node's identity, signed over the handshake hash and its role.
  const ident = await until(() => frames.find((f) => f.channel === nodeId && f.type === 1))
  t.is(ident.payload.byteLength, 96)
  t.is(b4a.toString(ident.payload.subarray(0, 32), 'hex'), b4a.toString(node.identity, 'hex'))
  t.ok(sodium.crypto_sign_verify_detached(ident.payload.subarray(32), blake(utf8('shoal/peer-identify/v2'), hh, b4a.from([0])), ident.payload.subarray(0, 32)))

  const me = { publicKey: b4a.alloc(32), secretKey: b4a.alloc(64) }
  sodium.crypto_sign_seed_keypair(me.publicKey, me.secretKey, b4a.alloc(32, 0x07))
  const sig = b4a.alloc(64)
  sodium.crypto_sign_detached(sig, blake(utf8('shoal/peer-identify/v2'), hh, b4a.from(ROLE)), me.secretKey)
  peer.write(bytes(u(MY_ID), u(1), me.publicKey, sig))

  // want (type 2): round 1, the topics of its want set, the node's own first.
  const wanted = await until(() => frames.find((f) => f.channel === nodeId && f.type === 2))
  const w = { i: 0 }
  t.is(readUint(wanted.payload, w), 1, 'round 1')
  const count = readUint(wanted.payload, w)
  const topics = Array.from({ length: count }, (_, k) => b4a.toString(wanted.payload.subarray(w.i + 32 * k, w.i + 32 * (k + 1)), 'hex'))
  const topic = (k: Uint8Array): string => b4a.toString(blake(utf8('shoal/identity-topic/v1'), k), 'hex')
  t.alike(topics, [topic(node.identity), topic(friend.publicKey)])

  // have (type 3), round 1: one header block of a device feed of the friend (PROTOCOL.md, type 0).
  const feed = b4a.alloc(32, 0xfe)
  const attestation = b4a.alloc(64)
  sodium.crypto_sign_detached(attestation, blake(utf8('shoal/device-attestation/v1'), friend.publicKey, feed), friend.secretKey)
  const header = bytes([0, 1, 1], friend.publicKey, feed, attestation, [0])
  peer.write(bytes(u(MY_ID), u(3), u(1), u(1), u(header.byteLength), header))
  await new Promise<void>((resolve) => node.replicator!.once('accepted', () => resolve()))
  t.ok(node.trackedFeeds.some((f) => b4a.equals(f, feed)), 'the node tracks the feed the client listed')
  t.is(node.replicator!.rejected, 0)
})
