/**
 * Ratchet and session behaviour through whole boxes: in-order and out-of-order delivery, skipped-key
 * limits, tamper/truncate/replay leaving state untouched, forward secrecy, healing, simultaneous start.
 */
import test from 'brittle'
import b4a from 'b4a'
import { ShoalError } from '../src/errors.js'
import { RATCHET_LIMITS } from '../src/dm/caps.js'
import { encodeSession } from '../src/dm/session.js'
import { createDevice, receive, send, snapshot, type Device, type Sent } from './helpers/dm.js'
import { thrownCode } from './helpers/codes.js'


function stateBytes (d: Device): string {
  return [...d.sessions].map(([k, v]) => k + ':' + v.map(s => b4a.toString(encodeSession(s), 'hex')).join(',')).join(';')
}

/** How many of `msgs` the device opens (a failure to open, coded or null, counts 0). */
function opens (d: Device, msgs: Sent[]): number {
  let n = 0
  for (const m of msgs) {
    try { if (receive(d, m) !== null) n++ } catch (err) { if (!(err instanceof ShoalError)) throw err }
  }
  return n
}

test('dm ratchet – in order, both ways, several ratchet steps', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 3; i++) {
      const m = send(alice, [bob], `a${round}.${i}`)
      t.is(receive(bob, m)?.content.text, `a${round}.${i}`)
    }
    const r = send(bob, [alice], `b${round}`)
    t.is(receive(alice, r)?.content.text, `b${round}`)
  }
})

test('dm ratchet – out of order within and across chains', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const first = [0, 1, 2, 3].map(i => send(alice, [bob], `x${i}`))
  t.is(receive(bob, first[2])?.content.text, 'x2', 'a later prekey message starts the session')
  t.is(receive(bob, first[0])?.content.text, 'x0')
  const reply = send(bob, [alice], 'reply')
  t.is(receive(alice, reply)?.content.text, 'reply')
  const second = [0, 1, 2].map(i => send(alice, [bob], `y${i}`))
  t.is(receive(bob, second[1])?.content.text, 'y1', 'new chain, skipping its first message')
  t.is(receive(bob, first[3])?.content.text, 'x3', 'skipped key of the first chain (prekey slot)')
  t.is(receive(bob, first[1])?.content.text, 'x1')
  t.is(receive(bob, second[0])?.content.text, 'y0')
  t.is(receive(bob, second[2])?.content.text, 'y2')
})

test('dm ratchet – a forward jump past the limit is DM_TOO_MANY_SKIPPED and changes nothing', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  t.ok(receive(bob, send(alice, [bob], 'hello')))
  t.ok(receive(alice, send(bob, [alice], 'hi')))
  const msgs: Sent[] = []
  for (let i = 0; i <= RATCHET_LIMITS.maxSkip + 1; i++) msgs.push(send(alice, [bob], `m${i}`))
  const before = stateBytes(bob)
  t.is(thrownCode(() => receive(bob, msgs[RATCHET_LIMITS.maxSkip + 1])), 'DM_TOO_MANY_SKIPPED')
  t.is(stateBytes(bob), before, 'state untouched')
  t.is(receive(bob, msgs[RATCHET_LIMITS.maxSkip])?.content.text, `m${RATCHET_LIMITS.maxSkip}`, 'exactly the limit is fine')
  const stored = bob.sessions.values().next().value?.[0].ratchet.skipped.length
  t.is(stored, RATCHET_LIMITS.maxStoredSkipped, 'stored skipped keys capped, oldest dropped')
  t.is(receive(bob, msgs[RATCHET_LIMITS.maxSkip - 1])?.content.text, `m${RATCHET_LIMITS.maxSkip - 1}`, 'a recent skipped key is kept')
  t.is(thrownCode(() => receive(bob, msgs[0])), 'DM_DECRYPT_FAILED', 'an evicted key is gone')
})

