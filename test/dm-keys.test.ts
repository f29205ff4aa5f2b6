/** Device keys: rotation policy with an injected clock, the `keys` record codec and its signature. */
import test from 'brittle'
import b4a from 'b4a'
import { DEFAULT_KEY_POLICY, KEYS_TYPE } from '../src/dm/caps.js'
import { createDeviceKeys, decodeDeviceKeys, encodeDeviceKeys, livePrekeys, maintainDeviceKeys } from '../src/dm/device-keys.js'
import { decodeKeysBlock, encodeKeysBlock, verifyKeysRecord } from '../src/dm/keys-record.js'
import { startSession } from '../src/dm/session.js'
import { T0, createDevice, receive, send } from './helpers/dm.js'
import { thrownCode } from './helpers/codes.js'

const DAY = 24 * 3600_000


test('dm keys – rotation every 7 days, replaced secrets deleted 30 days later', (t) => {
  const d = createDevice('a')
  const signer = d.signer
  let keys = d.keys
  t.is(keys.prekeys.length, 1)
  t.is(maintainDeviceKeys(keys, { signer, now: T0 + 7 * DAY - 1 }), keys, 'nothing due a millisecond early')
  keys = maintainDeviceKeys(keys, { signer, now: T0 + 7 * DAY })
  t.is(keys.prekeys.length, 2, 'rotated at 7 days')
  t.is(keys.record.prekeyId, 1)
  t.ok(b4a.equals(keys.record.prekey, keys.prekeys[1].keyPair.publicKey), 'the record names the new prekey')
  t.is(keys.prekeys[0].retiredAt, T0 + 7 * DAY)
  t.ok(b4a.equals(keys.identity.publicKey, d.keys.identity.publicKey), 'the identity key never rotates')
  keys = maintainDeviceKeys(keys, { signer, now: T0 + 14 * DAY })
  t.is(keys.prekeys.length, 3)
  keys = maintainDeviceKeys(keys, { signer, now: T0 + 37 * DAY - 1 })
  t.alike(keys.prekeys.map(p => p.id), [0, 1, 2, 3], 'prekey 0 still within grace (and a rotation at 21+ days)')
  keys = maintainDeviceKeys(keys, { signer, now: T0 + 37 * DAY })
  t.alike(keys.prekeys.map(p => p.id), [1, 2, 3], 'prekey 0 deleted 30 days after it was replaced')
  t.alike(livePrekeys(keys).map(p => p.id), [3, 2, 1], 'newest first')
  const custom = maintainDeviceKeys(d.keys, { signer, now: T0 + DAY, policy: { rotateAfter: DAY, graceAfter: 0 } })
  t.alike(custom.prekeys.map(p => p.id), [1], 'policy is configurable')
  t.is(DEFAULT_KEY_POLICY.rotateAfter, 7 * DAY)
})

test('dm keys – a box sealed to a replaced prekey opens during the grace period, not after', (t) => {
  const alice = createDevice('alice')
  const bob = createDevice('bob')
  const m = send(alice, [bob], 'to the old prekey')
  bob.keys = maintainDeviceKeys(bob.keys, { signer: bob.signer, now: T0 + 7 * DAY })
  const late = { ...bob, sessions: new Map(), keys: maintainDeviceKeys(bob.keys, { signer: bob.signer, now: T0 + 37 * DAY }) }
  t.is(receive(bob, m)?.content.text, 'to the old prekey')
  t.is(receive(late, m), null, 'the prekey secret is gone')
})

test('dm keys – record codec round trip, versioned envelope, signature bound to the feed', (t) => {
  const d = createDevice('a')
  const other = createDevice('b')
  const block = encodeKeysBlock(d.keys.record)
  t.is(block[0], KEYS_TYPE)
  t.is(block[1], 1, 'version 1')
  const rec = decodeKeysBlock(block)
  t.alike(rec, d.keys.record)
  t.is(thrownCode(() => verifyKeysRecord(rec, d.feed)), null)
  t.is(thrownCode(() => verifyKeysRecord(rec, other.feed)), 'DM_INVALID_KEYS', 'copied onto another feed')
  t.is(thrownCode(() => verifyKeysRecord(rec, d.feed, T0 - DAY)), null, 'a day of clock skew is fine')
  t.is(thrownCode(() => verifyKeysRecord(rec, d.feed, T0 - DAY - 1)), 'DM_INVALID_KEYS', 'dated further in the future')
  for (let i = 0; i < block.byteLength; i++) {
    const bad = b4a.from(block)
    bad[i] ^= 0x10
    const code = thrownCode(() => verifyKeysRecord(decodeKeysBlock(bad), d.feed))
    if (code !== 'DM_INVALID_KEYS') { t.fail(`byte ${i} flipped gave ${String(code)}`); return }
  }
  t.pass('every flipped byte is DM_INVALID_KEYS')
  t.is(thrownCode(() => decodeKeysBlock(block.subarray(0, block.byteLength - 1))), 'DM_INVALID_KEYS', 'truncated')
  t.is(thrownCode(() => decodeKeysBlock(b4a.concat([block, b4a.alloc(1)]))), 'DM_INVALID_KEYS', 'trailing byte')
  t.is(thrownCode(() => startSession(other.keys, rec, other.feed)), 'DM_INVALID_KEYS', 'no session from an unverified record')
})

test('dm keys – local state codec round trip', (t) => {
  const d = createDevice('a')
  const keys = maintainDeviceKeys(d.keys, { signer: d.signer, now: T0 + 8 * DAY })
  t.alike(decodeDeviceKeys(encodeDeviceKeys(keys)), keys)
  t.is(thrownCode(() => decodeDeviceKeys(b4a.from([2]))), 'STORAGE_ERROR', 'unknown version')
  t.is(thrownCode(() => decodeDeviceKeys(encodeDeviceKeys(keys).subarray(0, 50))), 'STORAGE_ERROR', 'truncated')
})
