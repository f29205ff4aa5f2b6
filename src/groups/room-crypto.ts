/**
 * The room's cryptography on sodium-universal: device attestations (ed25519), message bodies
 * (crypto_secretbox under an epoch key, random nonce per message) and epoch-key shares
 * (crypto_box_seal to a device's X25519 key).
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { roomDevicePayload } from './room-caps.js'
import type { DeviceAttestation } from './room-schema.js'

export interface SignKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }
export interface BoxKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

/** Size of a sealed 32-byte epoch key. */
export const SEALED_KEY_BYTES = 32 + 48

/** A fresh random X25519 key pair for a device (never derived from the identity). */
export function boxKeyPair (): BoxKeyPair {
  const publicKey = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES)
  const secretKey = b4a.alloc(sodium.crypto_box_SECRETKEYBYTES)
  sodium.crypto_box_keypair(publicKey, secretKey)
  return { publicKey, secretKey }
}

/** 32 random bytes (epoch keys, room encryption keys). */
export function randomKey (): Uint8Array {
  const key = b4a.alloc(32)
  sodium.randombytes_buf(key)
  return key
}

/** The identity's attestation that `device` (with `boxKey`) is its device in the room `discoveryKey`. */
export function attestDevice (identity: SignKeyPair, discoveryKey: Uint8Array, device: Uint8Array, boxKey: Uint8Array): DeviceAttestation {
  const signature = b4a.alloc(sodium.crypto_sign_BYTES)
  sodium.crypto_sign_detached(signature, roomDevicePayload(discoveryKey, identity.publicKey, device, boxKey), identity.secretKey)
  return { identity: identity.publicKey, device, boxKey, signature }
}

/** True when the attestation's signature is the identity's, for this room. */
export function verifyAttestation (a: DeviceAttestation, discoveryKey: Uint8Array): boolean {
  return sodium.crypto_sign_verify_detached(a.signature, roomDevicePayload(discoveryKey, a.identity, a.device, a.boxKey), a.identity)
}

/** Encrypts a message body under an epoch key with a fresh random nonce. */
export function sealBody (key: Uint8Array, plaintext: Uint8Array): { nonce: Uint8Array, body: Uint8Array } {
  const nonce = b4a.alloc(sodium.crypto_secretbox_NONCEBYTES)
  sodium.randombytes_buf(nonce)
  const body = b4a.alloc(plaintext.byteLength + sodium.crypto_secretbox_MACBYTES)
  sodium.crypto_secretbox_easy(body, plaintext, nonce, key)
  return { nonce, body }
}

/** Decrypts a message body; null when the key is wrong or the body was tampered with. */
export function openBody (key: Uint8Array, nonce: Uint8Array, body: Uint8Array): Uint8Array | null {
  if (body.byteLength < sodium.crypto_secretbox_MACBYTES) return null
  const out = b4a.alloc(body.byteLength - sodium.crypto_secretbox_MACBYTES)
  return sodium.crypto_secretbox_open_easy(out, body, nonce, key) ? out : null
}

/** Seals a 32-byte epoch key to a device's X25519 public key (80 bytes). */
export function sealKey (epochKey: Uint8Array, boxKey: Uint8Array): Uint8Array {
  const out = b4a.alloc(SEALED_KEY_BYTES)
  sodium.crypto_box_seal(out, epochKey, boxKey)
  return out
}

/** Opens a sealed epoch key with this device's box key pair; null when it is not for us. */
export function openKey (sealed: Uint8Array, kp: BoxKeyPair): Uint8Array | null {
  if (sealed.byteLength !== SEALED_KEY_BYTES) return null
  const out = b4a.alloc(32)
  return sodium.crypto_box_seal_open(out, sealed, kp.publicKey, kp.secretKey) ? out : null
}
