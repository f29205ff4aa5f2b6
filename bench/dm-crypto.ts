/**
 * DM crypto micro-benchmark, runnable alone (`npm run build && node dist/bench/dm-crypto.js`):
 * seal and open of boxes for 1, 8 and 64 devices, the cost of a box that is not for this device
 * (trial decryption that fails), one failed `crypto_secretbox_open_easy` of a slot key box, and
 * the false-positive rate of trial decryption (slots that open for the wrong reader: must be 0).
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { createDeviceKeys, type DeviceKeys } from '../src/dm/device-keys.js'
import { keyPairSigner } from '../src/dm/keys-record.js'
import { openBox, sealBox } from '../src/dm/envelope.js'
import { startSession, type Session } from '../src/dm/session.js'
import { secretboxOpen } from '../src/dm/primitives.js'
import { printMachine, readMachine } from './machine.js'
import { round, summarize } from './stats.js'

const NOW = Date.now()
const RUNS = 1000

interface Dev { feed: Uint8Array, keys: DeviceKeys }

function device (): Dev {
  const publicKey = b4a.alloc(32)
  const secretKey = b4a.alloc(64)
  const seed = b4a.alloc(32)
  sodium.randombytes_buf(seed)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { feed: publicKey, keys: createDeviceKeys({ signer: keyPairSigner({ publicKey, secretKey }), now: NOW }) }
}

/** µs per call over `runs` calls (after `warmup` unmeasured calls), as a summary of per-call samples. */
function measure (runs: number, fn: (i: number) => void, warmup = 50): ReturnType<typeof summarize> {
  for (let i = 0; i < warmup; i++) fn(i)
  const samples: number[] = []
  for (let i = warmup; i < warmup + runs; i++) {
    const t = performance.now()
    fn(i)
    samples.push((performance.now() - t) * 1000)
  }
  return summarize(samples)
}

function row (name: string, s: ReturnType<typeof summarize>): void {
  console.log(`${name.padEnd(44)} p50 ${String(round(s.p50)).padStart(8)} µs   p99 ${String(round(s.p99)).padStart(8)} µs   n ${s.n}`)
}

printMachine(readMachine())
const alice = device()
const bob = device()
const stranger = device()
for (const n of [1, 8, 64]) {
  const recipients = [bob, ...Array.from({ length: n - 1 }, device)]
  // Sessions past the prekey phase on Alice's side for Bob; fresh ones for the others.
  let sessions: Session[] = recipients.map(r => startSession(alice.keys, r.keys.record, r.feed))
  const first = sealBox({ feed: alice.feed, seq: 1, content: { timestamp: NOW, recipients: [], text: 'hi' }, sessions })
  sessions = first.sessions
  const opened = openBox({ feed: alice.feed, seq: 1, block: first.block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: [] })
  if (opened === null) throw new Error('setup failed')
  let bobSession = opened.session
  const text = 'x'.repeat(200)
  const blocks: Array<{ block: Uint8Array, seq: number }> = []
  let seq = 1
  row(`seal, ${n} device(s), 200-byte text`, measure(RUNS, () => {
    const sealed = sealBox({ feed: alice.feed, seq: ++seq, content: { timestamp: NOW, recipients: [], text }, sessions })
    sessions = sealed.sessions
    blocks.push({ block: sealed.block, seq })
  }))
  // Bob opens them all in order, each with a fresh message key.
  row(`open (for me), ${n} device(s)`, measure(blocks.length, (i) => {
    const r = openBox({ feed: alice.feed, seq: blocks[i].seq, block: blocks[i].block, keys: bob.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: [bobSession] })
    if (r === null) throw new Error('did not open')
    bobSession = r.session
  }, 0))
  const cache = new Map<string, Uint8Array>()
  const slots = n <= 4 ? 4 : n <= 8 ? 8 : 64
  row(`not for me, ${slots} slots, 1 session + 1 prekey`, measure(RUNS, (i) => {
    const b = blocks[i % blocks.length]
    const r = openBox({ feed: alice.feed, seq: b.seq, block: b.block, keys: stranger.keys, senderIdentityKey: alice.keys.identity.publicKey, sessions: [bobSession], wrapCache: cache })
    if (r !== null) throw new Error('false positive')
  }))
}

const key = b4a.alloc(32, 1)
const nonce = b4a.alloc(24, 2)
const slotBox = b4a.alloc(88, 3)
let falsePositives = 0
const failed = measure(200_000, () => { if (secretboxOpen(key, nonce, slotBox) !== null) falsePositives++ })
row('failed secretbox_open_easy of a slot key box', failed)
const trials = 1_000_000
for (let i = 0; i < trials; i++) {
  sodium.randombytes_buf(slotBox)
  if (secretboxOpen(key, nonce, slotBox) !== null) falsePositives++
}
console.log(`trial decryption: ${round(1e6 / failed.p50)} failed opens/s per core (p50); false positives ${falsePositives} of ${trials + failed.n} random slots`)
