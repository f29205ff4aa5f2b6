/**
 * The `keys` feed record (type 12): a device's DM identity key and its current signed prekey,
 * signed by the device's feed key pair. It is authenticated twice: by the feed (Hypercore's signed
 * tree) and by its own signature, so it can also be checked when it travels outside the feed.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import sodium from 'sodium-universal'
import { ShoalError } from '../errors.js'
import { namespaceHash } from '../caps.js'
import { KEYS_SIGNATURE, KEYS_TYPE, KEYS_VERSION } from './caps.js'
import { u64 } from './primitives.js'

/** A published DM key bundle (X25519 keys, 32 bytes each; `createdAt` in ms; ed25519 signature). */
export interface KeysRecord {
  identityKey: Uint8Array
  prekeyId: number
  prekey: Uint8Array
  createdAt: number
  signature: Uint8Array
}

/**
 * Signs a keys record: `sign(message)` returns a 64-byte ed25519 signature by `publicKey`. The
 * signed payload names `feedKey` (default `publicKey`: a feed whose key is its signing key). A
 * Hypercore 11 feed key is a manifest hash, not an ed25519 key, so the node signs with the
 * identity key that attests the feed and names the feed in `feedKey` (see docs/DM.md, Keys).
 */
export interface Signer {
  publicKey: Uint8Array
  feedKey?: Uint8Array
  sign: (message: Uint8Array) => Uint8Array
}

/** A Signer over an ed25519 key pair (a Hypercore key pair: 32-byte public, 64-byte secret). */
export function keyPairSigner (keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, feedKey?: Uint8Array): Signer {
  return {
    publicKey: keyPair.publicKey,
    feedKey,
    sign (message) {
      const sig = b4a.alloc(64)
      sodium.crypto_sign_detached(sig, message, keyPair.secretKey)
      return sig
    }
  }
}

/** The 32 bytes the feed key signs: namespaceHash("dm-keys/v1", feed, identityKey, prekey, id, createdAt). */
export function keysSignedPayload (feedKey: Uint8Array, rec: Omit<KeysRecord, 'signature'>): Uint8Array {
  return namespaceHash(KEYS_SIGNATURE, feedKey, rec.identityKey, rec.prekey, u64(rec.prekeyId), u64(rec.createdAt))
}

/** A signed keys record for `feedKey` (the signer's public key). */
export function signKeysRecord (signer: Signer, rec: Omit<KeysRecord, 'signature'>): KeysRecord {
  return { ...rec, signature: signer.sign(keysSignedPayload(signer.feedKey ?? signer.publicKey, rec)) }
}

/** How far in the future a keys record's `createdAt` may be (clock skew), in ms. */
export const MAX_KEYS_SKEW = 24 * 3600_000

/**
 * Checks shape, time (when `now` is given: at most a day in the future) and the signature over
 * the feed the record came from, by `signerKey` (default the feed key itself: the identity that
 * the feed's header names, in the node), cheapest first; throws DM_INVALID_KEYS.
 */
export function verifyKeysRecord (rec: KeysRecord, feedKey: Uint8Array, now?: number, signerKey: Uint8Array = feedKey): void {
  checkShape(rec)
  if (!(feedKey instanceof Uint8Array) || feedKey.byteLength !== 32) throw ShoalError.DM_INVALID_KEYS('feed key must be 32 bytes')
  if (now !== undefined && rec.createdAt > now + MAX_KEYS_SKEW) throw ShoalError.DM_INVALID_KEYS('keys record is dated in the future')
  if (!(signerKey instanceof Uint8Array) || signerKey.byteLength !== 32) throw ShoalError.DM_INVALID_KEYS('signer key must be 32 bytes')
  if (!sodium.crypto_sign_verify_detached(rec.signature, keysSignedPayload(feedKey, rec), signerKey)) {
    throw ShoalError.DM_INVALID_KEYS('keys record signature does not verify against its feed')
  }
}

function checkShape (rec: KeysRecord): void {
  const key = (k: unknown): boolean => k instanceof Uint8Array && k.byteLength === 32
  if (!key(rec.identityKey) || !key(rec.prekey)) throw ShoalError.DM_INVALID_KEYS('keys are 32 bytes')
  if (!(rec.signature instanceof Uint8Array) || rec.signature.byteLength !== 64) throw ShoalError.DM_INVALID_KEYS('signature is 64 bytes')
  if (!Number.isSafeInteger(rec.prekeyId) || rec.prekeyId < 0) throw ShoalError.DM_INVALID_KEYS('prekey id must be a non-negative integer')
  if (!Number.isSafeInteger(rec.createdAt) || rec.createdAt < 0) throw ShoalError.DM_INVALID_KEYS('createdAt must be a non-negative integer of ms')
}

/** The whole feed block of a keys record: envelope (type 12, version 1, timestamp = createdAt) + body. */
export function encodeKeysBlock (rec: KeysRecord): Uint8Array {
  checkShape(rec)
  const state = c.state()
  const parts = (pre: boolean): void => {
    const uint = pre ? c.uint.preencode : c.uint.encode
    const k32 = pre ? c.fixed32.preencode : c.fixed32.encode
    uint(state, KEYS_TYPE); uint(state, KEYS_VERSION); uint(state, rec.createdAt)
    k32(state, rec.identityKey); uint(state, rec.prekeyId); k32(state, rec.prekey)
    if (pre) c.fixed64.preencode(state, rec.signature); else c.fixed64.encode(state, rec.signature)
  }
  parts(true)
  state.buffer = b4a.alloc(state.end)
  parts(false)
  return state.buffer
}

/**
 * Decodes a keys block read from any feed (no signature check: call verifyKeysRecord with the
 * feed key). Throws DM_INVALID_KEYS for a wrong type, a newer version, or malformed bytes.
 */
export function decodeKeysBlock (block: Uint8Array): KeysRecord {
  if (!(block instanceof Uint8Array) || block.byteLength > 256) throw ShoalError.DM_INVALID_KEYS('keys block is not bytes or too large')
  const state = c.state(0, block.byteLength, block)
  let rec: KeysRecord
  try {
    if (c.uint.decode(state) !== KEYS_TYPE) throw ShoalError.DM_INVALID_KEYS('not a keys record')
    if (c.uint.decode(state) !== KEYS_VERSION) throw ShoalError.DM_INVALID_KEYS('unknown keys record version')
    const timestamp = c.uint.decode(state)
    const identityKey = c.fixed32.decode(state)
    const prekeyId = c.uint.decode(state)
    const prekey = c.fixed32.decode(state)
    const signature = c.fixed64.decode(state)
    rec = { identityKey, prekeyId, prekey, createdAt: timestamp, signature }
  } catch (err) {
    if (err instanceof ShoalError) throw err
    throw ShoalError.DM_INVALID_KEYS('truncated or malformed keys record', err)
  }
  if (state.start !== state.end) throw ShoalError.DM_INVALID_KEYS('trailing bytes after keys record')
  checkShape(rec)
  return rec
}
