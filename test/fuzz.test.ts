/**
 * Decoder fuzz: random and mutated blocks must decode to a valid record, an unknown record, or a
 * coded rejection; never a crash. Replay a failure with SHOAL_FUZZ_SEED=<seed printed below>.
 */
import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShoalError } from '../src/errors.js'
import { CAPS, decodeRecord, encodeRecord, validateRecord, type FeedRecord } from '../src/feeds/schema.js'
import {
  feedToString, identityToString, parseFeed, parseIdentity, parseRef, refToString,
  type FeedKey, type IdentityKey, type MessageRef
} from '../src/ids.js'
import { Rng, seedFrom } from './helpers/rng.js'

const BLOCKS = 120_000
const CORPUS = 2_000
const ID_STRINGS = 30_000
const SEED = seedFrom('SHOAL_FUZZ_SEED')


const ZALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769'
const CHARS = ['a', 'z', ' ', '0', '\n', 'é', 'ß', '中', '文', '🐟', '👍🏽', '\u0000', '\u200d', '\ufffd']

function randomString (rng: Rng, cap: number, allowEmpty: boolean): string {
  const min = allowEmpty ? 0 : 1
  if (rng.chance(0.05)) return 'a'.repeat(rng.range(Math.max(min, cap - 4), cap)) // at or near the cap
  const bytes = rng.chance(0.7) ? rng.range(min, Math.min(cap, 40)) : rng.range(min, cap)
  let s = ''
  while (b4a.byteLength(s) < bytes) {
    const ch = rng.pick(CHARS)
    if (b4a.byteLength(s + ch) > cap) break
    s += ch
  }
  return s.length === 0 && !allowEmpty ? 'x' : s
}

function randomKey (rng: Rng): Uint8Array {
  return rng.chance(0.2) ? b4a.alloc(32, rng.int(256)) : rng.bytes(32)
}

function randomUint (rng: Rng): number {
  switch (rng.int(5)) {
    case 0: return rng.int(0xfd)
    case 1: return rng.range(0xfd, 0xffff)
    case 2: return rng.range(0x10000, 0xffffffff)
    case 3: return Math.floor(rng.next() * Number.MAX_SAFE_INTEGER)
    default: return rng.pick([0, 1, 0xfc, 0xfd, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER])
  }
}

function randomRef (rng: Rng): MessageRef {
  return { feed: randomKey(rng) as FeedKey, seq: Math.max(1, randomUint(rng)) }
}

function randomRecord (rng: Rng): FeedRecord {
  const timestamp = rng.chance(0.8) ? 1_600_000_000_000 + rng.int(2 ** 40) : randomUint(rng)
  switch (rng.int(10)) {
    case 0:
      return { type: 'header', timestamp, identity: randomKey(rng) as IdentityKey, feed: randomKey(rng) as FeedKey, signature: rng.bytes(64), device: randomString(rng, CAPS.device, true) }
    case 1: case 2: case 3: {
      const reply = rng.chance(0.5)
      const mentions = rng.chance(0.3) ? Array.from({ length: rng.range(1, CAPS.mentions) }, () => randomKey(rng) as IdentityKey) : []
      return {
        type: 'post',
        timestamp,
        text: randomString(rng, CAPS.text, false),
        root: reply ? randomRef(rng) : null,
        parent: reply ? randomRef(rng) : null,
        cw: rng.chance(0.3) ? randomString(rng, CAPS.contentWarning, false) : null,
        mentions
      }
    }
    case 4:
      return { type: 'reaction', timestamp, target: randomRef(rng), emoji: randomString(rng, CAPS.emoji, false), remove: rng.chance(0.3) }
    case 5:
      return { type: rng.pick(['follow', 'unfollow', 'block', 'unblock'] as const), timestamp, target: randomKey(rng) as IdentityKey }
    case 6: {
      const which = rng.int(3)
      return { type: 'about', timestamp, name: which !== 1 ? randomString(rng, CAPS.name, true) : null, bio: which !== 0 ? randomString(rng, CAPS.bio, true) : null }
    }
    case 7:
      return { type: 'edit', timestamp, target: randomRef(rng), text: randomString(rng, CAPS.text, false) }
    default:
      return { type: 'delete', timestamp, target: randomRef(rng) }
  }
}

