/**
 * A session between this device and one other device (Signal's Sesame idea: sessions per pair
 * of devices): X3DH bookkeeping around a ratchet state, its local codec, and the one rule that
 * picks the sending session when both devices started one at the same time.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShoalError } from '../errors.js'
import { MAX_SESSIONS_PER_DEVICE, STATE_VERSION } from './caps.js'
import { dh, systemRng, type Rng } from './primitives.js'
import { verifyKeysRecord, type KeysRecord } from './keys-record.js'
import { initInitiator, type RatchetState } from './ratchet.js'
import { x3dhInitiate } from './x3dh.js'
import type { DeviceKeys } from './device-keys.js'

/** A session with one remote device. All keys 32 bytes; `ad` = IK_initiator ‖ IK_responder (64 bytes). */
export interface Session {
  /** The remote device's DM identity key. */
  theirIdentityKey: Uint8Array
  /** True when this device started the session. */
  initiator: boolean
  /** The initiator's X3DH ephemeral key: names the session on both sides. */
  baseKey: Uint8Array
  /** X3DH associated data, bound into every message key. */
  ad: Uint8Array
  /** The initiator's first sending header key (HK_A); the prekey phase stands in for it. */
  hka: Uint8Array
  /**
   * Initiator only, until its first received message: DH(IK_A, SPK_B), from which the slot key
   * of the prekey phase is derived. While set, every slot carries the ephemeral key (as in X3DH).
   */
  prekeyWrap: Uint8Array | null
  ratchet: RatchetState
}

/**
 * Starts a session with a remote device from its `keys` record (the record is verified against
 * the feed it came from and its signer, default the feed key, first: DM_INVALID_KEYS otherwise).
 */
export function startSession (mine: DeviceKeys, theirs: KeysRecord, theirFeedKey: Uint8Array, rng: Rng = systemRng, signerKey: Uint8Array = theirFeedKey): Session {
  verifyKeysRecord(theirs, theirFeedKey, undefined, signerKey)
  const x = x3dhInitiate(mine.identity, theirs.identityKey, theirs.prekey, rng)
  return {
    theirIdentityKey: theirs.identityKey,
    initiator: true,
    baseKey: x.ephemeral.publicKey,
    ad: x.ad,
    hka: x.hka,
    prekeyWrap: dh(mine.identity.secretKey, theirs.prekey),
    ratchet: initInitiator(x.sk, theirs.prekey, x.hka, x.nhkb, rng)
  }
}

/** The identity key of the device that started `s`. */
export function initiatorKey (s: Session): Uint8Array {
  return s.ad.subarray(0, 32)
}

/**
 * The session to send in, of all sessions held with one remote device: the one whose initiator
 * has the lowest identity key, then the lowest base key. Both devices come to hold the same set
 * (each sees the other's first message in its feed), so both settle on the same session with no
 * extra message; until then each sends in the one it has. Null when `sessions` is empty.
 */
export function sendingSession (sessions: readonly Session[]): Session | null {
  let best: Session | null = null
  for (const s of sessions) {
    if (best === null) { best = s; continue }
    const byInitiator = b4a.compare(initiatorKey(s), initiatorKey(best))
    if (byInitiator < 0 || (byInitiator === 0 && b4a.compare(s.baseKey, best.baseKey) < 0)) best = s
  }
  return best
}

/**
 * The session list with one remote device after `session` was used at `index` (-1: a new one).
 * The used session moves to the end (most recent last); past `MAX_SESSIONS_PER_DEVICE` the least
 * recently used sessions are dropped, never the current sending session.
 */
export function keepSession (sessions: readonly Session[], session: Session, index: number): Session[] {
  const next = sessions.filter((_, i) => i !== index)
  next.push(session)
  const keep = sendingSession(next)
  while (next.length > MAX_SESSIONS_PER_DEVICE) {
    const drop = next.findIndex(s => s !== keep)
    next.splice(drop, 1)
  }
  return next
}

const OPT_DHR = 1
const OPT_CKS = 2
const OPT_CKR = 4
const OPT_HKS = 8
const OPT_HKR = 16
const FLAG_INITIATOR = 1
const FLAG_PREKEY = 2

