/**
 * Constants that must never drift between versions or peers: crypto namespaces, topic
 * derivation and format versions. Changing any value here is a protocol break.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'

/** Hash `parts` under a named namespace so signatures and topics of different purposes never collide. */
export function namespaceHash (name: string, ...parts: Uint8Array[]): Uint8Array {
  return namespaceHasher(name)(...parts)
}

/** namespaceHash under one name, the name encoded once (for hashing thousands of values). */
export function namespaceHasher (name: string): (...parts: Uint8Array[]) => Uint8Array {
  const prefix = namespacePrefix(name)
  return (...parts) => {
    const out = b4a.alloc(32)
    sodium.crypto_generichash_batch(out, [prefix, ...parts])
    return out
  }
}

/**
 * `namespaceHasher(name)(...fixed, v)` for each `v` of `varying` (32 bytes each): the same hashes,
 * from one input buffer whose tail is rewritten per item (thousands per call, several times
 * cheaper than one parts list each).
 */
export function namespaceHashes (name: string, fixed: Uint8Array[], varying: Uint8Array[]): Uint8Array[] {
  const head = b4a.concat([namespacePrefix(name), ...fixed])
  const input = b4a.alloc(head.byteLength + 32)
  input.set(head, 0)
  const out = b4a.allocUnsafe(32 * varying.length)
  return varying.map((v, i) => {
    const hash = out.subarray(i * 32, i * 32 + 32)
    if (v.byteLength !== 32) {
      sodium.crypto_generichash_batch(hash, [head, v])
      return hash
    }
    input.set(v, head.byteLength)
    sodium.crypto_generichash(hash, input)
    return hash
  })
}

/**
 * namespaceHashes with no list made: `visit(hash, i)` for each `v` of `varying`, `hash` one
 * buffer rewritten per item (copy it to keep it).
 */
export function eachNamespaceHash (name: string, fixed: Uint8Array[], varying: Uint8Array[], visit: (hash: Uint8Array, i: number) => void): void {
  const head = b4a.concat([namespacePrefix(name), ...fixed])
  const input = b4a.alloc(head.byteLength + 32)
  input.set(head, 0)
  const hash = b4a.allocUnsafe(32)
  for (let i = 0; i < varying.length; i++) {
    const v = varying[i]
    if (v.byteLength !== 32) sodium.crypto_generichash_batch(hash, [head, v])
    else {
      input.set(v, head.byteLength)
      sodium.crypto_generichash(hash, input)
    }
    visit(hash, i)
  }
}

function namespacePrefix (name: string): Uint8Array {
  return b4a.from('shoal/' + name)
}

/** Namespace of the identity's signature over a device feed key in the feed header. */
export const DEVICE_ATTESTATION = 'device-attestation/v1'
/** Namespace of the discovery topic an identity's feeds are announced under. */
export const IDENTITY_TOPIC = 'identity-topic/v1'

/** Format version written in every feed record envelope. */
export const RECORD_VERSION = 1
/** Format version of the feed header (block 0). */
export const HEADER_VERSION = 1

/** Name of this device's feed inside the Corestore (one feed per storage folder). */
export const DEVICE_FEED_NAME = 'shoal/device-feed'

/**
 * Name of this storage's Hyperswarm key pair, derived from the Corestore's primary key (one per
 * storage folder, so per device; never sent anywhere but as the DHT Noise key).
 */
export const SWARM_KEY_NAME = 'shoal/swarm-key'

/** Bump to rebuild every derived view on next open (the migration is the rebuild). */
export const VIEWS_VERSION = 8

/** The message that an identity signs to say "this device feed speaks for me". */
export function deviceAttestationPayload (identity: Uint8Array, feed: Uint8Array): Uint8Array {
  return namespaceHash(DEVICE_ATTESTATION, identity, feed)
}

/**
 * The swarm topic of an identity: an unkeyed hash, so it does not spell out the key, but anyone
 * who knows the key can compute it (docs/SECURITY.md says what that reveals).
 */
export function identityTopic (identity: Uint8Array): Uint8Array {
  return topicHash(identity)
}

const topicHash = namespaceHasher(IDENTITY_TOPIC)

/** identityTopic of each of `identities` (32 bytes each), hashed in one pass (see namespaceHashes). */
export function identityTopics (identities: Uint8Array[]): Uint8Array[] {
  return namespaceHashes(IDENTITY_TOPIC, [], identities)
}