/** A canonical string of a record, comparing keys by content whatever their buffer type. */
function canon (v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Uint8Array) return 'bytes:' + b4a.toString(x, 'hex')
    if (x !== null && typeof x === 'object' && (x as { type?: unknown }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
      return 'bytes:' + b4a.toString(b4a.from((x as { data: number[] }).data), 'hex')
    }
    return x
  })
}

/** A few ways a block could arrive damaged or forged. */
function mutate (rng: Rng, block: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let b = b4a.from(block)
  const rounds = rng.chance(0.7) ? 1 : rng.range(2, 4)
  for (let r = 0; r < rounds; r++) {
    const at = b.byteLength === 0 ? 0 : rng.int(b.byteLength)
    switch (rng.int(9)) {
      case 0: // bit flip
        if (b.byteLength > 0) b[at] ^= 1 << rng.int(8)
        break
      case 1: // random byte
        if (b.byteLength > 0) b[at] = rng.int(256)
        break
      case 2: // insert bytes
        b = b4a.concat([b.subarray(0, at), rng.bytes(rng.range(1, 4)), b.subarray(at)])
        break
      case 3: // delete bytes
        b = b4a.concat([b.subarray(0, at), b.subarray(Math.min(b.byteLength, at + rng.range(1, 4)))])
        break
      case 4: // truncate
        b = b.subarray(0, rng.int(b.byteLength + 1))
        break
      case 5: { // splice two records
        const other = rng.pick(corpus)
        b = b4a.concat([b.subarray(0, at), other.subarray(rng.int(other.byteLength + 1))])
        break
      }
      case 6: // varint prefix bytes dropped anywhere
        if (b.byteLength > 0) b[at] = rng.pick([0xfc, 0xfd, 0xfe, 0xff, 0x00])
        break
      case 7: // rewrite the envelope: other type, version, timestamp, possibly in non-minimal varints
        b = rewriteEnvelope(rng, b)
        break
      default: // duplicate a region
        b = b4a.concat([b.subarray(0, at), b.subarray(at, at + rng.range(1, 40)), b.subarray(at)])
    }
  }
  return b
}

function rewriteEnvelope (rng: Rng, b: Uint8Array): Uint8Array {
  const state = c.state(0, b.byteLength, b)
  let head: number[]
  try {
    head = [c.uint.decode(state), c.uint.decode(state), c.uint.decode(state)]
  } catch {
    return b // not even an envelope: leave it to the other mutations
  }
  const field = rng.int(3)
  if (field === 0) head[0] = rng.chance(0.8) ? rng.int(13) : randomUint(rng)
  if (field === 1) head[1] = rng.pick([0, 1, 1, 2, 3, randomUint(rng)])
  if (field === 2) head[2] = randomUint(rng)
  return b4a.concat([...head.map((n) => varint(rng, n)), b.subarray(state.start)])
}

/** A uint in the compact-encoding varint, sometimes in a longer form than needed. */
function varint (rng: Rng, n: number): Uint8Array {
  if (!rng.chance(0.2)) return c.encode(c.uint, n)
  const wide = rng.pick([c.uint16, c.uint32, c.uint64] as const)
  const prefix = wide === c.uint16 ? 0xfd : wide === c.uint32 ? 0xfe : 0xff
  const max = wide === c.uint16 ? 0xffff : wide === c.uint32 ? 0xffffffff : Number.MAX_SAFE_INTEGER
  return b4a.concat([b4a.from([prefix]), c.encode(wide, Math.min(n, max))])
}