test('dm ratchet – tamper, truncate and replay change no state', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  t.ok(receive(bob, send(alice, [bob], 'hello')))
  t.ok(receive(alice, send(bob, [alice], 'hi')))
  const m = send(alice, [bob], 'secret')
  const before = stateBytes(bob)
  let changed = 0
  let uncoded = 0
  let opened = 0
  for (let i = 0; i < m.block.byteLength; i += 7) {
    const bad = b4a.from(m.block)
    bad[i] ^= 1 << (i % 8)
    try { if (receive(bob, { ...m, block: bad }) !== null) opened++ } catch (err) { if (!(err instanceof ShoalError)) uncoded++ }
    if (stateBytes(bob) !== before) changed++
  }
  for (const len of [0, 1, 40, 1023, m.block.byteLength - 1]) {
    try { receive(bob, { ...m, block: m.block.subarray(0, len) }) } catch (err) { if (!(err instanceof ShoalError)) uncoded++ }
    if (stateBytes(bob) !== before) changed++
  }
  t.is(opened, 0, 'no tampered box opens')
  t.is(uncoded, 0, 'only coded errors')
  t.is(changed, 0, 'state never changed')
  t.is(thrownCode(() => receive(bob, { ...m, seq: m.seq + 1 })), null, 'at another seq: not for me (null)')
  t.is(receive(bob, { ...m, seq: m.seq + 1 }), null)
  t.is(stateBytes(bob), before)
  t.is(receive(bob, m)?.content.text, 'secret', 'the genuine box still opens')
  const after = stateBytes(bob)
  t.is(thrownCode(() => receive(bob, m)), 'DM_DECRYPT_FAILED', 'a replay is refused')
  t.is(stateBytes(bob), after, 'and changes nothing')
})

test('dm ratchet – forward secrecy: a copy taken after reading 1..k opens none of them', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const msgs: Sent[] = []
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 4; i++) msgs.push(send(alice, [bob], `a${round}.${i}`))
    for (const m of msgs.slice(-4)) t.ok(receive(bob, m))
    t.ok(receive(alice, send(bob, [alice], `b${round}`)))
  }
  const copy = snapshot(bob)
  t.is(opens(copy, msgs), 0, 'the copy opens 0 of the messages already read')
})

test('dm ratchet – healing: a copy taken at t opens nothing sent after the other side\'s next reply', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  t.ok(receive(bob, send(alice, [bob], 'hello')))
  t.ok(receive(alice, send(bob, [alice], 'hi')))
  t.ok(receive(bob, send(alice, [bob], 'how are you')))
  const stolen = snapshot(bob) // the attacker copies Bob's state at t
  const b1 = send(bob, [alice], 'fine')
  t.ok(receive(alice, b1))
  const a1 = send(alice, [bob], 'good') // Alice's next reply
  t.ok(receive(bob, a1))
  t.is(opens(stolen, [a1]), 1, 'the copy still reads the reply made with the stolen ratchet key')
  const b2 = send(bob, [alice], 'and you?')
  t.ok(receive(alice, b2))
  const later = [send(alice, [bob], 'later 1'), send(alice, [bob], 'later 2'), send(alice, [bob], 'later 3')]
  for (const m of later) t.ok(receive(bob, m))
  t.is(opens(stolen, later), 0, 'healed: the copy opens 0 of the later messages')
})

test('dm session – simultaneous start settles on the lower initiator identity key', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const a0 = send(alice, [bob], 'from alice')
  const b0 = send(bob, [alice], 'from bob')
  t.ok(receive(bob, a0)); t.ok(receive(alice, b0))
  const aliceLower = b4a.compare(alice.keys.identity.publicKey, bob.keys.identity.publicKey) < 0
  const a1 = send(alice, [bob], 'a1')
  const b1 = send(bob, [alice], 'b1')
  t.is(receive(bob, a1)?.content.text, 'a1')
  t.is(receive(alice, b1)?.content.text, 'b1')
  const inA = [...alice.sessions.values()][0]
  const inB = [...bob.sessions.values()][0]
  t.is(inA.length, 2); t.is(inB.length, 2)
  const winnerA = send(alice, [bob], 'a2')
  const opened = receive(bob, winnerA)
  t.is(opened?.content.text, 'a2')
  const expectedInitiator = aliceLower ? alice : bob
  t.ok(b4a.equals(opened?.session.ad.subarray(0, 32) ?? b4a.alloc(0), expectedInitiator.keys.identity.publicKey), 'both send in the session the lower key started')
  const winnerB = receive(alice, send(bob, [alice], 'b2'))
  t.ok(b4a.equals(winnerB?.session.baseKey ?? b4a.alloc(0), opened?.session.baseKey ?? b4a.alloc(1)), 'the same session on both sides')
})

test('dm box – multi-device: every device reads, the sender\'s other device too, outsiders get null', (t) => {
  const alice1 = createDevice('alice1')
  const alice2 = createDevice('alice2')
  const bob1 = createDevice('bob1')
  const bob2 = createDevice('bob2')
  const eve = createDevice('eve')
  const m = send(alice1, [alice2, bob1, bob2], 'to everyone')
  for (const d of [alice2, bob1, bob2]) t.is(receive(d, m)?.content.text, 'to everyone', d.name)
  t.is(receive(eve, m), null, 'not a recipient: null, no error')
  const r = send(bob2, [alice1, alice2, bob1], 'reply')
  for (const d of [alice1, alice2, bob1]) t.is(receive(d, r)?.content.text, 'reply', d.name)
})
