/**
 * Box decoder fuzz: ≥ 100,000 random and mutated boxes through openBox must give null, an opened
 * box, or a coded ShoalError — never another exception — and must never change the reader's
 * sessions. Replay a failure with SHOAL_FUZZ_SEED=<seed printed below>.
 */
import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShoalError } from '../src/errors.js'
import { BOX_TYPE, SIZE_BUCKETS, SLOT_BUCKETS } from '../src/dm/caps.js'
import { openBox } from '../src/dm/envelope.js'
import { decodeKeysBlock, encodeKeysBlock } from '../src/dm/keys-record.js'
import { decodeSession, encodeSession } from '../src/dm/session.js'
import { T0, createDevice, receive, send, type Sent } from './helpers/dm.js'
import { Rng, seedFrom } from './helpers/rng.js'

const BOXES = 110_000
const SEED = seedFrom('SHOAL_FUZZ_SEED')


function randomBox (rng: Rng): Uint8Array {
  if (rng.chance(0.3)) return rng.bytes(rng.chance(0.5) ? rng.int(64) : rng.int(17_000))
  // A plausible clear-text head (right type, version, bucket sizes), random everything else.
  const head = b4a.concat([
    c.encode(c.uint, rng.chance(0.9) ? BOX_TYPE : rng.int(300)), c.encode(c.uint, rng.chance(0.9) ? 1 : rng.int(5)),
    c.encode(c.uint, rng.chance(0.8) ? T0 - (T0 % 3600_000) : rng.int(2 ** 40)), rng.bytes(24),
    c.encode(c.uint, rng.chance(0.8) ? rng.pick(SLOT_BUCKETS) : rng.int(1000))
  ])
  const size = rng.chance(0.9) ? rng.pick(SIZE_BUCKETS) : rng.int(17_000)
  return b4a.concat([head, rng.bytes(Math.max(0, size - head.byteLength))]).subarray(0, size)
}

function mutate (rng: Rng, box: Uint8Array, other: Uint8Array): Uint8Array {
  const out = b4a.from(box)
  switch (rng.int(7)) {
    case 0: { const n = 1 + rng.int(4); for (let i = 0; i < n; i++) out[rng.int(out.byteLength)] ^= 1 << rng.int(8); return out }
    case 1: { out[rng.int(out.byteLength)] = rng.int(256); return out }
    case 2: return out.subarray(0, rng.int(out.byteLength))
    case 3: return b4a.concat([out, rng.bytes(1 + rng.int(64))])
    case 4: { const at = rng.int(Math.min(out.byteLength, other.byteLength)); return b4a.concat([out.subarray(0, at), other.subarray(at)]) }
    case 5: { // swap two 136-byte ranges in the slot area
      const a = 40 + rng.int(8) * 136; const b = 40 + rng.int(8) * 136
      if (b + 136 <= out.byteLength && a + 136 <= out.byteLength) { const t = b4a.from(out.subarray(a, a + 136)); out.set(out.subarray(b, b + 136), a); out.set(t, b) }
      return out
    }
    default: { const at = rng.int(out.byteLength); out.set(rng.bytes(Math.min(32, out.byteLength - at)), at); return out }
  }
}

test('dm fuzz – 110,000 random and mutated boxes: no crash, no state change', (t) => {
  t.comment(`SHOAL_FUZZ_SEED=${SEED}`)
  const rng = new Rng(SEED)
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const carol = createDevice('carol')
  // Bob has read some of Alice's messages; the corpus holds messages he has not read yet (so their
  // slots open and the mutations reach the ratchet, the content key and the body).
  t.ok(receive(bob, send(alice, [bob], 'hello')))
  t.ok(receive(alice, send(bob, [alice], 'hi')))
  const corpus: Sent[] = []
  for (let i = 0; i < 24; i++) {
    const to = i % 3 === 0 ? [bob] : i % 3 === 1 ? [bob, carol] : [carol, bob, ...Array.from({ length: (i * 7) % 40 }, (_, j) => createDevice(`x${j}`))]
    corpus.push(send(alice, to, 'm'.repeat(rng.int(i * 60))))
  }
  const fresh = send(createDevice('dave'), [bob], 'prekey phase from a stranger')
  const sessions = [...bob.sessions.values()][0]
  const before = sessions.map(s => b4a.toString(encodeSession(s), 'hex')).join()
  const wrapCache = new Map<string, Uint8Array>()
  const outcomes: Record<string, number> = {}
  let crashes = 0
  for (let i = 0; i < BOXES; i++) {
    const base = rng.chance(0.05) ? fresh : rng.pick(corpus)
    const block = rng.chance(0.15) ? randomBox(rng) : mutate(rng, base.block, rng.pick(corpus).block)
    const sender = base === fresh ? fresh.sender : alice
    let outcome: string
    try {
      const opened = openBox({ feed: base.feed, seq: base.seq, block, keys: bob.keys, senderIdentityKey: sender.keys.identity.publicKey, sessions: base === fresh ? [] : sessions, wrapCache })
      outcome = opened === null ? 'null' : 'opened'
    } catch (err) {
      if (err instanceof ShoalError) outcome = err.code
      else { outcome = 'crash'; crashes++; if (crashes < 5) t.comment(`crash at ${i}: ${String((err as Error)?.stack ?? err)}`) }
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
  }
  t.comment(JSON.stringify(outcomes))
  t.is(crashes, 0, '0 crashes')
  t.ok((outcomes.DM_DECRYPT_FAILED ?? 0) > 1000, 'mutations reached the decryption path')
  t.ok((outcomes.INVALID_MESSAGE ?? 0) > 1000, 'and the structure checks')
  t.ok((outcomes.null ?? 0) > 1000, 'and the not-for-me path')
  t.is(sessions.map(s => b4a.toString(encodeSession(s), 'hex')).join(), before, 'the reader\'s sessions never changed')
})

test('dm fuzz – keys records and stored sessions: only coded errors', (t) => {
  const rng = new Rng(SEED ^ 0x5eed)
  const d = createDevice('d')
  const keysBlock = encodeKeysBlock(d.keys.record)
  const a = createDevice('a')
  receive(d, send(a, [d], 'x'))
  const stored = encodeSession([...d.sessions.values()][0][0])
  let crashes = 0
  for (let i = 0; i < 20_000; i++) {
    const kb = rng.chance(0.5) ? mutate(rng, keysBlock, keysBlock) : rng.bytes(rng.int(200))
    const sb = rng.chance(0.5) ? mutate(rng, stored, stored) : rng.bytes(rng.int(600))
    for (const fn of [() => decodeKeysBlock(kb), () => decodeSession(sb)]) {
      try { fn() } catch (err) { if (!(err instanceof ShoalError)) { crashes++; if (crashes < 5) t.comment(String(err)) } }
    }
  }
  t.is(crashes, 0, '0 crashes in 40,000 decodes')
})
