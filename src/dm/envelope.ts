/**
 * The `box` record (type 10): one encrypted DM for every device of every participant.
 *
 *   block = uint 10 ‖ uint 1 ‖ uint coarseTime ‖ salt[24] ‖ uint slotCount ‖ slot[136] × slotCount ‖ body
 *   slot  = secretbox(slotKey, salt, locator[72]) ‖ secretbox(contentKeyKey, salt, contentKey[32])
 *   body  = secretbox(bodyKey, salt, flags ‖ timestamp ‖ recipients ‖ text ‖ zero padding)
 *
 * Every key is derived with HKDF-SHA-256 under the random salt and the box's place (feed key,
 * seq), so a box opens only where it was written. Slots are shuffled and padded with random ones
 * to a bucket; the whole block is padded to a size bucket. See docs/DM.md and docs/PROTOCOL.md.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import sodium from 'sodium-universal'
import { ShoalError } from '../errors.js'
import {
  BOX_TYPE, BOX_VERSION, COARSE_TIME_MS, DM_CAPS, LABEL, MAX_SESSIONS_PER_DEVICE, SIZE_BUCKETS, SLOT, SLOT_BUCKETS
} from './caps.js'
import { MAC_BYTES, NONCE_BYTES, dh, equal, hkdf, label, secretbox, secretboxOpen, sha256, systemRng, u64, type Rng } from './primitives.js'
import { decodeHeader, encodeHeader, initResponder, ratchetReceive, ratchetSend, receiveHeaderKeys, type Header } from './ratchet.js'
import { x3dhRespond } from './x3dh.js'
import { livePrekeys, type DeviceKeys } from './device-keys.js'
import type { Session } from './session.js'

/**
 * What a DM says: the real time (ms), the recipient identities (32-byte keys, the sender's
 * included), the text, and optionally the DM it replies to (its place; content flag 1).
 */
export interface DmContent {
  timestamp: number
  recipients: Uint8Array[]
  text: string
  parent?: BoxPlace | null
  /** A reaction to `parent`: `text` is the emoji (1–32 bytes); content flag 2. */
  reaction?: boolean
}

/** Content flag: a parent place (feed key[32] ‖ uint seq) follows the text. */
const CONTENT_PARENT = 1
/** Content flag: the DM is a reaction (emoji in `text`) to its parent. */
const CONTENT_REACTION = 2
const REACTION_BYTES = 32

/** Where a box is written: the sender's device feed key and the block's seq (≥ 1). */
export interface BoxPlace { feed: Uint8Array, seq: number }

/** The clear-text structure of a box, checked against every cap before any decryption. */
export interface ParsedBox {
  coarseTime: number
  salt: Uint8Array
  slots: Uint8Array[]
  /** Everything before the body. */
  clear: Uint8Array
  body: Uint8Array
}

