/**
 * An identity is an ed25519 keypair derived from a 32-byte seed; the 24-word BIP39 recovery phrase
 * encodes exactly that seed (256 bits of entropy), so the phrase alone restores the identity.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { ShoalError } from '../errors.js'
import { deviceAttestationPayload } from '../caps.js'
import type { FeedKey, IdentityKey } from '../ids.js'

export const SEED_BYTES = 32

export interface IdentityKeyPair {
  publicKey: IdentityKey
  secretKey: Uint8Array
}

export function createSeed (): Uint8Array {
  const seed = b4a.alloc(SEED_BYTES)
  sodium.randombytes_buf(seed)
  return seed
}

export function keyPairFromSeed (seed: Uint8Array): IdentityKeyPair {
  if (seed.byteLength !== SEED_BYTES) throw ShoalError.INVALID_ARGUMENT(`identity seed must be ${SEED_BYTES} bytes`)
  const publicKey = b4a.alloc(32)
  const secretKey = b4a.alloc(64)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey: publicKey as IdentityKey, secretKey }
}

export function seedToPhrase (seed: Uint8Array): string {
  if (seed.byteLength !== SEED_BYTES) throw ShoalError.INVALID_ARGUMENT(`identity seed must be ${SEED_BYTES} bytes`)
  return entropyToMnemonic(seed, wordlist)
}

export function phraseToSeed (phrase: string): Uint8Array {
  const words = String(phrase).trim().toLowerCase().split(/\s+/)
  if (words.length !== 24) throw ShoalError.INVALID_PHRASE(`a recovery phrase has 24 words, got ${words.length}`)
  const unknown = words.filter((w) => !wordlist.includes(w))
  if (unknown.length > 0) throw ShoalError.INVALID_PHRASE(`not in the BIP39 English word list: ${unknown.slice(0, 3).join(', ')}`)
  try {
    return b4a.from(mnemonicToEntropy(words.join(' '), wordlist))
  } catch (err) {
    throw ShoalError.INVALID_PHRASE('recovery phrase checksum does not match (a word is wrong or out of order)', err)
  }
}

/** The identity's signature saying "this device feed speaks for me". */
export function signDeviceFeed (identity: IdentityKeyPair, feed: FeedKey): Uint8Array {
  const sig = b4a.alloc(64)
  sodium.crypto_sign_detached(sig, deviceAttestationPayload(identity.publicKey, feed), identity.secretKey)
  return sig
}

export function verifyDeviceFeed (identity: Uint8Array, feed: Uint8Array, signature: Uint8Array): boolean {
  if (identity.byteLength !== 32 || feed.byteLength !== 32 || signature.byteLength !== 64) return false
  return sodium.crypto_sign_verify_detached(signature, deviceAttestationPayload(identity, feed), identity)
}
