/**
 * Test-only reference implementation of Shoal's DM construction (docs/DM.md, docs/PROTOCOL.md),
 * written again from the description on @noble/curves (X25519, Ed25519), @noble/hashes
 * (SHA-256, HKDF, BLAKE2b) and the reference secretbox in ./secretbox.ts. It shares no code with
 * src/dm: byte layouts are parsed by hand, the ratchet is the spec's pseudocode on a mutable
 * object. Differential tests run it against src/dm. Never use it for real data.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { blake2b } from '@noble/hashes/blake2.js'
import { refSecretbox, refSecretboxOpen } from './secretbox.js'

const te = new TextEncoder()
const td = new TextDecoder()
export type RefRng = (n: number) => Uint8Array

export function cat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
const eq = (a: Uint8Array | null, b: Uint8Array | null): boolean => a !== null && b !== null && a.length === b.length && a.every((x, i) => x === b[i])
const hex = (b: Uint8Array): string => Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
function be64 (n: number): Uint8Array { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n)); return b }
function varint (n: number): Uint8Array {
  if (n <= 0xfc) return Uint8Array.of(n)
  const b = new Uint8Array(n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9)
  const v = new DataView(b.buffer)
  if (n <= 0xffff) { b[0] = 0xfd; v.setUint16(1, n, true) } else if (n <= 0xffffffff) { b[0] = 0xfe; v.setUint32(1, n, true) } else { b[0] = 0xff; v.setBigUint64(1, BigInt(n), true) }
  return b
}
class Reader {
  b: Uint8Array
  constructor (b: Uint8Array, public o = 0) { this.b = Uint8Array.from(b) }
  bytes (n: number): Uint8Array { if (this.o + n > this.b.length) throw new Error('short'); const r = this.b.slice(this.o, this.o + n); this.o += n; return r }
  uint (): number {
    const f = this.bytes(1)[0]
    if (f <= 0xfc) return f
    const w = f === 0xfd ? 2 : f === 0xfe ? 4 : 8
    const raw = this.bytes(w)
    const v = new DataView(raw.buffer, raw.byteOffset, w)
    return w === 2 ? v.getUint16(0, true) : w === 4 ? v.getUint32(0, true) : Number(v.getBigUint64(0, true))
  }
}

// --- KDFs (HKDF-SHA-256 everywhere) ---------------------------------------------------------
export const refHkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, n: number): Uint8Array => hkdf(sha256, ikm, salt.length === 0 ? undefined : salt, info, n)
export function refKdfRk (rk: Uint8Array, dhOut: Uint8Array): Uint8Array[] {
  const o = refHkdf(dhOut, rk, te.encode('shoal/dm/root/v1'), 96)
  return [o.slice(0, 32), o.slice(32, 64), o.slice(64)]
}
export function refKdfCk (ck: Uint8Array): { ck: Uint8Array, mk: Uint8Array } {
  return { ck: hmac(sha256, ck, Uint8Array.of(2)), mk: hmac(sha256, ck, Uint8Array.of(1)) }
}
export function refX3dh (dh1: Uint8Array, dh2: Uint8Array, dh3: Uint8Array): { sk: Uint8Array, hka: Uint8Array, nhkb: Uint8Array } {
  const o = refHkdf(cat(new Uint8Array(32).fill(0xff), dh1, dh2, dh3), new Uint8Array(0), te.encode('shoal/dm/x3dh/v1'), 96)
  return { sk: o.slice(0, 32), hka: o.slice(32, 64), nhkb: o.slice(64) }
}
const place = (feed: Uint8Array, seq: number): Uint8Array => cat(feed, be64(seq))
export const refSlotKey = (base: Uint8Array, prekey: boolean, salt: Uint8Array, feed: Uint8Array, seq: number): Uint8Array =>
  refHkdf(base, salt, cat(te.encode(prekey ? 'shoal/dm/prekey-wrap/v1' : 'shoal/dm/slot/v1'), place(feed, seq)), 32)
export const refContentKeyKey = (mk: Uint8Array, ad: Uint8Array, salt: Uint8Array, feed: Uint8Array, seq: number): Uint8Array =>
  refHkdf(mk, salt, cat(te.encode('shoal/dm/message-key/v1'), ad, place(feed, seq)), 32)
export const refBodyKey = (ck: Uint8Array, salt: Uint8Array, feed: Uint8Array, seq: number, clear: Uint8Array): Uint8Array =>
  refHkdf(ck, salt, cat(te.encode('shoal/dm/body/v1'), place(feed, seq), sha256(clear)), 32)
export const refDh = (sk: Uint8Array, pk: Uint8Array): Uint8Array => x25519.getSharedSecret(sk, pk)

export function refKeysPayload (feed: Uint8Array, ik: Uint8Array, spk: Uint8Array, id: number, createdAt: number): Uint8Array {
  return blake2b(cat(te.encode('shoal/dm-keys/v1'), feed, ik, spk, be64(id), be64(createdAt)), { dkLen: 32 })
}

// --- Ratchet (spec pseudocode, header encryption) --------------------------------------------
interface KP { sk: Uint8Array, pk: Uint8Array }
const keyPair = (rng: RefRng): KP => { const sk = rng(32); return { sk, pk: x25519.getPublicKey(sk) } }
interface RefSession {
  theirIk: Uint8Array, initiator: boolean, base: Uint8Array, ad: Uint8Array, hka: Uint8Array, wrap: Uint8Array | null
  DHs: KP, DHr: Uint8Array | null, RK: Uint8Array, CKs: Uint8Array | null, CKr: Uint8Array | null
  HKs: Uint8Array | null, HKr: Uint8Array | null, NHKs: Uint8Array, NHKr: Uint8Array, Ns: number, Nr: number, PN: number
  skipped: Map<string, { hk: Uint8Array, n: number, mk: Uint8Array }>
}
function header (dh: Uint8Array, pn: number, n: number): Uint8Array {
  const b = new Uint8Array(40); b.set(dh); const v = new DataView(b.buffer); v.setUint32(32, pn, true); v.setUint32(36, n, true); return b
}
function readHeader (b: Uint8Array): { dh: Uint8Array, pn: number, n: number } {
  const v = new DataView(b.buffer, b.byteOffset, 40)
  return { dh: b.slice(0, 32), pn: v.getUint32(32, true), n: v.getUint32(36, true) }
}
function skip (s: RefSession, until: number): void {
  if (s.CKr === null || s.HKr === null) return
  if (s.Nr + 2000 < until) throw new Error('too many skipped')
  while (s.Nr < until) {
    const r = refKdfCk(s.CKr)
    s.skipped.set(hex(s.HKr) + ':' + s.Nr, { hk: s.HKr, n: s.Nr, mk: r.mk })
    s.CKr = r.ck; s.Nr++
  }
}
function receive (s: RefSession, hk: Uint8Array, h: { dh: Uint8Array, pn: number, n: number }, rng: RefRng): Uint8Array {
  const k = hex(hk) + ':' + h.n
  const hit = s.skipped.get(k)
  if (hit !== undefined) { s.skipped.delete(k); return hit.mk }
  const step = eq(hk, s.HKr) ? false : eq(hk, s.NHKr) ? true : null
  if (step === null) throw new Error('unknown header key')
  if (step) {
    skip(s, h.pn)
    s.PN = s.Ns; s.Ns = 0; s.Nr = 0; s.HKs = s.NHKs; s.HKr = s.NHKr; s.DHr = h.dh
    ;[s.RK, s.CKr, s.NHKr] = refKdfRk(s.RK, refDh(s.DHs.sk, s.DHr))
    s.DHs = keyPair(rng)
    ;[s.RK, s.CKs, s.NHKs] = refKdfRk(s.RK, refDh(s.DHs.sk, s.DHr))
  }
  if (h.n < s.Nr) throw new Error('old message')
  skip(s, h.n)
  const r = refKdfCk(s.CKr as Uint8Array)
  s.CKr = r.ck; s.Nr++
  return r.mk
}
const clone = (s: RefSession): RefSession => ({ ...s, skipped: new Map(s.skipped) })

/** One reference device: feed key pair, DM identity key, one prekey, sessions per remote identity key. */
export class RefDevice {
  feedSeed: Uint8Array
  feed: Uint8Array
  ik: KP
  spk: KP
  createdAt: number
  sessions = new Map<string, RefSession[]>()
  constructor (public rng: RefRng, now: number) {
    this.feedSeed = rng(32)
    this.feed = ed25519.getPublicKey(this.feedSeed)
    this.ik = keyPair(rng)
    this.spk = keyPair(rng)
    this.createdAt = now
  }