export interface OpenedBox {
  content: DmContent
  /** The new state of the session the box was read in; commit it with the content. */
  session: Session
  /** Index of that session in the `sessions` given, or -1 when the box started a new one. */
  index: number
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const LOCATOR_BOX = SLOT.locator + MAC_BYTES

/** The clear-text time of a box: `ms` rounded down to the hour. */
export function coarseTime (ms: number): number {
  return ms - (ms % COARSE_TIME_MS)
}

function place (p: BoxPlace): Uint8Array {
  return b4a.concat([p.feed, u64(p.seq)])
}

function derive (ikm: Uint8Array, salt: Uint8Array, name: string, ...context: Uint8Array[]): Uint8Array {
  return hkdf(ikm, salt, b4a.concat([label(name), ...context]), 32)
}

/** The key of the small "slot key box" (the locator) for a header key or a prekey-wrap secret. */
export function slotKey (base: Uint8Array, prekeyPhase: boolean, salt: Uint8Array, p: BoxPlace): Uint8Array {
  return derive(base, salt, prekeyPhase ? LABEL.prekeyWrap : LABEL.slot, place(p))
}

/** The key that seals the content key in a slot: from the ratchet's message key and the session's AD. */
export function contentKeyKey (mk: Uint8Array, ad: Uint8Array, salt: Uint8Array, p: BoxPlace): Uint8Array {
  return derive(mk, salt, LABEL.messageKey, ad, place(p))
}

/**
 * The key of the body, from the content key, the place and the SHA-256 of everything before the
 * body (envelope, salt, slot count, every slot), so changing any byte of a box makes it unreadable.
 */
export function bodyKey (ck: Uint8Array, salt: Uint8Array, p: BoxPlace, clearHash: Uint8Array): Uint8Array {
  return derive(ck, salt, LABEL.body, place(p), clearHash)
}

function checkPlace (p: BoxPlace): void {
  if (!(p.feed instanceof Uint8Array) || p.feed.byteLength !== 32) throw ShoalError.INVALID_ARGUMENT('feed key must be 32 bytes')
  if (!Number.isSafeInteger(p.seq) || p.seq < 1) throw ShoalError.INVALID_ARGUMENT('seq must be a positive integer')
}

function checkContent (m: DmContent): void {
  if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0) throw ShoalError.INVALID_MESSAGE('timestamp must be a non-negative integer of ms')
  if (typeof m.text !== 'string' || LONE_SURROGATE.test(m.text)) throw ShoalError.INVALID_MESSAGE('text must be a valid Unicode string')
  const n = b4a.byteLength(m.text)
  if (n > DM_CAPS.text) throw ShoalError.MESSAGE_TOO_LARGE(`text is ${n} bytes, the cap is ${DM_CAPS.text}`)
  if (!Array.isArray(m.recipients)) throw ShoalError.INVALID_MESSAGE('recipients must be a list')
  if (m.recipients.length > DM_CAPS.recipients) throw ShoalError.DM_TOO_MANY_RECIPIENTS(`${m.recipients.length} recipients, the cap is ${DM_CAPS.recipients}`)
  for (const r of m.recipients) if (!(r instanceof Uint8Array) || r.byteLength !== 32) throw ShoalError.INVALID_MESSAGE('a recipient is a 32-byte identity key')
  if (m.parent != null) {
    if (!(m.parent.feed instanceof Uint8Array) || m.parent.feed.byteLength !== 32) throw ShoalError.INVALID_MESSAGE('a parent feed key is 32 bytes')
    if (!Number.isSafeInteger(m.parent.seq) || m.parent.seq < 1) throw ShoalError.INVALID_MESSAGE('a parent seq is a positive integer')
  }
  if (m.reaction === true) {
    if (m.parent == null) throw ShoalError.INVALID_MESSAGE('a reaction names the DM it reacts to')
    if (m.text.length === 0 || b4a.byteLength(m.text) > REACTION_BYTES) throw ShoalError.INVALID_MESSAGE(`a reaction is 1 to ${REACTION_BYTES} bytes`)
  }
}

function encodeContent (m: DmContent): Uint8Array {
  const enc = (state: c.State, pre: boolean): void => {
    const uint = pre ? c.uint.preencode : c.uint.encode
    uint(state, (m.parent != null ? CONTENT_PARENT : 0) | (m.reaction === true ? CONTENT_REACTION : 0))
    uint(state, m.timestamp)
    uint(state, m.recipients.length)
    for (const r of m.recipients) (pre ? c.fixed32.preencode : c.fixed32.encode)(state, r)
    ;(pre ? c.string.preencode : c.string.encode)(state, m.text)
    if (m.parent != null) { (pre ? c.fixed32.preencode : c.fixed32.encode)(state, m.parent.feed); uint(state, m.parent.seq) }
  }
  const state = c.state()
  enc(state, true)
  state.buffer = b4a.alloc(state.end)
  enc(state, false)
  return state.buffer
}

function decodeContent (plain: Uint8Array): DmContent {
  const state = c.state(0, plain.byteLength, plain)
  let m: DmContent
  try {
    const flags = c.uint.decode(state)
    if ((flags & ~(CONTENT_PARENT | CONTENT_REACTION)) !== 0) throw ShoalError.INVALID_MESSAGE('unknown box content flags')
    const timestamp = c.uint.decode(state)
    const n = c.uint.decode(state)
    if (n > DM_CAPS.recipients) throw ShoalError.DM_TOO_MANY_RECIPIENTS(`${n} recipients, the cap is ${DM_CAPS.recipients}`)
    const recipients: Uint8Array[] = []
    for (let i = 0; i < n; i++) recipients.push(c.fixed32.decode(state))
    m = { timestamp, recipients, text: c.string.decode(state) }
    if ((flags & CONTENT_PARENT) !== 0) m.parent = { feed: c.fixed32.decode(state), seq: c.uint.decode(state) }
    if ((flags & CONTENT_REACTION) !== 0) m.reaction = true
  } catch (err) {
    if (err instanceof ShoalError) throw err
    throw ShoalError.INVALID_MESSAGE('malformed box content', err)
  }
  for (let i = state.start; i < plain.byteLength; i++) if (plain[i] !== 0) throw ShoalError.INVALID_MESSAGE('box padding is not zero')
  checkContent(m)
  return m
}

