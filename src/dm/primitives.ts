/**
 * The few primitives the DM core is built from, all on sodium-universal: SHA-256, HMAC-SHA-256 and
 * HKDF-SHA-256 (RFC 2104 / RFC 5869, the KDF the Signal specs recommend), X25519 and
 * XSalsa20-Poly1305 (`crypto_secretbox`). Randomness comes through an injectable `Rng` so that
 * known-answer tests can fix it.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { ShoalError } from '../errors.js'

/** A source of random bytes: `rng(n)` returns n fresh bytes. */
export type Rng = (n: number) => Uint8Array

/** The system CSPRNG (`randombytes_buf`). */
export const systemRng: Rng = (n) => {
  const out = b4a.alloc(n)
  sodium.randombytes_buf(out)
  return out
}

/** An X25519 key pair: 32-byte public and secret keys. */
export interface KeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

export const KEY_BYTES = 32
export const NONCE_BYTES = 24
export const MAC_BYTES = 16

// One SHA-256 state reused by every call (the core is synchronous, so calls never interleave).
const STATE = b4a.alloc(104)

/** SHA-256 of the concatenated parts (32 bytes). */
export function sha256 (...parts: Uint8Array[]): Uint8Array {
  const out = b4a.alloc(32)
  sodium.crypto_hash_sha256_init(STATE)
  for (const p of parts) sodium.crypto_hash_sha256_update(STATE, p)
  sodium.crypto_hash_sha256_final(STATE, out)
  return out
}

/** HMAC-SHA-256 (RFC 2104) of the concatenated parts under `key` (32 bytes). */
export function hmacSha256 (key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = key.byteLength > 64 ? sha256(key) : key
  const pad = b4a.alloc(64, 0x36)
  for (let i = 0; i < k.byteLength; i++) pad[i] ^= k[i]
  const inner = sha256(pad, ...parts)
  for (let i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c
  return sha256(pad, inner)
}

/** HKDF-SHA-256 (RFC 5869): `length` bytes (at most 8160) from `ikm`, `salt` (empty means 32 zero bytes) and `info`. */
export function hkdf (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const prk = hmacSha256(salt.byteLength === 0 ? b4a.alloc(32) : salt, ikm)
  const out = b4a.alloc(length)
  let prev: Uint8Array = b4a.alloc(0)
  for (let i = 0, off = 0; off < length; i++) {
    prev = hmacSha256(prk, prev, info, b4a.from([i + 1]))
    out.set(prev.subarray(0, Math.min(32, length - off)), off)
    off += 32
  }
  return out
}

/** UTF-8 bytes of a label, for HKDF info strings. */
export function label (s: string): Uint8Array {
  return b4a.from(s)
}

/** A fresh X25519 key pair from `rng`. */
export function generateKeyPair (rng: Rng = systemRng): KeyPair {
  const secretKey = rng(32)
  return { publicKey: publicKeyOf(secretKey), secretKey }
}

/** The X25519 public key of a 32-byte secret key. */
export function publicKeyOf (secretKey: Uint8Array): Uint8Array {
  const pk = b4a.alloc(32)
  sodium.crypto_scalarmult_base(pk, secretKey)
  return pk
}

/**
 * X25519(secret, public). A public key of low order (an all-zero result) is rejected with
 * DM_DECRYPT_FAILED: it can only come from a malicious or broken peer.
 */
export function dh (secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.byteLength !== 32 || secretKey.byteLength !== 32) throw ShoalError.DM_DECRYPT_FAILED('X25519 keys are 32 bytes')
  const out = b4a.alloc(32)
  try {
    sodium.crypto_scalarmult(out, secretKey, publicKey)
  } catch (err) {
    throw ShoalError.DM_DECRYPT_FAILED('X25519 with a low-order public key', err)
  }
  return out
}

/** XSalsa20-Poly1305 `crypto_secretbox_easy`: ciphertext is 16 bytes longer than `plain`. */
export function secretbox (key: Uint8Array, nonce: Uint8Array, plain: Uint8Array): Uint8Array {
  const out = b4a.alloc(plain.byteLength + MAC_BYTES)
  sodium.crypto_secretbox_easy(out, plain, nonce, key)
  return out
}

/** Opens a `secretbox`; `null` when it does not authenticate (a cheap failure, nothing thrown). */
export function secretboxOpen (key: Uint8Array, nonce: Uint8Array, cipher: Uint8Array): Uint8Array | null {
  if (cipher.byteLength < MAC_BYTES) return null
  const out = b4a.alloc(cipher.byteLength - MAC_BYTES)
  return sodium.crypto_secretbox_open_easy(out, cipher, nonce, key) ? out : null
}

/** Constant-shape equality of two byte strings (lengths compared first). */
export function equal (a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b
  return b4a.equals(a, b)
}

/** uint64 big-endian bytes of a safe integer (for binding sequence numbers into KDF inputs). */
export function u64 (n: number): Uint8Array {
  const out = b4a.alloc(8)
  const view = new DataView(out.buffer, out.byteOffset, 8)
  view.setBigUint64(0, BigInt(n))
  return out
}
