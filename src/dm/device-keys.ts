/**
 * A device's DM keys: a random X25519 identity key (never derived from the identity seed) and a
 * signed prekey rotated on a policy. Pure functions over a plain, serialisable state; the caller
 * commits the returned state (primary storage) and appends `record` to its feed when it changed.
 */
import c from 'compact-encoding'
import { ShoalError } from '../errors.js'
import { DEFAULT_KEY_POLICY, STATE_VERSION } from './caps.js'
import { generateKeyPair, systemRng, type KeyPair, type Rng } from './primitives.js'
import { signKeysRecord, type KeysRecord, type Signer } from './keys-record.js'

/** One signed prekey; `retiredAt` is when a newer one replaced it (ms), null for the current one. */
export interface Prekey {
  id: number
  keyPair: KeyPair
  createdAt: number
  retiredAt: number | null
}

/** The device's DM key state: identity key, prekeys (oldest first, the last is current), the published record. */
export interface DeviceKeys {
  identity: KeyPair
  prekeys: Prekey[]
  record: KeysRecord
}

/** Rotation policy in ms: rotate the prekey after `rotateAfter`, delete a replaced secret `graceAfter` later. */
export interface KeyPolicy { rotateAfter: number, graceAfter: number }

export interface KeyOptions {
  signer: Signer
  now: number
  rng?: Rng
  policy?: KeyPolicy
}

/** Makes fresh device keys and their first signed `keys` record. */
export function createDeviceKeys (opts: KeyOptions): DeviceKeys {
  const rng = opts.rng ?? systemRng
  const identity = generateKeyPair(rng)
  const prekey: Prekey = { id: 0, keyPair: generateKeyPair(rng), createdAt: opts.now, retiredAt: null }
  return { identity, prekeys: [prekey], record: recordOf(opts.signer, identity, prekey) }
}

/**
 * Applies the policy at `now`: rotates the prekey when it is `rotateAfter` old and drops replaced
 * prekeys `graceAfter` after their replacement. Returns the same object when nothing is due, so
 * `next !== keys` means "commit, and append `next.record` if it changed".
 */
export function maintainDeviceKeys (keys: DeviceKeys, opts: KeyOptions): DeviceKeys {
  const policy = opts.policy ?? DEFAULT_KEY_POLICY
  const rng = opts.rng ?? systemRng
  const current = keys.prekeys[keys.prekeys.length - 1]
  let prekeys = keys.prekeys
  let record = keys.record
  if (opts.now - current.createdAt >= policy.rotateAfter) {
    const next: Prekey = { id: current.id + 1, keyPair: generateKeyPair(rng), createdAt: opts.now, retiredAt: null }
    prekeys = [...prekeys.slice(0, -1), { ...current, retiredAt: opts.now }, next]
    record = recordOf(opts.signer, keys.identity, next)
  }
  const kept = prekeys.filter(p => p.retiredAt === null || opts.now - p.retiredAt < policy.graceAfter)
  if (prekeys === keys.prekeys && kept.length === prekeys.length) return keys
  return { identity: keys.identity, prekeys: kept, record }
}

/** The prekeys whose secrets are still held (current and within grace), newest first. */
export function livePrekeys (keys: DeviceKeys): Prekey[] {
  return [...keys.prekeys].reverse()
}

function recordOf (signer: Signer, identity: KeyPair, prekey: Prekey): KeysRecord {
  return signKeysRecord(signer, { identityKey: identity.publicKey, prekeyId: prekey.id, prekey: prekey.keyPair.publicKey, createdAt: prekey.createdAt })
}

const keyPairEncoding: c.Encoder<KeyPair> = {
  preencode (state) { state.end += 64 },
  encode (state, kp) { c.fixed32.encode(state, kp.publicKey); c.fixed32.encode(state, kp.secretKey) },
  decode (state) { return { publicKey: c.fixed32.decode(state), secretKey: c.fixed32.decode(state) } }
}

const prekeyEncoding: c.Encoder<Prekey> = {
  preencode (state, p) {
    c.uint.preencode(state, p.id); keyPairEncoding.preencode(state, p.keyPair)
    c.uint.preencode(state, p.createdAt); c.uint.preencode(state, p.retiredAt === null ? 0 : p.retiredAt + 1)
  },
  encode (state, p) {
    c.uint.encode(state, p.id); keyPairEncoding.encode(state, p.keyPair)
    c.uint.encode(state, p.createdAt); c.uint.encode(state, p.retiredAt === null ? 0 : p.retiredAt + 1)
  },
  decode (state) {
    const id = c.uint.decode(state)
    const keyPair = keyPairEncoding.decode(state)
    const createdAt = c.uint.decode(state)
    const retired = c.uint.decode(state)
    return { id, keyPair, createdAt, retiredAt: retired === 0 ? null : retired - 1 }
  }
}

const recordEncoding: c.Encoder<KeysRecord> = {
  preencode (state, r) { state.end += 64; c.uint.preencode(state, r.prekeyId); c.uint.preencode(state, r.createdAt); state.end += 64 },
  encode (state, r) {
    c.fixed32.encode(state, r.identityKey); c.uint.encode(state, r.prekeyId); c.fixed32.encode(state, r.prekey)
    c.uint.encode(state, r.createdAt); c.fixed64.encode(state, r.signature)
  },
  decode (state) {
    const identityKey = c.fixed32.decode(state)
    const prekeyId = c.uint.decode(state)
    const prekey = c.fixed32.decode(state)
    const createdAt = c.uint.decode(state)
    return { identityKey, prekeyId, prekey, createdAt, signature: c.fixed64.decode(state) }
  }
}

/** Local (primary state) codec of DeviceKeys: `uint version`, identity, prekeys, record. */
export const deviceKeysEncoding: c.Encoder<DeviceKeys> = {
  preencode (state, k) {
    c.uint.preencode(state, STATE_VERSION); keyPairEncoding.preencode(state, k.identity)
    c.uint.preencode(state, k.prekeys.length)
    for (const p of k.prekeys) prekeyEncoding.preencode(state, p)
    recordEncoding.preencode(state, k.record)
  },
  encode (state, k) {
    c.uint.encode(state, STATE_VERSION); keyPairEncoding.encode(state, k.identity)
    c.uint.encode(state, k.prekeys.length)
    for (const p of k.prekeys) prekeyEncoding.encode(state, p)
    recordEncoding.encode(state, k.record)
  },
  decode (state) {
    const version = c.uint.decode(state)
    if (version !== STATE_VERSION) throw ShoalError.STORAGE_ERROR(`device keys version ${version} is not known`)
    const identity = keyPairEncoding.decode(state)
    const n = c.uint.decode(state)
    if (n < 1 || n > 1024) throw ShoalError.STORAGE_ERROR('device keys hold no prekey or too many')
    const prekeys: Prekey[] = []
    for (let i = 0; i < n; i++) prekeys.push(prekeyEncoding.decode(state))
    return { identity, prekeys, record: recordEncoding.decode(state) }
  }
}

/** Encodes device keys for primary storage. */
export function encodeDeviceKeys (keys: DeviceKeys): Uint8Array {
  return c.encode(deviceKeysEncoding, keys)
}

/** Decodes device keys from primary storage; STORAGE_ERROR when unreadable. */
export function decodeDeviceKeys (buf: Uint8Array): DeviceKeys {
  try {
    return c.decode(deviceKeysEncoding, buf)
  } catch (err) {
    if (err instanceof ShoalError) throw err
    throw ShoalError.STORAGE_ERROR('device keys are malformed', err)
  }
}