  /** A device that holds the given X25519 identity and prekey secrets (to open a fixture box). */
  static fromSecrets (ikSecret: Uint8Array, spkSecret: Uint8Array, rng: RefRng): RefDevice {
    const d = new RefDevice(rng, 0)
    d.ik = { sk: ikSecret, pk: x25519.getPublicKey(ikSecret) }
    d.spk = { sk: spkSecret, pk: x25519.getPublicKey(spkSecret) }
    return d
  }

  /** The keys record as the object src/dm uses (signature by the feed key, ed25519). */
  record (): { identityKey: Uint8Array, prekeyId: number, prekey: Uint8Array, createdAt: number, signature: Uint8Array } {
    const sig = ed25519.sign(refKeysPayload(this.feed, this.ik.pk, this.spk.pk, 0, this.createdAt), this.feedSeed)
    return { identityKey: this.ik.pk, prekeyId: 0, prekey: this.spk.pk, createdAt: this.createdAt, signature: sig }
  }

  /** Seals `text` to the given devices (their identity key and signed prekey) at (this.feed, seq). */
  seal (to: Array<{ ik: Uint8Array, spk: Uint8Array }>, text: string, timestamp: number, seq: number): Uint8Array {
    const rng = this.rng
    const coarse = timestamp - (timestamp % 3600_000)
    const salt = rng(24)
    const nslots = [4, 8, 16, 32, 64].find(b => b >= to.length) as number
    const head = cat(varint(10), varint(1), varint(coarse), salt, varint(nslots))
    const content = cat(varint(0), varint(timestamp), varint(0), varint(te.encode(text).length), te.encode(text))
    const fixed = head.length + nslots * 136 + 16
    const size = [1024, 2048, 4096, 8192, 16384].find(b => b >= fixed + content.length) as number
    const ck = rng(32)
    const slots: Uint8Array[] = []
    for (const r of to) {
      let s = this.sending(r.ik)
      if (s === null) {
        const ek = keyPair(rng)
        const x = refX3dh(refDh(this.ik.sk, r.spk), refDh(ek.sk, r.ik), refDh(ek.sk, r.spk))
        const DHs = keyPair(rng)
        const [RK, CKs, NHKs] = refKdfRk(x.sk, refDh(DHs.sk, r.spk))
        s = { theirIk: r.ik, initiator: true, base: ek.pk, ad: cat(this.ik.pk, r.ik), hka: x.hka, wrap: refDh(this.ik.sk, r.spk), DHs, DHr: r.spk, RK, CKs, CKr: null, HKs: x.hka, HKr: null, NHKs, NHKr: x.nhkb, Ns: 0, Nr: 0, PN: 0, skipped: new Map() }
        this.sessions.set(hex(r.ik), [...(this.sessions.get(hex(r.ik)) ?? []), s])
      }
      const step = refKdfCk(s.CKs as Uint8Array)
      s.CKs = step.ck
      const h = header(s.DHs.pk, s.PN, s.Ns)
      s.Ns++
      const locator = s.wrap !== null ? cat(s.base, h) : cat(h, new Uint8Array(32))
      const key = refSlotKey(s.wrap ?? (s.HKs as Uint8Array), s.wrap !== null, salt, this.feed, seq)
      slots.push(cat(refSecretbox(key, salt, locator), refSecretbox(refContentKeyKey(step.mk, s.ad, salt, this.feed, seq), salt, ck)))
    }
    while (slots.length < nslots) slots.push(rng(136))
    const clear = cat(head, ...slots)
    const plain = new Uint8Array(size - fixed)
    plain.set(content)
    return cat(clear, refSecretbox(refBodyKey(ck, salt, this.feed, seq, clear), salt, plain))
  }

