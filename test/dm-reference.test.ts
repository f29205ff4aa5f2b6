/**
 * Differential tests: src/dm against the independent reference in test/reference (noble curves and
 * hashes, a hand-written XSalsa20-Poly1305). Same inputs must give the same bytes, and each side
 * must read what the other seals, in random interleavings with out-of-order delivery.
 */
import test from 'brittle'
import b4a from 'b4a'
import { ed25519 } from '@noble/curves/ed25519.js'
import { hkdf, hmacSha256, secretbox, secretboxOpen, publicKeyOf, dh } from '../src/dm/primitives.js'
import { kdfCk, kdfRk } from '../src/dm/ratchet.js'
import { x3dhInitiate, x3dhRespond } from '../src/dm/x3dh.js'
import { bodyKey, contentKeyKey, openBox, sealBox, slotKey } from '../src/dm/envelope.js'
import { keysSignedPayload, verifyKeysRecord } from '../src/dm/keys-record.js'
import { keepSession, sendingSession, startSession, type Session } from '../src/dm/session.js'
import { refSecretbox, refSecretboxOpen } from './reference/secretbox.js'
import {
  RefDevice, refBodyKey, refContentKeyKey, refDh, refHkdf, refKdfCk, refKdfRk, refKeysPayload, refSlotKey, refX3dh
} from './reference/dm-reference.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { sha256 as clearHash } from '../src/dm/primitives.js'
import { T0, createDevice, seededRng, type Device } from './helpers/dm.js'

const same = (a: Uint8Array, b: Uint8Array): boolean => b4a.equals(a, b)

test('dm reference – KDFs, X25519, X3DH, slot keys and secretbox agree on random inputs', (t) => {
  const rng = seededRng('dm-reference-primitives')
  let mismatches = 0
  const check = (ok: boolean, what: string): void => { if (!ok) { mismatches++; t.comment(`mismatch: ${what}`) } }
  for (let i = 0; i < 200; i++) {
    const a = rng(32); const b = rng(32); const salt = rng(i % 3 === 0 ? 0 : 24); const info = rng(i % 50)
    check(same(hmacSha256(a, info), hmac(sha256, a, info)), 'hmac')
    const long = rng(65 + i)
    check(same(hmacSha256(long, info), hmac(sha256, long, info)), 'hmac with a key longer than a block')
    check(same(hkdf(a, salt, info, 1 + (i % 96)), refHkdf(a, salt, info, 1 + (i % 96))), 'hkdf')
    const r1 = kdfRk(a, b); const r2 = refKdfRk(a, b)
    check(same(r1.rk, r2[0]) && same(r1.ck, r2[1]) && same(r1.nhk, r2[2]), 'kdfRk')
    const c1 = kdfCk(a); const c2 = refKdfCk(a)
    check(same(c1.ck, c2.ck) && same(c1.mk, c2.mk), 'kdfCk')
    check(same(dh(a, publicKeyOf(b)), refDh(a, publicKeyOf(b))), 'x25519')
    const ika = { secretKey: rng(32), publicKey: b4a.alloc(32) }; ika.publicKey = publicKeyOf(ika.secretKey)
    const ikb = { secretKey: rng(32), publicKey: b4a.alloc(32) }; ikb.publicKey = publicKeyOf(ikb.secretKey)
    const spk = { secretKey: rng(32), publicKey: b4a.alloc(32) }; spk.publicKey = publicKeyOf(spk.secretKey)
    const ekSecret = rng(32)
    const init = x3dhInitiate(ika, ikb.publicKey, spk.publicKey, () => b4a.from(ekSecret))
    const resp = x3dhRespond(ikb, spk, ika.publicKey, init.ephemeral.publicKey)
    const ref = refX3dh(refDh(ika.secretKey, spk.publicKey), refDh(ekSecret, ikb.publicKey), refDh(ekSecret, spk.publicKey))
    check(same(init.sk, ref.sk) && same(init.hka, ref.hka) && same(init.nhkb, ref.nhkb), 'x3dh initiator')
    check(same(resp.sk, ref.sk) && same(resp.hka, ref.hka) && same(resp.nhkb, ref.nhkb) && same(resp.ad, init.ad), 'x3dh responder')
    const feed = rng(32); const seq = 1 + i * 977; const s24 = rng(24)
    check(same(slotKey(a, i % 2 === 0, s24, { feed, seq }), refSlotKey(a, i % 2 === 0, s24, feed, seq)), 'slot key')
    check(same(contentKeyKey(a, init.ad, s24, { feed, seq }), refContentKeyKey(a, init.ad, s24, feed, seq)), 'content key key')
    const clear = rng(100 + i)
    check(same(bodyKey(a, s24, { feed, seq }, clearHash(clear)), refBodyKey(a, s24, feed, seq, clear)), 'body key')
    const plain = rng(i * 5)
    const box = secretbox(a, s24, plain)
    check(same(box, refSecretbox(a, s24, plain)), 'secretbox')
    const opened = refSecretboxOpen(a, s24, box)
    check(opened !== null && same(opened, plain), 'ref opens sodium box')
    const flipped = b4a.from(box); flipped[i % box.byteLength] ^= 1
    check(secretboxOpen(a, s24, flipped) === null && refSecretboxOpen(a, s24, flipped) === null, 'both reject a flipped bit')
  }
  t.is(mismatches, 0, '200 random cases, no mismatch')
})