function envelopeBytes (coarse: number): Uint8Array {
  return b4a.concat([c.encode(c.uint, BOX_TYPE), c.encode(c.uint, BOX_VERSION), c.encode(c.uint, coarse)])
}

/** A uniform index below `n` (rejection sampling over 32-bit draws). */
function uniform (rng: Rng, n: number): number {
  const limit = Math.floor(0x100000000 / n) * n
  for (;;) {
    const r = rng(4)
    const x = ((r[0] | (r[1] << 8) | (r[2] << 16)) >>> 0) + r[3] * 0x1000000
    if (x < limit) return x % n
  }
}

/** Inputs of one key slot: the place, salt, ratchet header and keys, and the content key it carries. */
export interface SlotInput extends BoxPlace {
  salt: Uint8Array
  header: Header
  /** The sending header key (ignored in the prekey phase). */
  hk: Uint8Array
  /** In the prekey phase: DH(IK_A, SPK_B) and the X3DH ephemeral key to carry. */
  prekey: { wrap: Uint8Array, ephemeralKey: Uint8Array } | null
  mk: Uint8Array
  ad: Uint8Array
  ck: Uint8Array
}

/** One 136-byte slot: the slot key box (locator) then the content key sealed under the message key. */
export function sealSlot (i: SlotInput): Uint8Array {
  const locator = i.prekey !== null
    ? b4a.concat([i.prekey.ephemeralKey, encodeHeader(i.header)])
    : b4a.concat([encodeHeader(i.header), b4a.alloc(SLOT.locator - SLOT.header)])
  const key = slotKey(i.prekey?.wrap ?? i.hk, i.prekey !== null, i.salt, i)
  return b4a.concat([secretbox(key, i.salt, locator), secretbox(contentKeyKey(i.mk, i.ad, i.salt, i), i.salt, i.ck)])
}

export interface SealOptions extends BoxPlace {
  content: DmContent
  /** One session per recipient device (this device's own other devices included), each at most once. */
  sessions: Session[]
  rng?: Rng
}

/**
 * Seals one DM for every session's device. Returns the whole feed block (to append at exactly
 * `seq` of `feed`) and the sessions' new states, in the order given, to commit with it.
 * Throws MESSAGE_TOO_LARGE, DM_TOO_MANY_RECIPIENTS, INVALID_MESSAGE or INVALID_ARGUMENT.
 */
export function sealBox (opts: SealOptions): { block: Uint8Array, sessions: Session[] } {
  const rng = opts.rng ?? systemRng
  checkPlace(opts)
  checkContent(opts.content)
  const n = opts.sessions.length
  if (n === 0) throw ShoalError.INVALID_ARGUMENT('a box needs at least one recipient device')
  if (n > DM_CAPS.devices) throw ShoalError.DM_TOO_MANY_RECIPIENTS(`${n} recipient devices, the cap is ${DM_CAPS.devices}`)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (equal(opts.sessions[i].theirIdentityKey, opts.sessions[j].theirIdentityKey)) throw ShoalError.INVALID_ARGUMENT('one session per recipient device')
    }
  }
  const slotCount = SLOT_BUCKETS.find(b => b >= n) as number
  const coarse = coarseTime(opts.content.timestamp)
  const salt = rng(NONCE_BYTES)
  const head = b4a.concat([envelopeBytes(coarse), salt, c.encode(c.uint, slotCount)])
  const fixed = head.byteLength + slotCount * SLOT.bytes + MAC_BYTES
  const content = encodeContent(opts.content)
  const size = SIZE_BUCKETS.find(b => b >= fixed + content.byteLength)
  if (size === undefined) throw ShoalError.MESSAGE_TOO_LARGE(`a box of ${fixed + content.byteLength} bytes does not fit the largest bucket`)

  const ck = rng(32)
  const slots: Uint8Array[] = []
  const sessions: Session[] = []
  for (const s of opts.sessions) {
    const sent = ratchetSend(s.ratchet)
    const prekey = s.prekeyWrap !== null ? { wrap: s.prekeyWrap, ephemeralKey: s.baseKey } : null
    slots.push(sealSlot({ ...opts, salt, header: sent.header, hk: sent.hk, prekey, mk: sent.mk, ad: s.ad, ck }))
    sessions.push({ ...s, ratchet: sent.state })
  }
  while (slots.length < slotCount) slots.push(rng(SLOT.bytes))
  for (let i = slots.length - 1; i > 0; i--) {
    const j = uniform(rng, i + 1)
    const t = slots[i]; slots[i] = slots[j]; slots[j] = t
  }
  const plain = b4a.alloc(size - fixed)
  plain.set(content)
  const clear = b4a.concat([head, ...slots])
  const body = secretbox(bodyKey(ck, salt, opts, sha256(clear)), salt, plain)
  return { block: b4a.concat([clear, body]), sessions }
}

