/**
 * Known-answer vectors of the DM construction from fixed inputs, computed by src/dm. The inputs
 * are in the JSON too, so the reference can recompute them. Written once to
 * test/fixtures/dm-vectors.json by `node dist/test/reference/dm-vectors.js --write`; from then on
 * test/dm-vectors.test.ts checks that src/dm (and the reference) still produce the same bytes.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { hkdf, publicKeyOf } from '../../src/dm/primitives.js'
import { kdfCk, kdfRk } from '../../src/dm/ratchet.js'
import { x3dhInitiate, x3dhRespond } from '../../src/dm/x3dh.js'
import { openBox, sealBox, sealSlot } from '../../src/dm/envelope.js'
import { encodeKeysBlock, keyPairSigner, signKeysRecord } from '../../src/dm/keys-record.js'
import { startSession } from '../../src/dm/session.js'
import { createDeviceKeys } from '../../src/dm/device-keys.js'
import { T0, seededRng } from '../helpers/dm.js'

export type Vectors = Record<string, Record<string, string | number>>

const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
const bytes = (seed: string, n = 32): Uint8Array => seededRng('dm-vectors/' + seed)(n)

function feedKeyPair (seed: string): { publicKey: Uint8Array, secretKey: Uint8Array } {
  const publicKey = b4a.alloc(32)
  const secretKey = b4a.alloc(64)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, bytes(seed))
  return { publicKey, secretKey }
}

/** Every vector, inputs and outputs, as hex strings and numbers. */
export function computeVectors (): Vectors {
  const v: Vectors = {}
  const ikm = bytes('hkdf-ikm'); const salt = bytes('hkdf-salt'); const info = b4a.from('shoal/dm/test-info')
  v.hkdf = { ikm: hex(ikm), salt: hex(salt), info: hex(info), length: 96, okm: hex(hkdf(ikm, salt, info, 96)) }
  v.hkdfNoSalt = { ikm: hex(ikm), salt: '', info: hex(info), length: 42, okm: hex(hkdf(ikm, b4a.alloc(0), info, 42)) }

  const rk = bytes('rk'); const dhOut = bytes('dh-out')
  const r = kdfRk(rk, dhOut)
  v.kdfRk = { rk: hex(rk), dh: hex(dhOut), rkOut: hex(r.rk), ck: hex(r.ck), nhk: hex(r.nhk) }
  const ck = bytes('ck')
  const c = kdfCk(ck)
  v.kdfCk = { ck: hex(ck), ckOut: hex(c.ck), mk: hex(c.mk) }

  const kp = (s: string): { publicKey: Uint8Array, secretKey: Uint8Array } => { const secretKey = bytes(s); return { secretKey, publicKey: publicKeyOf(secretKey) } }
  const ika = kp('ik-a'); const ikb = kp('ik-b'); const spkb = kp('spk-b'); const eka = bytes('ek-a')
  const init = x3dhInitiate(ika, ikb.publicKey, spkb.publicKey, () => b4a.from(eka))
  const resp = x3dhRespond(ikb, spkb, ika.publicKey, init.ephemeral.publicKey)
  if (!b4a.equals(init.sk, resp.sk)) throw new Error('x3dh sides disagree')
  v.x3dh = {
    ikaSecret: hex(ika.secretKey), ikbSecret: hex(ikb.secretKey), spkbSecret: hex(spkb.secretKey), ekaSecret: hex(eka),
    ekaPublic: hex(init.ephemeral.publicKey), sk: hex(init.sk), hka: hex(init.hka), nhkb: hex(init.nhkb), ad: hex(init.ad)
  }

  const feed = feedKeyPair('feed')
  const rec = signKeysRecord(keyPairSigner(feed), { identityKey: ikb.publicKey, prekeyId: 3, prekey: spkb.publicKey, createdAt: T0 })
  v.keysRecord = { feedSeed: hex(bytes('feed')), feedKey: hex(feed.publicKey), block: hex(encodeKeysBlock(rec)) }

  const slotIn = {
    feed: feed.publicKey, seq: 42, salt: bytes('salt', 24), header: { dh: bytes('ratchet-pub'), pn: 7, n: 300 },
    hk: bytes('hk'), mk: bytes('mk'), ad: init.ad, ck: bytes('content-key')
  }
  v.slot = {
    feed: hex(slotIn.feed), seq: 42, salt: hex(slotIn.salt), headerDh: hex(slotIn.header.dh), pn: 7, n: 300,
    hk: hex(slotIn.hk), mk: hex(slotIn.mk), ad: hex(slotIn.ad), ck: hex(slotIn.ck),
    slot: hex(sealSlot({ ...slotIn, prekey: null }))
  }
  const wrap = bytes('prekey-wrap')
  v.prekeySlot = { ...v.slot, wrap: hex(wrap), ephemeralKey: hex(init.ephemeral.publicKey), slot: hex(sealSlot({ ...slotIn, prekey: { wrap, ephemeralKey: init.ephemeral.publicKey } })) }

  // One whole box: Alice's device starts a session with Bob's and seals one DM, all randomness fixed.
  const rng = seededRng('dm-vectors/box')
  const aliceFeed = feedKeyPair('alice-feed'); const bobFeed = feedKeyPair('bob-feed')
  const alice = createDeviceKeys({ signer: keyPairSigner(aliceFeed), now: T0, rng })
  const bob = createDeviceKeys({ signer: keyPairSigner(bobFeed), now: T0, rng })
  const session = startSession(alice, bob.record, bobFeed.publicKey, rng)
  const content = { timestamp: T0 + 90_061_000, recipients: [bobFeed.publicKey], text: 'Hello, Bob! 🐟' }
  const sealed = sealBox({ feed: aliceFeed.publicKey, seq: 5, content, sessions: [session], rng })
  const opened = openBox({ feed: aliceFeed.publicKey, seq: 5, block: sealed.block, keys: bob, senderIdentityKey: alice.identity.publicKey, sessions: [], rng })
  if (opened?.content.text !== content.text) throw new Error('box does not open')
  v.box = {
    rngSeed: 'dm-vectors/box', aliceFeedSeed: hex(bytes('alice-feed')), bobFeedSeed: hex(bytes('bob-feed')), seq: 5,
    timestamp: content.timestamp, recipient: hex(bobFeed.publicKey), text: content.text,
    aliceIdentityKey: hex(alice.identity.publicKey), bobIdentitySecret: hex(bob.identity.secretKey), bobPrekeySecret: hex(bob.prekeys[0].keyPair.secretKey),
    block: hex(sealed.block)
  }
  return v
}

const isMain = typeof process !== 'undefined' && process.argv[1]?.endsWith('dm-vectors.js') && process.argv.includes('--write')
if (isMain) {
  const fs = await import('fs')
  const url = new URL('../../../test/fixtures/dm-vectors.json', import.meta.url)
  fs.writeFileSync(url, JSON.stringify(computeVectors(), null, 2) + '\n')
  console.log('wrote', url.pathname)
}
