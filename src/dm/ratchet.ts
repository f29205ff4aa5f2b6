/**
 * Double Ratchet with header encryption (Signal's Double Ratchet spec, section 4), as pure
 * functions over a plain state record. Nothing here mutates its input: every step works on a copy
 * and returns the new state, so a failed decryption leaves the caller's state exactly as it was,
 * and a success can be committed in one batch with the plaintext.
 *
 * Header encryption itself (sealing the 40-byte header under a header key) lives in the envelope;
 * this module decides which key a header belongs to and derives the message keys.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { LABEL, RATCHET_LIMITS, SLOT } from './caps.js'
import { dh, equal, generateKeyPair, hkdf, hmacSha256, label, systemRng, type KeyPair, type Rng } from './primitives.js'

/** A ratchet header: the sender's ratchet public key, the previous sending chain's length, the message number. */
export interface Header { dh: Uint8Array, pn: number, n: number }

/** A skipped message key, found again by (header key, message number). */
export interface SkippedKey { hk: Uint8Array, n: number, mk: Uint8Array }

/** The ratchet state (spec names). Keys are 32 bytes; counters are uint32. */
export interface RatchetState {
  dhs: KeyPair
  dhr: Uint8Array | null
  rk: Uint8Array
  cks: Uint8Array | null
  ckr: Uint8Array | null
  hks: Uint8Array | null
  hkr: Uint8Array | null
  nhks: Uint8Array
  nhkr: Uint8Array
  ns: number
  nr: number
  pn: number
  /** Oldest first. */
  skipped: SkippedKey[]
}

export interface RatchetLimits { maxSkip: number, maxStoredSkipped: number, maxSkippedChains: number }

const MAX_COUNTER = 0xffffffff

/** KDF_RK_HE: HKDF(salt = rk, ikm = dh output) → new root key, chain key, next header key. */
export function kdfRk (rk: Uint8Array, dhOut: Uint8Array): { rk: Uint8Array, ck: Uint8Array, nhk: Uint8Array } {
  const okm = hkdf(dhOut, rk, label(LABEL.root), 96)
  return { rk: okm.subarray(0, 32), ck: okm.subarray(32, 64), nhk: okm.subarray(64, 96) }
}

/** KDF_CK: message key = HMAC(ck, 0x01), next chain key = HMAC(ck, 0x02). */
export function kdfCk (ck: Uint8Array): { ck: Uint8Array, mk: Uint8Array } {
  return { ck: hmacSha256(ck, b4a.from([0x02])), mk: hmacSha256(ck, b4a.from([0x01])) }
}

/** RatchetInitAlice (HE): the initiator, who knows the responder's signed prekey as their first ratchet key. */
export function initInitiator (sk: Uint8Array, theirRatchetKey: Uint8Array, hka: Uint8Array, nhkb: Uint8Array, rng: Rng = systemRng): RatchetState {
  const dhs = generateKeyPair(rng)
  const { rk, ck, nhk } = kdfRk(sk, dh(dhs.secretKey, theirRatchetKey))
  return { dhs, dhr: theirRatchetKey, rk, cks: ck, ckr: null, hks: hka, hkr: null, nhks: nhk, nhkr: nhkb, ns: 0, nr: 0, pn: 0, skipped: [] }
}

/** RatchetInitBob (HE): the responder, whose signed prekey pair is the first ratchet key pair. */
export function initResponder (sk: Uint8Array, prekey: KeyPair, hka: Uint8Array, nhkb: Uint8Array): RatchetState {
  return { dhs: prekey, dhr: null, rk: sk, cks: null, ckr: null, hks: null, hkr: null, nhks: nhkb, nhkr: hka, ns: 0, nr: 0, pn: 0, skipped: [] }
}

/** A copy that shares no mutable array with `s` (byte strings are never written in place). */
export function cloneRatchet (s: RatchetState): RatchetState {
  return { ...s, skipped: s.skipped.slice() }
}

/**
 * RatchetEncryptHE without the sealing: the next message key, the header to seal and the header
 * key to seal it under. Throws DM_DECRYPT_FAILED when this side cannot send yet (a responder
 * before its first received message) or the counter would overflow.
 */
export function ratchetSend (state: RatchetState): { state: RatchetState, header: Header, hk: Uint8Array, mk: Uint8Array } {
  if (state.cks === null || state.hks === null) throw ShoalError.DM_DECRYPT_FAILED('this session cannot send before it has received')
  if (state.ns >= MAX_COUNTER) throw ShoalError.DM_DECRYPT_FAILED('sending chain exhausted')
  const { ck, mk } = kdfCk(state.cks)
  const header: Header = { dh: state.dhs.publicKey, pn: state.pn, n: state.ns }
  return { state: { ...cloneRatchet(state), cks: ck, ns: state.ns + 1 }, header, hk: state.hks, mk }
}