/**
 * Reads the clear-text structure of a box and checks every cap (block size bucket, type, version,
 * slot-count bucket, lengths) before any decryption. Throws INVALID_MESSAGE or MESSAGE_TOO_LARGE.
 */
export function parseBox (block: Uint8Array): ParsedBox {
  if (!(block instanceof Uint8Array)) throw ShoalError.INVALID_MESSAGE('box is not bytes')
  const top = SIZE_BUCKETS[SIZE_BUCKETS.length - 1]
  if (block.byteLength > top) throw ShoalError.MESSAGE_TOO_LARGE(`box is ${block.byteLength} bytes, the cap is ${top}`)
  if (!(SIZE_BUCKETS as readonly number[]).includes(block.byteLength)) throw ShoalError.INVALID_MESSAGE(`box size ${block.byteLength} is not a size bucket`)
  const state = c.state(0, block.byteLength, block)
  try {
    if (c.uint.decode(state) !== BOX_TYPE) throw ShoalError.INVALID_MESSAGE('not a box record')
    const version = c.uint.decode(state)
    if (version !== BOX_VERSION) throw ShoalError.INVALID_MESSAGE(`box version ${version} is not known`)
    const coarse = c.uint.decode(state)
    if (coarse % COARSE_TIME_MS !== 0) throw ShoalError.INVALID_MESSAGE('box time is not rounded to the hour')
    const salt = c.fixed(NONCE_BYTES).decode(state)
    const slotCount = c.uint.decode(state)
    if (!(SLOT_BUCKETS as readonly number[]).includes(slotCount)) throw ShoalError.INVALID_MESSAGE(`slot count ${slotCount} is not a slot bucket`)
    const slotsEnd = state.start + slotCount * SLOT.bytes
    if (slotsEnd + MAC_BYTES > state.end) throw ShoalError.INVALID_MESSAGE('box too short for its slots')
    const slots: Uint8Array[] = []
    for (let i = 0; i < slotCount; i++) slots.push(block.subarray(state.start + i * SLOT.bytes, state.start + (i + 1) * SLOT.bytes))
    return { coarseTime: coarse, salt, slots, clear: block.subarray(0, slotsEnd), body: block.subarray(slotsEnd) }
  } catch (err) {
    if (err instanceof ShoalError) throw err
    throw ShoalError.INVALID_MESSAGE('truncated or malformed box', err)
  }
}

export interface OpenOptions extends BoxPlace {
  block: Uint8Array
  /** This device's keys (identity and the prekeys still held). */
  keys: DeviceKeys
  /** The sender device's DM identity key, from the verified `keys` record of `feed`. */
  senderIdentityKey: Uint8Array
  /** The sessions held with the sender device (the only ones tried). */
  sessions: Session[]
  /**
   * Optional memo of DH(prekey, sender identity key), the static secret behind prekey-phase slot
   * keys, keyed by both public keys in hex. In memory only; it saves one X25519 per box.
   */
  wrapCache?: Map<string, Uint8Array>
  rng?: Rng
}

function prekeyWrap (opts: OpenOptions, prekey: DeviceKeys['identity']): Uint8Array {
  const cache = opts.wrapCache
  if (cache === undefined) return dh(prekey.secretKey, opts.senderIdentityKey)
  const key = b4a.toString(prekey.publicKey, 'hex') + b4a.toString(opts.senderIdentityKey, 'hex')
  let wrap = cache.get(key)
  if (wrap === undefined) {
    wrap = dh(prekey.secretKey, opts.senderIdentityKey)
    cache.set(key, wrap)
  }
  return wrap
}

interface Candidate { key: Uint8Array, session: number, hk: Uint8Array | null, prekey: number }