  private sending (ik: Uint8Array): RefSession | null {
    const list = this.sessions.get(hex(ik)) ?? []
    let best: RefSession | null = null
    for (const s of list) {
      const k = hex(s.ad.subarray(0, 32)) + hex(s.base)
      if (best === null || k < hex(best.ad.subarray(0, 32)) + hex(best.base)) best = s
    }
    return best
  }

  /** Opens a box written by the device with identity key `senderIk` at (feed, seq): the text, or null. */
  open (block: Uint8Array, feed: Uint8Array, seq: number, senderIk: Uint8Array): { text: string, timestamp: number } | null {
    const r = new Reader(block)
    if (r.uint() !== 10 || r.uint() !== 1) throw new Error('not a box v1')
    r.uint()
    const salt = r.bytes(24)
    const n = r.uint()
    const slots = Array.from({ length: n }, () => r.bytes(136))
    const clear = block.slice(0, r.o)
    const body = block.slice(r.o)
    const list = this.sessions.get(hex(senderIk)) ?? []
    for (const slot of slots) {
      for (const [i, s] of list.entries()) {
        for (const hk of [s.HKr, s.NHKr, ...[...s.skipped.values()].map(k => k.hk)]) {
          if (hk === null) continue
          const loc = refSecretboxOpen(refSlotKey(hk, false, salt, feed, seq), salt, slot.subarray(0, 88))
          if (loc === null) continue
          const next = clone(s)
          const mk = receive(next, hk, readHeader(loc.subarray(0, 40)), this.rng)
          next.wrap = null
          return this.finish(list, i, next, mk, slot, salt, feed, seq, clear, body, senderIk)
        }
      }
      const loc = refSecretboxOpen(refSlotKey(refDh(this.spk.sk, senderIk), true, salt, feed, seq), salt, slot.subarray(0, 88))
      if (loc === null) continue
      const ek = loc.slice(0, 32)
      const h = readHeader(loc.subarray(32))
      const i = list.findIndex(s => !s.initiator && eq(s.base, ek))
      let next: RefSession
      if (i !== -1) next = clone(list[i])
      else {
        const x = refX3dh(refDh(this.spk.sk, senderIk), refDh(this.ik.sk, ek), refDh(this.spk.sk, ek))
        next = { theirIk: senderIk, initiator: false, base: ek, ad: cat(senderIk, this.ik.pk), hka: x.hka, wrap: null, DHs: this.spk, DHr: null, RK: x.sk, CKs: null, CKr: null, HKs: null, HKr: null, NHKs: x.nhkb, NHKr: x.hka, Ns: 0, Nr: 0, PN: 0, skipped: new Map() }
      }
      const mk = receive(next, next.hka, h, this.rng)
      return this.finish(list, i, next, mk, slot, salt, feed, seq, clear, body, senderIk)
    }
    return null
  }

  private finish (list: RefSession[], i: number, next: RefSession, mk: Uint8Array, slot: Uint8Array, salt: Uint8Array, feed: Uint8Array, seq: number, clear: Uint8Array, body: Uint8Array, senderIk: Uint8Array): { text: string, timestamp: number } {
    const ck = refSecretboxOpen(refContentKeyKey(mk, next.ad, salt, feed, seq), salt, slot.subarray(88))
    if (ck === null) throw new Error('content key')
    const plain = refSecretboxOpen(refBodyKey(ck, salt, feed, seq, clear), salt, body)
    if (plain === null) throw new Error('body')
    const r = new Reader(plain)
    if (r.uint() !== 0) throw new Error('flags')
    const timestamp = r.uint()
    const nr = r.uint()
    r.bytes(nr * 32)
    const text = td.decode(r.bytes(r.uint()))
    const updated = list.slice()
    if (i === -1) updated.push(next); else updated[i] = next
    this.sessions.set(hex(senderIk), updated)
    return { text, timestamp }
  }
}
