/**
 * X3DH without one-time prekeys (Signal's X3DH spec, sections 2–3), with HKDF-SHA-256:
 *   DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B)
 *   SK ‖ HK_A ‖ NHK_B = HKDF(salt = 32 zero bytes, ikm = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3, info = "shoal/dm/x3dh/v1", 96)
 *   AD = IK_A ‖ IK_B
 * HK_A and NHK_B are the two shared header keys that the Double Ratchet with header encryption
 * starts from (Double Ratchet spec, section 4.2). A = initiator, B = responder.
 */
import b4a from 'b4a'
import { LABEL } from './caps.js'
import { dh, generateKeyPair, hkdf, label, systemRng, type KeyPair, type Rng } from './primitives.js'

/** What both sides of X3DH agree on (32-byte keys; `ad` is 64 bytes). */
export interface X3dhSecrets {
  sk: Uint8Array
  hka: Uint8Array
  nhkb: Uint8Array
  ad: Uint8Array
}

const F = b4a.alloc(32, 0xff)

function derive (dh1: Uint8Array, dh2: Uint8Array, dh3: Uint8Array, ika: Uint8Array, ikb: Uint8Array): X3dhSecrets {
  const okm = hkdf(b4a.concat([F, dh1, dh2, dh3]), b4a.alloc(0), label(LABEL.x3dh), 96)
  return { sk: okm.subarray(0, 32), hka: okm.subarray(32, 64), nhkb: okm.subarray(64, 96), ad: b4a.concat([ika, ikb]) }
}

/** Initiator side: our identity key pair, their identity key and signed prekey (already verified). */
export function x3dhInitiate (identity: KeyPair, theirIdentityKey: Uint8Array, theirPrekey: Uint8Array, rng: Rng = systemRng): X3dhSecrets & { ephemeral: KeyPair } {
  const ephemeral = generateKeyPair(rng)
  const secrets = derive(
    dh(identity.secretKey, theirPrekey),
    dh(ephemeral.secretKey, theirIdentityKey),
    dh(ephemeral.secretKey, theirPrekey),
    identity.publicKey, theirIdentityKey
  )
  return { ...secrets, ephemeral }
}

/** Responder side: our identity and the prekey the initiator used, their identity and ephemeral keys. */
export function x3dhRespond (identity: KeyPair, prekey: KeyPair, theirIdentityKey: Uint8Array, theirEphemeralKey: Uint8Array): X3dhSecrets {
  return derive(
    dh(prekey.secretKey, theirIdentityKey),
    dh(identity.secretKey, theirEphemeralKey),
    dh(prekey.secretKey, theirEphemeralKey),
    theirIdentityKey, identity.publicKey
  )
}