function randomBlock (rng: Rng): Uint8Array {
  const roll = rng.next()
  if (roll < 0.02) return rng.bytes(rng.range(CAPS.record - 64, 17 * 1024)) // around and above the record cap
  if (roll < 0.6) return rng.bytes(rng.range(0, 300))
  // A plausible envelope with a random body reaches the body decoders far more often.
  const envelope = b4a.concat([c.encode(c.uint, rng.int(12)), c.encode(c.uint, rng.chance(0.9) ? 1 : rng.int(4)), c.encode(c.uint, randomUint(rng))])
  return b4a.concat([envelope, rng.bytes(rng.range(0, rng.chance(0.9) ? 120 : 600))])
}

test('fuzz – decodeRecord never crashes on random or damaged blocks', (t) => {
  t.comment(`seed ${SEED} (replay with SHOAL_FUZZ_SEED=${SEED})`)
  const rng = new Rng(SEED)
  const started = Date.now()

  const corpus: Uint8Array[] = []
  let corpusMismatch = 0
  for (let i = 0; i < CORPUS; i++) {
    const rec = randomRecord(rng)
    const block = encodeRecord(rec)
    if (canon(decodeRecord(block)) !== canon(rec)) corpusMismatch++
    corpus.push(block)
  }
  t.is(corpusMismatch, 0, `${CORPUS} generated records round-trip`)

  const counts = { accepted: 0, unknown: 0, rejected: 0, crashes: 0, invalidAccepted: 0, roundTripFailures: 0, reencodedDiffers: 0 }
  const codes = new Map<string, number>()
  const samples: string[] = []
  const sample = (what: string, block: Uint8Array, err?: unknown): void => {
    if (samples.length < 5) samples.push(`${what}: ${b4a.toString(block.subarray(0, 64), 'hex')}${block.byteLength > 64 ? '…' : ''} (${block.byteLength} bytes) ${err === undefined ? '' : String((err as Error)?.stack ?? err)}`)
  }

  for (let i = 0; i < BLOCKS; i++) {
    let block = rng.chance(0.45) ? randomBlock(rng) : mutate(rng, rng.pick(corpus), corpus)
    if (rng.chance(0.1)) { // a view into a larger buffer, as storage may hand out
      const big = rng.bytes(block.byteLength + 16)
      big.set(block, 8)
      block = big.subarray(8, 8 + block.byteLength)
    }
    let rec: FeedRecord
    try {
      rec = decodeRecord(block)
    } catch (err) {
      if (err instanceof ShoalError && (err.code === 'INVALID_MESSAGE' || err.code === 'MESSAGE_TOO_LARGE')) {
        counts.rejected++
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1)
      } else {
        counts.crashes++
        sample('crash', block, err)
      }
      continue
    }
    if (rec.type === 'unknown') {
      counts.unknown++
      if (!Number.isSafeInteger(rec.timestamp) || !Number.isSafeInteger(rec.typeId) || !Number.isSafeInteger(rec.version) || rec.version < 1) {
        counts.invalidAccepted++
        sample('bad unknown record', block)
      }
      continue
    }
    counts.accepted++
    try {
      validateRecord(rec)
    } catch (err) {
      counts.invalidAccepted++
      sample('accepted an invalid record', block, err)
      continue
    }
    try {
      const again = encodeRecord(rec)
      if (canon(decodeRecord(again)) !== canon(rec)) {
        counts.roundTripFailures++
        sample('re-encoding decodes differently', block)
      }
      if (!b4a.equals(again, block)) counts.reencodedDiffers++
    } catch (err) {
      counts.roundTripFailures++
      sample('re-encoding threw', block, err)
    }
  }

  const ms = Date.now() - started
  t.comment(`${BLOCKS} blocks in ${ms} ms: accepted ${counts.accepted}, unknown ${counts.unknown}, rejected ${counts.rejected} ` +
    `(${[...codes].map(([k, v]) => `${k} ${v}`).join(', ')}), crashes ${counts.crashes}`)
  t.comment(`accepted blocks whose canonical re-encoding has other bytes (non-minimal varints, invalid UTF-8): ${counts.reencodedDiffers}`)
  for (const s of samples) t.comment(s)

  t.is(counts.accepted + counts.unknown + counts.rejected + counts.crashes, BLOCKS, 'every block classified')
  t.is(counts.crashes, 0, 'no uncoded exceptions')
  t.is(counts.invalidAccepted, 0, 'every accepted record is valid')
  t.is(counts.roundTripFailures, 0, 'accepted records re-encode and decode back equal')
  t.ok(counts.accepted > 1000 && counts.unknown > 1000 && counts.rejected > 1000, 'the fuzz reaches every outcome')
  t.ok((codes.get('MESSAGE_TOO_LARGE') ?? 0) > 0, 'the fuzz reaches the caps')
})

