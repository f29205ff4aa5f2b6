/**
 * Known-answer vectors (test/fixtures/dm-vectors.json, written once from fixed inputs): src/dm must
 * keep producing the same bytes, and the independent reference must reproduce them from the inputs.
 */
import test from 'brittle'
import fs from '#fs'
import { fixturePath } from './helpers/fixtures.js'
import b4a from 'b4a'
import { ed25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '../src/dm/primitives.js'
import { computeVectors, type Vectors } from './reference/dm-vectors.js'
import { refSecretbox } from './reference/secretbox.js'
import { RefDevice, cat, refContentKeyKey, refDh, refHkdf, refKdfCk, refKdfRk, refKeysPayload, refSlotKey, refX3dh } from './reference/dm-reference.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { seededRng } from './helpers/dm.js'

const fixture: Vectors = JSON.parse(await fs.readFile(fixturePath('dm-vectors.json'), 'utf8'))
const h = (s: string | number): Uint8Array => b4a.from(String(s), 'hex')
const x = (b: Uint8Array): string => b4a.toString(b, 'hex')

test('dm vectors – HKDF-SHA-256 matches RFC 5869 test case 1', (t) => {
  const okm = hkdf(b4a.alloc(22, 0x0b), h('000102030405060708090a0b0c'), h('f0f1f2f3f4f5f6f7f8f9'), 42)
  t.is(x(okm), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')
})

test('dm vectors – src/dm reproduces every fixture byte for byte', (t) => {
  const now = computeVectors()
  for (const name of Object.keys(fixture)) t.alike(now[name], fixture[name], name)
  t.alike(Object.keys(now), Object.keys(fixture), 'no vector missing or added')
})

test('dm vectors – the reference reproduces them from the inputs', (t) => {
  const v = fixture
  t.is(x(refHkdf(h(v.hkdf.ikm), h(v.hkdf.salt), h(v.hkdf.info), 96)), v.hkdf.okm, 'hkdf')
  t.is(x(refHkdf(h(v.hkdfNoSalt.ikm), new Uint8Array(0), h(v.hkdfNoSalt.info), 42)), v.hkdfNoSalt.okm, 'hkdf without salt')
  t.is(refKdfRk(h(v.kdfRk.rk), h(v.kdfRk.dh)).map(x).join(','), [v.kdfRk.rkOut, v.kdfRk.ck, v.kdfRk.nhk].join(','), 'kdf_rk')
  const ck = refKdfCk(h(v.kdfCk.ck))
  t.is(x(ck.ck) + x(ck.mk), String(v.kdfCk.ckOut) + String(v.kdfCk.mk), 'kdf_ck')

  const ikaSk = h(v.x3dh.ikaSecret); const ikbSk = h(v.x3dh.ikbSecret); const spkSk = h(v.x3dh.spkbSecret); const ekSk = h(v.x3dh.ekaSecret)
  const pub = (sk: Uint8Array): Uint8Array => x25519.getPublicKey(sk)
  const r = refX3dh(refDh(ikaSk, pub(spkSk)), refDh(ekSk, pub(ikbSk)), refDh(ekSk, pub(spkSk)))
  t.is(x(pub(ekSk)), v.x3dh.ekaPublic)
  t.is(x(r.sk) + x(r.hka) + x(r.nhkb), String(v.x3dh.sk) + String(v.x3dh.hka) + String(v.x3dh.nhkb), 'x3dh')
  t.is(x(cat(pub(ikaSk), pub(ikbSk))), v.x3dh.ad, 'x3dh associated data')

  const feedSeed = h(v.keysRecord.feedSeed)
  const block = h(v.keysRecord.block)
  const sig = ed25519.sign(refKeysPayload(h(v.keysRecord.feedKey), pub(ikbSk), pub(spkSk), 3, 1_700_000_000_000), feedSeed)
  t.is(x(block.subarray(block.byteLength - 64)), x(sig), 'keys record signature (ed25519 is deterministic)')

  for (const name of ['slot', 'prekeySlot']) {
    const s = v[name]
    const header = new Uint8Array(40)
    header.set(h(s.headerDh)); new DataView(header.buffer).setUint32(32, Number(s.pn), true); new DataView(header.buffer).setUint32(36, Number(s.n), true)
    const prekey = name === 'prekeySlot'
    const locator = prekey ? cat(h(s.ephemeralKey), header) : cat(header, new Uint8Array(32))
    const salt = h(s.salt)
    const key = refSlotKey(prekey ? h(s.wrap) : h(s.hk), prekey, salt, h(s.feed), Number(s.seq))
    const slot = cat(refSecretbox(key, salt, locator), refSecretbox(refContentKeyKey(h(s.mk), h(s.ad), salt, h(s.feed), Number(s.seq)), salt, h(s.ck)))
    t.is(x(slot), s.slot, name)
  }

  const bob = RefDevice.fromSecrets(h(v.box.bobIdentitySecret), h(v.box.bobPrekeySecret), seededRng('ref-box-reader'))
  const aliceFeed = ed25519.getPublicKey(h(v.box.aliceFeedSeed))
  const opened = bob.open(h(v.box.block), aliceFeed, Number(v.box.seq), h(v.box.aliceIdentityKey))
  t.is(opened?.text, v.box.text, 'the reference opens the fixture box')
  t.is(opened?.timestamp, v.box.timestamp)
})