/** The header keys a received slot may be sealed under, without duplicates: current, next, then skipped chains. */
export function receiveHeaderKeys (state: RatchetState): Uint8Array[] {
  const out: Uint8Array[] = []
  const add = (k: Uint8Array | null): void => { if (k !== null && !out.some(o => equal(o, k))) out.push(k) }
  add(state.hkr); add(state.nhkr)
  for (const s of state.skipped) add(s.hk)
  return out
}

/**
 * RatchetDecryptHE after the header was opened with `hk`: returns the message key and the new
 * state, or throws (DM_DECRYPT_FAILED for an unknown key or a key already used, e.g. a replay;
 * DM_TOO_MANY_SKIPPED past `maxSkip`) and leaves `state` untouched.
 */
export function ratchetReceive (state: RatchetState, hk: Uint8Array, header: Header, rng: Rng = systemRng, limits: RatchetLimits = RATCHET_LIMITS): { state: RatchetState, mk: Uint8Array } {
  const s = cloneRatchet(state)
  const i = s.skipped.findIndex(k => k.n === header.n && equal(k.hk, hk))
  if (i !== -1) {
    const mk = s.skipped[i].mk
    s.skipped.splice(i, 1)
    return { state: s, mk }
  }
  let step: boolean
  if (s.hkr !== null && equal(hk, s.hkr)) step = false
  else if (equal(hk, s.nhkr)) step = true
  else throw ShoalError.DM_DECRYPT_FAILED('header key belongs to no chain of this session')

  if (step) {
    skipTo(s, header.pn, limits)
    // DHRatchetHE
    s.pn = s.ns; s.ns = 0; s.nr = 0
    s.hks = s.nhks; s.hkr = s.nhkr
    s.dhr = header.dh
    const recv = kdfRk(s.rk, dh(s.dhs.secretKey, s.dhr))
    s.rk = recv.rk; s.ckr = recv.ck; s.nhkr = recv.nhk
    s.dhs = generateKeyPair(rng)
    const send = kdfRk(s.rk, dh(s.dhs.secretKey, s.dhr))
    s.rk = send.rk; s.cks = send.ck; s.nhks = send.nhk
  } else if (!equal(header.dh, s.dhr)) {
    throw ShoalError.DM_DECRYPT_FAILED('header names another ratchet key than its chain')
  }
  if (header.n < s.nr) throw ShoalError.DM_DECRYPT_FAILED('message key already used (a replay or a duplicate)')
  skipTo(s, header.n, limits)
  if (s.ckr === null) throw ShoalError.DM_DECRYPT_FAILED('no receiving chain')
  const { ck, mk } = kdfCk(s.ckr)
  s.ckr = ck; s.nr += 1
  trimSkipped(s, limits)
  return { state: s, mk }
}

/** SkipMessageKeysHE: stores the keys of messages until `until` in the current receiving chain. */
function skipTo (s: RatchetState, until: number, limits: RatchetLimits): void {
  if (s.ckr === null || s.hkr === null) return
  if (until - s.nr > limits.maxSkip) throw ShoalError.DM_TOO_MANY_SKIPPED(`header skips ${until - s.nr} messages, the limit is ${limits.maxSkip}`)
  let ck = s.ckr
  for (let n = s.nr; n < until; n++) {
    const next = kdfCk(ck)
    s.skipped.push({ hk: s.hkr, n, mk: next.mk })
    ck = next.ck
  }
  s.ckr = ck
  if (until > s.nr) s.nr = until
}

/** Keeps at most `maxSkippedChains` header keys and `maxStoredSkipped` keys, dropping the oldest. */
function trimSkipped (s: RatchetState, limits: RatchetLimits): void {
  const chains: Uint8Array[] = []
  for (let i = s.skipped.length - 1; i >= 0; i--) {
    const hk = s.skipped[i].hk
    if (!chains.some(c => equal(c, hk))) chains.push(hk)
  }
  if (chains.length > limits.maxSkippedChains) {
    const keep = chains.slice(0, limits.maxSkippedChains)
    s.skipped = s.skipped.filter(k => keep.some(c => equal(c, k.hk)))
  }
  if (s.skipped.length > limits.maxStoredSkipped) s.skipped = s.skipped.slice(s.skipped.length - limits.maxStoredSkipped)
}

/** The 40-byte header: ratchet key ‖ pn (uint32 LE) ‖ n (uint32 LE). */
export function encodeHeader (h: Header): Uint8Array {
  const out = b4a.alloc(SLOT.header)
  out.set(h.dh, 0)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setUint32(32, h.pn, true)
  view.setUint32(36, h.n, true)
  return out
}

/** Reads a 40-byte header. */
export function decodeHeader (buf: Uint8Array): Header {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  return { dh: b4a.from(buf.subarray(0, 32)), pn: view.getUint32(32, true), n: view.getUint32(36, true) }
}