type Parser = (s: string) => unknown

function randomIdString (rng: Rng, valid: string[]): string {
  switch (rng.int(5)) {
    case 0: { // z-base32 of a plausible length
      let s = ''
      const n = rng.chance(0.8) ? rng.range(50, 68) : rng.range(0, 120)
      for (let i = 0; i < n; i++) s += ZALPHABET[rng.int(32)]
      return s
    }
    case 1: { // one edit of a valid id
      const s = rng.pick(valid)
      const at = rng.int(s.length + 1)
      const ch = rng.chance(0.8) ? ZALPHABET[rng.int(32)] : rng.pick(['l', 'v', '2', 'A', ' ', '\n', 'é', '🐟', '\u0000'])
      switch (rng.int(4)) {
        case 0: return s.slice(0, at) + ch + s.slice(at + 1)
        case 1: return s.slice(0, at) + ch + s.slice(at)
        case 2: return s.slice(0, at) + s.slice(at + 1)
        default: return s.slice(0, at).toUpperCase() + s.slice(at)
      }
    }
    case 2: // z-base32 of random bytes of nearby lengths
      return identityToString(rng.bytes(rng.range(28, 44)))
    case 3: { // printable ASCII
      let s = ''
      const n = rng.range(0, 70)
      for (let i = 0; i < n; i++) s += String.fromCharCode(rng.range(0x20, 0x7e))
      return s
    }
    default: { // arbitrary UTF-16, lone surrogates included
      let s = ''
      const n = rng.range(0, 60)
      for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x10000))
      return s
    }
  }
}

test('fuzz – id parsers throw only INVALID_ID', (t) => {
  const rng = new Rng(SEED ^ 0x5eed)
  const valid: string[] = []
  for (let i = 0; i < 200; i++) {
    valid.push(identityToString(rng.bytes(32)))
    valid.push(refToString(randomRef(rng)))
  }
  const parsers: Array<[string, Parser, (v: unknown) => string]> = [
    ['parseRef', parseRef, (v) => refToString(v as MessageRef)],
    ['parseIdentity', parseIdentity, (v) => identityToString(v as IdentityKey)],
    ['parseFeed', parseFeed, (v) => feedToString(v as FeedKey)]
  ]
  for (const [name, parse, print] of parsers) {
    let accepted = 0
    let rejected = 0
    let crashes = 0
    let notRoundTrip = 0
    for (let i = 0; i < ID_STRINGS; i++) {
      const s = randomIdString(rng, valid)
      let v: unknown
      try {
        v = parse(s)
      } catch (err) {
        if (err instanceof ShoalError && err.code === 'INVALID_ID') rejected++
        else {
          crashes++
          if (crashes <= 3) t.comment(`${name} crash on ${JSON.stringify(s)}: ${String(err)}`)
        }
        continue
      }
      accepted++
      if (print(v) !== s) notRoundTrip++
      if (name === 'parseRef' && !Number.isSafeInteger((v as MessageRef).seq)) notRoundTrip++
    }
    t.comment(`${name}: ${ID_STRINGS} strings, accepted ${accepted}, rejected ${rejected}, crashes ${crashes}`)
    t.is(crashes, 0, `${name}: no uncoded exceptions`)
    t.is(notRoundTrip, 0, `${name}: every accepted string is the canonical spelling`)
    t.ok(accepted > 0 && rejected > 0, `${name}: the fuzz reaches both outcomes`)
  }
})
