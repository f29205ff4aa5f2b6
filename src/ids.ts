/**
 * Branded id types and the one z-base32 codec at the edge. Identities are ed25519 public keys;
 * a message ref is its place: device feed key + sequence number.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import z32 from 'z32'
import { ShoalError } from './errors.js'

export type IdentityKey = Uint8Array & { readonly __identity: true }
export type FeedKey = Uint8Array & { readonly __feed: true }

/** A message's id: the feed it lives in and its sequence number there. */
export interface MessageRef {
  feed: FeedKey
  seq: number
}

export const refEncoding: c.Encoder<MessageRef> = {
  preencode (state, ref) {
    c.fixed32.preencode(state, ref.feed)
    c.uint.preencode(state, ref.seq)
  },
  encode (state, ref) {
    c.fixed32.encode(state, ref.feed)
    c.uint.encode(state, ref.seq)
  },
  decode (state) {
    const feed = c.fixed32.decode(state) as FeedKey
    const seq = c.uint.decode(state)
    return { feed, seq }
  }
}

function z32decode (s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || s.length === 0 || !/^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(s)) {
    throw ShoalError.INVALID_ID(`not a z-base32 ${what}: ${JSON.stringify(String(s).slice(0, 80))}`)
  }
  try {
    return z32.decode(s)
  } catch (err) {
    throw new ShoalError('INVALID_ID', `not a z-base32 ${what}: ${s.slice(0, 80)}`, { cause: err })
  }
}

const Z32_ALPHABET = b4a.from(z32.ALPHABET)
/** Scratch for z32Encode's characters and refToString's bytes (one string allocated per id). */
const z32Chars = b4a.allocUnsafe(128)
const refScratch = b4a.allocUnsafe(41)
const refState = { start: 0, end: 41, buffer: refScratch }

/**
 * z-base32 of `buf` (its first `length` bytes), exactly as z32.encode spells it, built in a scratch buffer: z32.encode adds
 * one character at a time (a string per character), which was most of what a page of 50 posts
 * allocated (see docs/BENCHMARKS.md, "Thread pages and sparse timelines at p99").
 */
function z32Encode (buf: Uint8Array, length = buf.byteLength): string {
  const max = length * 8
  const chars = Math.ceil(max / 5)
  const out = chars <= z32Chars.byteLength ? z32Chars : b4a.allocUnsafe(chars)
  let n = 0
  for (let p = 0; p < max; p += 5) {
    const i = p >>> 3
    const j = p & 7
    if (j <= 3) {
      out[n++] = Z32_ALPHABET[(buf[i] >>> (3 - j)) & 0b11111]
      continue
    }
    const of = j - 3
    const h = (buf[i] << of) & 0b11111
    const l = i + 1 >= length ? 0 : buf[i + 1] >>> (8 - of)
    out[n++] = Z32_ALPHABET[h | l]
  }
  return b4a.toString(out, 'latin1', 0, n)
}

/** z-base32 of any bytes (a page cursor), spelled as z32.encode spells it. */
export function z32String (buf: Uint8Array): string {
  return z32Encode(buf)
}

export function identityToString (key: IdentityKey | Uint8Array): string {
  return z32Encode(key)
}

export function parseIdentity (s: string): IdentityKey {
  const buf = z32decode(s, 'identity id')
  if (buf.byteLength !== 32 || z32.encode(buf) !== s) throw ShoalError.INVALID_ID(`identity id must encode 32 bytes: ${s.slice(0, 80)}`)
  return buf as IdentityKey
}

export function feedToString (key: FeedKey | Uint8Array): string {
  return z32Encode(key)
}

export function parseFeed (s: string): FeedKey {
  const buf = z32decode(s, 'feed key')
  if (buf.byteLength !== 32 || z32.encode(buf) !== s) throw ShoalError.INVALID_ID(`feed key must encode 32 bytes: ${s.slice(0, 80)}`)
  return buf as FeedKey
}

export function refToString (ref: MessageRef): string {
  refState.start = 0
  refEncoding.encode(refState, ref)
  return z32Encode(refScratch, refState.start)
}

export function parseRef (s: string): MessageRef {
  const buf = z32decode(s, 'message ref')
  if (buf.byteLength < 33 || buf.byteLength > 41) throw ShoalError.INVALID_ID(`message ref has the wrong length: ${s.slice(0, 80)}`)
  let ref: MessageRef
  try {
    ref = c.decode(refEncoding, buf)
  } catch (err) {
    throw new ShoalError('INVALID_ID', `malformed message ref: ${s.slice(0, 80)}`, { cause: err })
  }
  // Block 0 is the feed header, never a message.
  if (ref.seq < 1) throw ShoalError.INVALID_ID(`message ref points at a feed header: ${s.slice(0, 80)}`)
  // Only the canonical spelling is accepted, so one message has exactly one id.
  if (refToString(ref) !== s) throw ShoalError.INVALID_ID(`non-canonical message ref: ${s.slice(0, 80)}`)
  return ref
}

/** A key as lowercase hex: for Map and Set keys, never for display (display uses z-base32). */
export function toHex (key: Uint8Array): string {
  return b4a.toString(key, 'hex')
}

/** A binary form of a ref that sorts by feed then seq; used in view keys. */
export function refBytes (ref: MessageRef): Uint8Array {
  const out = b4a.alloc(40)
  out.set(ref.feed, 0)
  writeUint64BE(out, 32, ref.seq)
  return out
}

export function refFromBytes (buf: Uint8Array, offset = 0): MessageRef {
  return { feed: b4a.from(buf.subarray(offset, offset + 32)) as FeedKey, seq: readUint64BE(buf, offset + 32) }
}

export function writeUint64BE (buf: Uint8Array, offset: number, n: number): void {
  const hi = Math.floor(n / 0x100000000)
  const lo = n >>> 0
  buf[offset] = hi >>> 24; buf[offset + 1] = hi >>> 16; buf[offset + 2] = hi >>> 8; buf[offset + 3] = hi
  buf[offset + 4] = lo >>> 24; buf[offset + 5] = lo >>> 16; buf[offset + 6] = lo >>> 8; buf[offset + 7] = lo
}

export function readUint64BE (buf: Uint8Array, offset: number): number {
  const hi = ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0
  const lo = ((buf[offset + 4] << 24) | (buf[offset + 5] << 16) | (buf[offset + 6] << 8) | buf[offset + 7]) >>> 0
  return hi * 0x100000000 + lo
}