/**
 * Opens a box read from `feed` at `seq`. Returns null when no slot is for this device (a cheap
 * failure: one secretbox open per slot per candidate key). Once a slot opens, anything wrong is
 * thrown as a coded error (DM_DECRYPT_FAILED, DM_TOO_MANY_SKIPPED, INVALID_MESSAGE); the given
 * sessions are never modified.
 */
export function openBox (opts: OpenOptions): OpenedBox | null {
  checkPlace(opts)
  const box = parseBox(opts.block)
  if (opts.sessions.length > MAX_SESSIONS_PER_DEVICE) throw ShoalError.INVALID_ARGUMENT(`${opts.sessions.length} sessions with one device, the cap is ${MAX_SESSIONS_PER_DEVICE}`)
  const candidates: Candidate[] = []
  opts.sessions.forEach((s, i) => {
    for (const hk of receiveHeaderKeys(s.ratchet)) candidates.push({ key: slotKey(hk, false, box.salt, opts), session: i, hk, prekey: -1 })
  })
  const prekeys = livePrekeys(opts.keys)
  prekeys.forEach((p, i) => {
    candidates.push({ key: slotKey(prekeyWrap(opts, p.keyPair), true, box.salt, opts), session: -1, hk: null, prekey: i })
  })
  const locator = b4a.alloc(SLOT.locator)
  for (const slot of box.slots) {
    const locatorBox = slot.subarray(0, LOCATOR_BOX)
    for (const cand of candidates) {
      // The hot loop of a box that is not for us: one failed MAC check, no allocation.
      if (!sodium.crypto_secretbox_open_easy(locator, locatorBox, box.salt, cand.key)) continue
      return readSlot(opts, box, slot, locator, cand, prekeys[cand.prekey]?.keyPair)
    }
  }
  return null
}

function readSlot (opts: OpenOptions, box: ParsedBox, slot: Uint8Array, locator: Uint8Array, cand: Candidate, prekey: DeviceKeys['identity'] | undefined): OpenedBox {
  const rng = opts.rng ?? systemRng
  let session: Session
  let index: number
  let mk: Uint8Array
  if (cand.hk !== null) {
    for (let i = SLOT.header; i < SLOT.locator; i++) if (locator[i] !== 0) throw ShoalError.DM_DECRYPT_FAILED('slot padding is not zero')
    const base = opts.sessions[cand.session]
    const r = ratchetReceive(base.ratchet, cand.hk, decodeHeader(locator.subarray(0, SLOT.header)), rng)
    session = { ...base, prekeyWrap: null, ratchet: r.state }
    index = cand.session
    mk = r.mk
  } else {
    const ek = b4a.from(locator.subarray(0, 32))
    const header = decodeHeader(locator.subarray(32, SLOT.locator))
    index = opts.sessions.findIndex(s => !s.initiator && equal(s.baseKey, ek) && equal(s.theirIdentityKey, opts.senderIdentityKey))
    if (index !== -1) {
      const base = opts.sessions[index]
      const r = ratchetReceive(base.ratchet, base.hka, header, rng)
      session = { ...base, ratchet: r.state }
      mk = r.mk
    } else {
      const x = x3dhRespond(opts.keys.identity, prekey as DeviceKeys['identity'], opts.senderIdentityKey, ek)
      const r = ratchetReceive(initResponder(x.sk, prekey as DeviceKeys['identity'], x.hka, x.nhkb), x.hka, header, rng)
      session = { theirIdentityKey: opts.senderIdentityKey, initiator: false, baseKey: ek, ad: x.ad, hka: x.hka, prekeyWrap: null, ratchet: r.state }
      mk = r.mk
    }
  }
  const ck = secretboxOpen(contentKeyKey(mk, session.ad, box.salt, opts), box.salt, slot.subarray(LOCATOR_BOX))
  if (ck === null) throw ShoalError.DM_DECRYPT_FAILED('content key does not open under the message key')
  const plain = secretboxOpen(bodyKey(ck, box.salt, opts, sha256(box.clear)), box.salt, box.body)
  if (plain === null) throw ShoalError.DM_DECRYPT_FAILED('body does not open under the content key')
  const content = decodeContent(plain)
  if (coarseTime(content.timestamp) !== box.coarseTime) throw ShoalError.INVALID_MESSAGE('inner time does not match the clear-text hour')
  return { content, session, index }
}