function codecFor (pre: boolean): { uint: (st: c.State, n: number) => void, k32: (st: c.State, b: Uint8Array) => void } {
  return pre ? { uint: c.uint.preencode, k32: c.fixed32.preencode } : { uint: c.uint.encode, k32: c.fixed32.encode }
}

function writeSession (state: c.State, s: Session, pre: boolean): void {
  const { uint, k32 } = codecFor(pre)
  const r = s.ratchet
  uint(state, STATE_VERSION)
  uint(state, (s.initiator ? FLAG_INITIATOR : 0) | (s.prekeyWrap !== null ? FLAG_PREKEY : 0))
  k32(state, s.theirIdentityKey); k32(state, s.baseKey)
  k32(state, s.ad.subarray(0, 32)); k32(state, s.ad.subarray(32, 64))
  k32(state, s.hka)
  if (s.prekeyWrap !== null) k32(state, s.prekeyWrap)
  const opt = (r.dhr ? OPT_DHR : 0) | (r.cks ? OPT_CKS : 0) | (r.ckr ? OPT_CKR : 0) | (r.hks ? OPT_HKS : 0) | (r.hkr ? OPT_HKR : 0)
  uint(state, opt)
  k32(state, r.dhs.publicKey); k32(state, r.dhs.secretKey); k32(state, r.rk); k32(state, r.nhks); k32(state, r.nhkr)
  for (const k of [r.dhr, r.cks, r.ckr, r.hks, r.hkr]) if (k !== null) k32(state, k)
  uint(state, r.ns); uint(state, r.nr); uint(state, r.pn)
  uint(state, r.skipped.length)
  for (const k of r.skipped) { k32(state, k.hk); uint(state, k.n); k32(state, k.mk) }
}

/**
 * Local (primary state) codec of a session: `uint version`, flags, keys, ratchet state, skipped
 * keys. Plain bytes so it can be committed in one batch with the plaintext it produced.
 */
export const sessionEncoding: c.Encoder<Session> = {
  preencode (state, s) { writeSession(state, s, true) },
  encode (state, s) { writeSession(state, s, false) },
  decode (state) {
    const version = c.uint.decode(state)
    if (version !== STATE_VERSION) throw ShoalError.STORAGE_ERROR(`session version ${version} is not known`)
    const flags = c.uint.decode(state)
    const k = (): Uint8Array => c.fixed32.decode(state)
    const theirIdentityKey = k()
    const baseKey = k()
    const ad = b4a.concat([k(), k()])
    const hka = k()
    const prekeyWrap = (flags & FLAG_PREKEY) ? k() : null
    const opt = c.uint.decode(state)
    const dhs = { publicKey: k(), secretKey: k() }
    const rk = k(); const nhks = k(); const nhkr = k()
    const o = (bit: number): Uint8Array | null => (opt & bit) ? k() : null
    const dhr = o(OPT_DHR); const cks = o(OPT_CKS); const ckr = o(OPT_CKR); const hks = o(OPT_HKS); const hkr = o(OPT_HKR)
    const ns = c.uint.decode(state); const nr = c.uint.decode(state); const pn = c.uint.decode(state)
    const n = c.uint.decode(state)
    if (n > 100_000) throw ShoalError.STORAGE_ERROR('session holds too many skipped keys')
    const skipped = []
    for (let i = 0; i < n; i++) skipped.push({ hk: k(), n: c.uint.decode(state), mk: k() })
    return {
      theirIdentityKey, initiator: (flags & FLAG_INITIATOR) !== 0, baseKey, ad, hka, prekeyWrap,
      ratchet: { dhs, dhr, rk, cks, ckr, hks, hkr, nhks, nhkr, ns, nr, pn, skipped }
    }
  }
}

/** Encodes a session for primary storage. */
export function encodeSession (s: Session): Uint8Array {
  return c.encode(sessionEncoding, s)
}

/** Decodes a session from primary storage; STORAGE_ERROR when unreadable. */
export function decodeSession (buf: Uint8Array): Session {
  try {
    return c.decode(sessionEncoding, buf)
  } catch (err) {
    if (err instanceof ShoalError) throw err
    throw ShoalError.STORAGE_ERROR('session is malformed', err)
  }
}