test('dm reference – keys record signatures verify across implementations', (t) => {
  const ref = new RefDevice(seededRng('ref-keys'), T0)
  const rec = ref.record()
  verifyKeysRecord(rec, ref.feed)
  t.pass('src/dm verifies a record signed by the reference (noble ed25519)')
  const d = createDevice('impl')
  const r = d.keys.record
  t.ok(same(keysSignedPayload(d.feed, r), refKeysPayload(d.feed, r.identityKey, r.prekey, r.prekeyId, r.createdAt)), 'same signed payload')
  t.ok(ed25519.verify(r.signature, refKeysPayload(d.feed, r.identityKey, r.prekey, r.prekeyId, r.createdAt), d.feed), 'noble verifies src/dm\'s record')
})

/** src/dm device with a session list for the one reference peer. */
interface Side { dev: Device, sessions: Session[], seq: number }

function implSend (a: Side, ref: RefDevice, text: string, rng: (n: number) => Uint8Array): { block: Uint8Array, seq: number, text: string } {
  if (a.sessions.length === 0) a.sessions.push(startSession(a.dev.keys, ref.record(), ref.feed, rng))
  const s = sendingSession(a.sessions) as Session
  const seq = ++a.seq
  const sealed = sealBox({ feed: a.dev.feed, seq, content: { timestamp: T0 + seq, recipients: [], text }, sessions: [s], rng })
  a.sessions = a.sessions.map(x => x === s ? sealed.sessions[0] : x)
  return { block: sealed.block, seq, text }
}

function implReceive (a: Side, ref: RefDevice, m: { block: Uint8Array, seq: number }): string | null {
  const opened = openBox({ feed: ref.feed, seq: m.seq, block: m.block, keys: a.dev.keys, senderIdentityKey: ref.ik.pk, sessions: a.sessions })
  if (opened === null) return null
  a.sessions = keepSession(a.sessions, opened.session, opened.index)
  return opened.content.text
}

function converse (t: Parameters<Parameters<typeof test>[1]>[0], seed: string, refStarts: boolean): void {
  const rng = seededRng(seed)
  const a: Side = { dev: createDevice('impl', rng), sessions: [], seq: 0 }
  const ref = new RefDevice(rng, T0)
  let refSeq = 0
  const toRef: Array<{ block: Uint8Array, seq: number, text: string }> = []
  const toImpl: Array<{ block: Uint8Array, seq: number, text: string }> = []
  const refSend = (text: string): void => {
    const seq = ++refSeq
    toImpl.push({ block: ref.seal([{ ik: a.dev.keys.identity.publicKey, spk: a.dev.keys.record.prekey }], text, T0 + seq, seq), seq, text })
  }
  let delivered = 0
  let wrong = 0
  const deliver = (queue: typeof toRef, toReference: boolean): void => {
    const i = rng(1)[0] % queue.length
    const [m] = queue.splice(i, 1)
    const got = toReference ? ref.open(m.block, a.dev.feed, m.seq, a.dev.keys.identity.publicKey)?.text : implReceive(a, ref, m)
    if (got === m.text) delivered++; else { wrong++; t.comment(`${toReference ? 'ref' : 'impl'} read ${String(got)} for ${m.text}`) }
  }
  if (refStarts) { refSend('hello from ref'); deliver(toImpl, false) } else { toRef.push(implSend(a, ref, 'hello from impl', rng)); deliver(toRef, true) }
  for (let step = 0; step < 300; step++) {
    const r = rng(1)[0] % 4
    if (r === 0) toRef.push(implSend(a, ref, `i${step}`, rng))
    else if (r === 1 && (refStarts || a.sessions.length > 0)) refSend(`r${step}`)
    else if (r === 2 && toRef.length > 0) deliver(toRef, true)
    else if (toImpl.length > 0) deliver(toImpl, false)
  }
  while (toRef.length > 0) deliver(toRef, true)
  while (toImpl.length > 0) deliver(toImpl, false)
  t.is(wrong, 0, 'every message read back exactly')
  t.ok(delivered > 100, `${delivered} messages crossed between the implementations`)
}

test('dm reference – conversation, src/dm starts, random out-of-order delivery', (t) => {
  converse(t, 'dm-reference-conversation-1', false)
})

test('dm reference – conversation, the reference starts, random out-of-order delivery', (t) => {
  converse(t, 'dm-reference-conversation-2', true)
})
