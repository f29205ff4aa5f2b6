/** The box envelope: slot and size buckets, caps checked before any decryption, clear-text time, place binding. */
import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import { BOX_TYPE, COARSE_TIME_MS, DM_CAPS, SLOT } from '../src/dm/caps.js'
import { openBox, parseBox, sealBox } from '../src/dm/envelope.js'
import { decodeSession, encodeSession, keepSession, sendingSession, startSession, type Session } from '../src/dm/session.js'
import { T0, createDevice, receive, send, sessionFor, type Device } from './helpers/dm.js'
import { thrownCode } from './helpers/codes.js'


function devices (n: number): Device[] {
  return Array.from({ length: n }, (_, i) => createDevice(`d${i}`))
}

test('dm box – slot count padded to buckets, capped at 64 devices', (t) => {
  const alice = createDevice('alice')
  const many = devices(65)
  for (const [n, slots] of [[1, 4], [4, 4], [5, 8], [9, 16], [17, 32], [33, 64], [64, 64]]) {
    const m = send(alice, many.slice(0, n), 'hi')
    t.is(parseBox(m.block).slots.length, slots, `${n} devices → ${slots} slots`)
    t.is(receive(many[n - 1], m)?.content.text, 'hi')
  }
  t.is(thrownCode(() => send(alice, many, 'too many')), 'DM_TOO_MANY_RECIPIENTS', '65 devices')
})

test('dm box – record size padded to buckets; text cap', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  t.is(send(alice, [bob], 'short').block.byteLength, 1024)
  t.is(send(alice, [bob], 'x'.repeat(500)).block.byteLength, 2048)
  t.is(send(alice, [bob], 'x'.repeat(DM_CAPS.text)).block.byteLength, 8192)
  const crowd = devices(64)
  const full = send(alice, crowd, '🐟'.repeat(DM_CAPS.text / 4))
  t.is(full.block.byteLength, 16384, '64 slots and the longest text fit the record cap')
  t.is(receive(crowd[63], full)?.content.text.length, DM_CAPS.text / 2)
  t.is(thrownCode(() => send(alice, [bob], 'x'.repeat(DM_CAPS.text + 1))), 'MESSAGE_TOO_LARGE')
  t.is(thrownCode(() => send(alice, [bob], '\ud800')), 'INVALID_MESSAGE', 'lone surrogate')
})

test('dm box – hour in the clear, exact time and recipients inside', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const now = T0 + 1234567
  const sessions = [sessionFor(alice, bob)]
  const recipients = [bob.feed, alice.feed]
  const sealed = sealBox({ feed: alice.feed, seq: 7, content: { timestamp: now, recipients, text: 'when?' }, sessions })
  const state = c.state(0, sealed.block.byteLength, sealed.block)
  t.is(c.uint.decode(state), BOX_TYPE)
  t.is(c.uint.decode(state), 1)
  t.is(c.uint.decode(state), now - (now % COARSE_TIME_MS), 'envelope timestamp is the hour')
  const opened = openBox({ feed: alice.feed, seq: 7, block: sealed.block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: [] })
  t.is(opened?.content.timestamp, now)
  t.alike(opened?.content.recipients, recipients)
  t.is(openBox({ feed: bob.feed, seq: 7, block: sealed.block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: [] }), null, 'copied to another feed: null')
  t.is(openBox({ feed: alice.feed, seq: 8, block: sealed.block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: [] }), null, 'at another seq: null')
})

test('dm box – caps are checked before any trial decryption', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const m = send(alice, [bob], 'hi')
  let touched = 0
  const spy = new Proxy([], { get (target, prop, recv) { touched++; return Reflect.get(target, prop, recv) } })
  const open = (block: Uint8Array): string | null => thrownCode(() => openBox({ feed: m.feed, seq: m.seq, block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: spy }))
  const head = (slotCount: number): Uint8Array => b4a.concat([c.encode(c.uint, BOX_TYPE), c.encode(c.uint, 1), c.encode(c.uint, T0 - (T0 % COARSE_TIME_MS)), b4a.alloc(24), c.encode(c.uint, slotCount)])
  const padTo = (b: Uint8Array, n: number): Uint8Array => b4a.concat([b, b4a.alloc(n - b.byteLength)])
  t.is(open(padTo(head(128), 16384)), 'INVALID_MESSAGE', '128 slots is no bucket')
  t.is(open(padTo(head(5), 1024)), 'INVALID_MESSAGE', '5 slots is no bucket')
  t.is(open(padTo(head(64), 4096)), 'INVALID_MESSAGE', '64 slots do not fit 4096 bytes')
  t.is(open(padTo(head(4), 16385)), 'MESSAGE_TOO_LARGE', 'over the record cap')
  t.is(open(m.block.subarray(0, 1000)), 'INVALID_MESSAGE', 'not a size bucket')
  t.is(open(b4a.concat([b4a.from([11]), m.block.subarray(1)])), 'INVALID_MESSAGE', 'another record type')
  t.is(open(b4a.concat([m.block.subarray(0, 1), b4a.from([2]), m.block.subarray(2)])), 'INVALID_MESSAGE', 'a newer version')
  t.is(touched, 0, 'no session was looked at')
  t.is(parseBox(m.block).slots[0].byteLength, SLOT.bytes)
})

test('dm box – sealing rules: at least one device, one session per device', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const s = sessionFor(alice, bob)
  const content = { timestamp: T0, recipients: [], text: 'x' }
  t.is(thrownCode(() => sealBox({ feed: alice.feed, seq: 1, content, sessions: [] })), 'INVALID_ARGUMENT')
  t.is(thrownCode(() => sealBox({ feed: alice.feed, seq: 1, content, sessions: [s, s] })), 'INVALID_ARGUMENT')
  t.is(thrownCode(() => sealBox({ feed: alice.feed, seq: 0, content, sessions: [s] })), 'INVALID_ARGUMENT', 'seq 0 is the header')
  t.is(thrownCode(() => sealBox({ feed: alice.feed, seq: 1, content: { ...content, recipients: Array(DM_CAPS.recipients + 1).fill(bob.feed) }, sessions: [s] })), 'DM_TOO_MANY_RECIPIENTS')
  t.is(thrownCode(() => send(bob, [alice], 'x')), null, 'a fresh device may start a session too')
})

test('dm session – local codec round trip keeps a working session', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  for (let i = 0; i < 3; i++) receive(bob, send(alice, [bob], `a${i}`))
  receive(alice, send(bob, [alice], 'b'))
  const skipped = send(alice, [bob], 'skipped')
  const next = send(alice, [bob], 'next')
  t.ok(receive(bob, next))
  for (const d of [alice, bob]) {
    for (const [k, list] of d.sessions) {
      const again = list.map(s => decodeSession(encodeSession(s)))
      t.alike(again, list)
      d.sessions.set(k, again)
    }
  }
  t.is(receive(bob, skipped)?.content.text, 'skipped', 'skipped key survives the codec')
  t.is(receive(alice, send(bob, [alice], 'after'))?.content.text, 'after')
  t.is(thrownCode(() => decodeSession(b4a.from([9]))), 'STORAGE_ERROR')
})

test('dm box – a malicious sender: low-order keys and huge counters are coded errors', (t) => {
  const mallory = createDevice('mallory')
  const bob = createDevice('bob')
  const content = { timestamp: T0, recipients: [], text: 'evil' }
  const base = startSession(mallory.keys, bob.keys.record, bob.feed)
  const open = (block: Uint8Array, seq: number, sessions = [] as Session[]): string | null =>
    thrownCode(() => openBox({ feed: mallory.feed, seq, block, keys: bob.keys, senderIdentityKey: mallory.keys.identity.publicKey, sessions }))
  const seal = (s: Session, seq: number): Uint8Array => sealBox({ feed: mallory.feed, seq, content, sessions: [s] }).block
  // Low-order points: the all-zero u-coordinate and the order-8 point of Curve25519.
  const order8 = b4a.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex')
  for (const bad of [b4a.alloc(32), order8]) {
    t.is(open(seal({ ...base, baseKey: bad }, 1), 1), 'DM_DECRYPT_FAILED', 'low-order ephemeral key')
    t.is(open(seal({ ...base, ratchet: { ...base.ratchet, dhs: { ...base.ratchet.dhs, publicKey: bad } } }, 2), 2), 'DM_DECRYPT_FAILED', 'low-order ratchet key')
  }
  t.is(open(seal({ ...base, ratchet: { ...base.ratchet, ns: 0xfffffffe } }, 3), 3), 'DM_TOO_MANY_SKIPPED', 'a header 4 billion messages ahead')
  t.is(thrownCode(() => seal({ ...base, ratchet: { ...base.ratchet, ns: 0xffffffff } }, 4)), 'DM_DECRYPT_FAILED', 'cannot seal past the last counter')
})

test('dm session – at most 4 sessions per remote device, the sending one always kept', (t) => {
  const mallory = createDevice('mallory')
  const bob = createDevice('bob')
  for (let i = 0; i < 10; i++) {
    mallory.sessions.clear() // a fresh session every time
    t.ok(receive(bob, send(mallory, [bob], `flood ${i}`)))
  }
  const list = [...bob.sessions.values()][0]
  t.is(list.length, 4, 'capped')
  const tooMany = [...list, list[0]]
  const m = send(mallory, [bob], 'more')
  t.is(thrownCode(() => openBox({ feed: m.feed, seq: m.seq, block: m.block, keys: bob.keys, senderIdentityKey: mallory.keys.identity.publicKey, sessions: tooMany })), 'INVALID_ARGUMENT', 'the cap is checked before trial decryption')
  const winner = sendingSession(list)
  t.ok(winner !== null && keepSession(list, list[0], -1).includes(winner), 'the sending session survives pruning')
})

test('dm box – the real slot sits at a uniformly random position', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  t.ok(receive(bob, send(alice, [bob], 'start')))
  t.ok(receive(alice, send(bob, [alice], 'ok')))
  const sessions = [...bob.sessions.values()][0]
  const counts = [0, 0, 0, 0]
  for (let k = 0; k < 200; k++) {
    const m = send(alice, [bob], 'where?')
    const box = parseBox(m.block)
    const offset = box.clear.byteLength - 4 * SLOT.bytes
    for (let i = 0; i < 4; i++) {
      // Replacing Bob's slot with random bytes leaves nothing for him (null); replacing any other
      // slot still opens his, and then the body, which covers every clear byte, fails.
      const block = b4a.from(m.block)
      block.set(b4a.alloc(SLOT.bytes, 0x5a), offset + i * SLOT.bytes)
      const r = (() => { try { return openBox({ feed: m.feed, seq: m.seq, block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions }) } catch { return 'refused' } })()
      if (r === null) counts[i]++
    }
  }
  t.is(counts.reduce((a, b) => a + b, 0), 200, 'exactly one slot per box is Bob\'s')
  t.ok(counts.every(n => n >= 25), `every position used: ${counts.join(', ')}`)
})
