import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import sodium from 'sodium-universal'
import z32 from 'z32'
import { validateMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { CAPS, TYPE, decodeRecord, encodeRecord, type FeedRecord, type HeaderRecord, type PostRecord } from '../src/feeds/schema.js'
import { createHeader, readHeader } from '../src/feeds/header.js'
import { keyPairFromSeed, phraseToSeed, seedToPhrase } from '../src/feeds/identity.js'
import { DEVICE_ATTESTATION, namespaceHash } from '../src/caps.js'
import {
  feedToString, identityToString, parseFeed, parseIdentity, parseRef, refEncoding, refToString, z32String,
  type FeedKey, type IdentityKey, type MessageRef
} from '../src/ids.js'
import { thrownCode } from './helpers/codes.js'

const TS = 1_700_000_000_000

function key (n: number): Uint8Array { return b4a.alloc(32, n) }
function ident (n: number): IdentityKey { return key(n) as IdentityKey }
function feedKey (n: number): FeedKey { return key(n) as FeedKey }
function ref (n: number, seq: number): MessageRef { return { feed: feedKey(n), seq } }

/** The code of the error `fn` throws, `null` when it returns, or a marker for an uncoded error. */

const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769'

/** z-base32 decoding that ignores leftover bits, to build non-canonical spellings of the same bytes. */
function zdecode (str: string): Uint8Array {
  const out: number[] = []
  let acc = 0
  let bits = 0
  for (const ch of str) {
    acc = (acc << 5) | ALPHABET.indexOf(ch)
    bits += 5
    if (bits >= 8) { bits -= 8; out.push((acc >>> bits) & 0xff) }
  }
  return b4a.from(out)
}

// Hand-crafted blocks, bypassing encodeRecord and its checks.
const u = (n: number): Uint8Array => c.encode(c.uint, n)
const s = (str: string): Uint8Array => c.encode(c.string, str)
const r = (x: MessageRef): Uint8Array => c.encode(refEncoding, x)
const cat = (...parts: Uint8Array[]): Uint8Array => b4a.concat(parts)
const envelope = (type: number, version = 1, ts = TS): Uint8Array => cat(u(type), u(version), u(ts))

const header: HeaderRecord = { type: 'header', timestamp: TS, identity: ident(1), feed: feedKey(2), signature: b4a.alloc(64, 3), device: 'laptop' }

const samples: Array<[string, FeedRecord]> = [
  ['header', header],
  ['header – empty device name', { ...header, device: '' }],
  ['post – top level', { type: 'post', timestamp: TS, text: 'hello world', root: null, parent: null, cw: null, mentions: [] }],
  ['post – reply', { type: 'post', timestamp: TS, text: 'a reply', root: ref(4, 1), parent: ref(5, 300), cw: null, mentions: [] }],
  ['post – content warning', { type: 'post', timestamp: TS, text: 'spoilers', root: null, parent: null, cw: 'film ending', mentions: [] }],
  ['post – mentions', { type: 'post', timestamp: TS, text: 'hi @a @b', root: null, parent: null, cw: null, mentions: [ident(6), ident(7)] }],
  ['post – every field', { type: 'post', timestamp: 0, text: 'ünïcödé 🐟', root: ref(8, 2 ** 32), parent: ref(9, Number.MAX_SAFE_INTEGER), cw: '⚠', mentions: [ident(10)] }],
  ['reaction', { type: 'reaction', timestamp: TS, target: ref(11, 7), emoji: '🐟', remove: false }],
  ['reaction – remove', { type: 'reaction', timestamp: TS, target: ref(11, 7), emoji: '🐟', remove: true }],
  ['follow', { type: 'follow', timestamp: TS, target: ident(12) }],
  ['unfollow', { type: 'unfollow', timestamp: TS, target: ident(12) }],
  ['block', { type: 'block', timestamp: TS, target: ident(13) }],
  ['unblock', { type: 'unblock', timestamp: TS, target: ident(13) }],
  ['about – name', { type: 'about', timestamp: TS, name: 'Ada', bio: null }],
  ['about – bio', { type: 'about', timestamp: TS, name: null, bio: 'Counts fish.' }],
  ['about – name and bio', { type: 'about', timestamp: TS, name: 'Ada', bio: 'Counts fish.' }],
  ['about – clear name', { type: 'about', timestamp: TS, name: '', bio: null }],
  ['edit', { type: 'edit', timestamp: TS, target: ref(14, 3), text: 'hello, world' }],
  ['delete', { type: 'delete', timestamp: TS, target: ref(15, 4) }]
]

test('schema – every record type round-trips', (t) => {
  for (const [name, rec] of samples) {
    const block = encodeRecord(rec)
    t.alike(decodeRecord(block), rec, name)
  }
})

test('schema – envelope is type number, version, timestamp', (t) => {
  for (const [name, rec] of samples) {
    const block = encodeRecord(rec)
    const state = c.state(0, block.byteLength, block)
    const head = [c.uint.decode(state), c.uint.decode(state), c.uint.decode(state)]
    t.alike(head, [TYPE[rec.type as keyof typeof TYPE], 1, rec.timestamp], name)
  }
})

test('schema – decodes a block that is a view into a larger buffer', (t) => {
  const block = encodeRecord(samples[6][1])
  const big = b4a.alloc(block.byteLength + 10, 0xff)
  big.set(block, 5)
  t.alike(decodeRecord(big.subarray(5, 5 + block.byteLength)), samples[6][1])
})

test('schema – write caps', (t) => {
  const post: PostRecord = { type: 'post', timestamp: TS, text: 'x', root: null, parent: null, cw: null, mentions: [] }
  const tooBig = (rec: FeedRecord, msg: string): void => t.is(thrownCode(() => encodeRecord(rec)), 'MESSAGE_TOO_LARGE', msg)
  const fits = (rec: FeedRecord, msg: string): void => t.is(thrownCode(() => encodeRecord(rec)), null, msg)

  fits({ ...post, text: 'a'.repeat(CAPS.text) }, 'text at cap')
  tooBig({ ...post, text: 'a'.repeat(CAPS.text + 1) }, 'text over cap')
  tooBig({ ...post, text: 'é'.repeat(CAPS.text / 2 + 1) }, 'text cap counts UTF-8 bytes')
  fits({ ...post, cw: 'a'.repeat(CAPS.contentWarning) }, 'content warning at cap')
  tooBig({ ...post, cw: 'a'.repeat(CAPS.contentWarning + 1) }, 'content warning over cap')
  fits({ ...post, mentions: Array.from({ length: CAPS.mentions }, (_, i) => ident(i)) }, 'mentions at cap')
  tooBig({ ...post, mentions: Array.from({ length: CAPS.mentions + 1 }, (_, i) => ident(i)) }, 'mentions over cap')
  fits({ type: 'about', timestamp: TS, name: 'a'.repeat(CAPS.name), bio: 'b'.repeat(CAPS.bio) }, 'name and bio at cap')
  tooBig({ type: 'about', timestamp: TS, name: 'a'.repeat(CAPS.name + 1), bio: null }, 'name over cap')
  tooBig({ type: 'about', timestamp: TS, name: null, bio: 'b'.repeat(CAPS.bio + 1) }, 'bio over cap')
  fits({ ...header, device: 'd'.repeat(CAPS.device) }, 'device at cap')
  tooBig({ ...header, device: 'd'.repeat(CAPS.device + 1) }, 'device over cap')
  fits({ type: 'reaction', timestamp: TS, target: ref(1, 1), emoji: '🐟'.repeat(CAPS.emoji / 4), remove: false }, 'emoji at cap')
  tooBig({ type: 'reaction', timestamp: TS, target: ref(1, 1), emoji: '🐟'.repeat(CAPS.emoji / 4 + 1), remove: false }, 'emoji over cap')
  tooBig({ type: 'edit', timestamp: TS, target: ref(1, 1), text: 'a'.repeat(CAPS.text + 1) }, 'edit text over cap')

  // Every field at its cap still fits in one record, so the record cap cannot be reached on write
  // through valid fields; it is enforced on read (below) against hand-made blocks.
  const largest = encodeRecord({
    ...post,
    text: 'a'.repeat(CAPS.text),
    root: ref(1, Number.MAX_SAFE_INTEGER),
    parent: ref(2, Number.MAX_SAFE_INTEGER),
    cw: 'c'.repeat(CAPS.contentWarning),
    mentions: Array.from({ length: CAPS.mentions }, (_, i) => ident(i))
  })
  t.ok(largest.byteLength <= CAPS.record, `largest valid post is ${largest.byteLength} bytes, within the record cap`)
})

test('schema – write shape rules', (t) => {
  const post: PostRecord = { type: 'post', timestamp: TS, text: 'x', root: null, parent: null, cw: null, mentions: [] }
  const invalid = (rec: unknown, msg: string): void => t.is(thrownCode(() => encodeRecord(rec as FeedRecord)), 'INVALID_MESSAGE', msg)

  invalid({ ...post, text: '' }, 'empty text')
  invalid({ ...post, text: 'a\uD800b' }, 'text with a lone surrogate (would not read back the same)')
  invalid({ type: 'about', timestamp: TS, name: '\uDC00', bio: null }, 'name with a lone surrogate')
  invalid({ ...post, root: ref(1, 1) }, 'root without parent')
  invalid({ ...post, parent: ref(1, 1) }, 'parent without root')
  invalid({ ...post, root: ref(1, 0), parent: ref(1, 1) }, 'ref to seq 0 (the header)')
  invalid({ ...post, root: { feed: b4a.alloc(31), seq: 1 }, parent: ref(1, 1) }, 'ref with a short feed key')
  invalid({ ...post, cw: '' }, 'empty content warning')
  invalid({ ...post, mentions: [b4a.alloc(33)] }, 'mention of the wrong length')
  invalid({ ...post, timestamp: -1 }, 'negative timestamp')
  invalid({ ...post, timestamp: 1.5 }, 'fractional timestamp')
  invalid({ ...post, timestamp: 2 ** 53 }, 'unsafe timestamp')
  invalid({ type: 'reaction', timestamp: TS, target: ref(1, 1), emoji: '', remove: false }, 'empty emoji')
  invalid({ type: 'about', timestamp: TS, name: null, bio: null }, 'about with neither name nor bio')
  invalid({ type: 'follow', timestamp: TS, target: b4a.alloc(16) }, 'follow of a short key')
  invalid({ ...header, signature: b4a.alloc(63) }, 'short header signature')
  invalid({ type: 'unknown', timestamp: TS, typeId: 42, version: 1 }, 'unknown records are never written')
  invalid({ type: 'shout', timestamp: TS }, 'unnamed type')
})

test('schema – read caps on hand-made blocks', (t) => {
  const tooBig = (block: Uint8Array, msg: string): void => t.is(thrownCode(() => decodeRecord(block)), 'MESSAGE_TOO_LARGE', msg)
  const fits = (block: Uint8Array, msg: string): void => t.is(thrownCode(() => decodeRecord(block)), null, msg)
  const keys = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => key(i))

  fits(cat(envelope(TYPE.post), u(0), s('a'.repeat(CAPS.text))), 'text at cap')
  tooBig(cat(envelope(TYPE.post), u(0), s('a'.repeat(CAPS.text + 1))), 'text over cap')
  tooBig(cat(envelope(TYPE.edit), r(ref(1, 1)), s('a'.repeat(CAPS.text + 1))), 'edit text over cap')
  tooBig(cat(envelope(TYPE.post), u(4), s('hi'), s('w'.repeat(CAPS.contentWarning + 1))), 'content warning over cap')
  fits(cat(envelope(TYPE.post), u(8), s('hi'), u(CAPS.mentions), ...keys(CAPS.mentions)), 'mentions at cap')
  tooBig(cat(envelope(TYPE.post), u(8), s('hi'), u(CAPS.mentions + 1), ...keys(CAPS.mentions + 1)), 'mentions over cap')
  tooBig(cat(envelope(TYPE.post), u(8), s('hi'), u(2 ** 32)), 'mention count far over cap, no keys follow')
  tooBig(cat(envelope(TYPE.about), u(1), s('n'.repeat(CAPS.name + 1))), 'name over cap')
  tooBig(cat(envelope(TYPE.about), u(2), s('b'.repeat(CAPS.bio + 1))), 'bio over cap')
  tooBig(cat(envelope(TYPE.header), key(1), key(2), b4a.alloc(64), s('d'.repeat(CAPS.device + 1))), 'device over cap')
  tooBig(cat(envelope(TYPE.reaction), u(0), r(ref(1, 1)), s('e'.repeat(CAPS.emoji + 1))), 'emoji over cap')

  const atRecordCap = b4a.alloc(CAPS.record)
  atRecordCap.set(envelope(99))
  fits(atRecordCap, 'unknown record at the record cap')
  tooBig(b4a.alloc(CAPS.record + 1), 'record over cap, even with an unknown type')
  tooBig(cat(envelope(TYPE.post), u(0), s('a'.repeat(CAPS.record))), 'post over record cap')
})

test('schema – malformed blocks are INVALID_MESSAGE', (t) => {
  const invalid = (block: Uint8Array, msg: string): void => t.is(thrownCode(() => decodeRecord(block)), 'INVALID_MESSAGE', msg)

  invalid(b4a.alloc(0), 'empty block')
  invalid(cat(u(TYPE.post), u(0), u(TS)), 'version 0')
  invalid(cat(envelope(TYPE.post), u(16), s('hi')), 'unknown post flag')
  invalid(cat(envelope(TYPE.reaction), u(2), r(ref(1, 1)), s('x')), 'unknown reaction flag')
  invalid(cat(envelope(TYPE.about), u(4)), 'unknown about flag')
  invalid(envelope(10, 1, 5), 'a box (type 10) with no slots or body')
  invalid(cat(envelope(12, 1, 5), b4a.alloc(10)), 'a truncated keys record (type 12)')
  invalid(cat(envelope(TYPE.post), u(1), s('hi'), r(ref(1, 1))), 'root flag without parent flag')
  invalid(cat(envelope(TYPE.post), u(8), s('hi'), u(0)), 'mentions flag with zero mentions')
  invalid(cat(envelope(TYPE.delete), r(ref(1, 0))), 'ref to seq 0')
  invalid(cat(u(TYPE.post), u(1), b4a.from([0xff]), b4a.alloc(8, 0xff)), 'timestamp beyond 2^53')
  invalid(cat(u(99), u(1), b4a.from([0xff]), b4a.alloc(8, 0xff)), 'unknown type with a timestamp beyond 2^53')

  for (const [name, rec] of samples) {
    const block = encodeRecord(rec)
    invalid(cat(block, b4a.from([0])), name + ' – one trailing byte')
    let prefixes = 0
    for (let i = 0; i < block.byteLength; i++) if (thrownCode(() => decodeRecord(block.subarray(0, i))) === 'INVALID_MESSAGE') prefixes++
    t.is(prefixes, block.byteLength, name + ' – every truncation rejected')
  }
})

test('schema – unknown types and newer versions are kept as unknown', (t) => {
  t.alike(decodeRecord(cat(envelope(42, 1, TS), b4a.from('anything at all'))), { type: 'unknown', timestamp: TS, typeId: 42, version: 1 }, 'unknown type')
  t.alike(decodeRecord(envelope(10, 2, 5)), { type: 'unknown', timestamp: 5, typeId: 10, version: 2 }, 'a newer box version')
  t.alike(decodeRecord(envelope(12, 2, 5)), { type: 'unknown', timestamp: 5, typeId: 12, version: 2 }, 'a newer keys version')
  t.alike(decodeRecord(envelope(2 ** 40, 7, 0)), { type: 'unknown', timestamp: 0, typeId: 2 ** 40, version: 7 }, 'large type number')
  t.alike(decodeRecord(cat(envelope(TYPE.post, 2), b4a.from([0xff, 0xff]))), { type: 'unknown', timestamp: TS, typeId: TYPE.post, version: 2 }, 'newer post version')
  t.alike(decodeRecord(envelope(TYPE.header, 2)), { type: 'unknown', timestamp: TS, typeId: TYPE.header, version: 2 }, 'newer header version')
})

test('header – a valid header verifies', (t) => {
  const id = keyPairFromSeed(b4a.alloc(32, 1))
  const feed = feedKey(9)
  const block = encodeRecord(createHeader(id, feed, 'phone', TS))
  const h = readHeader(block, feed)
  t.alike(h.identity, id.publicKey, 'names the identity')
  t.is(h.device, 'phone')
  t.ok(sodium.crypto_sign_verify_detached(h.signature, namespaceHash(DEVICE_ATTESTATION, id.publicKey, feed), id.publicKey),
    'signature is over namespaceHash(device-attestation/v1, identity, feed)')
})

test('header – rejects what does not check out', (t) => {
  const id = keyPairFromSeed(b4a.alloc(32, 1))
  const other = keyPairFromSeed(b4a.alloc(32, 2))
  const feed = feedKey(9)
  const good = createHeader(id, feed, 'phone', TS)
  const bad = (block: Uint8Array, msg: string, f: Uint8Array = feed): void => t.is(thrownCode(() => readHeader(block, f)), 'INVALID_FEED_HEADER', msg)

  bad(encodeRecord(good), 'wrong feed key', feedKey(10))
  const sig = b4a.from(good.signature)
  sig[0] ^= 1
  bad(encodeRecord({ ...good, signature: sig }), 'flipped signature bit')
  bad(encodeRecord({ ...good, signature: createHeader(other, feed, 'phone', TS).signature }), 'signed by another identity')
  bad(encodeRecord({ ...good, identity: other.publicKey }), 'claims another identity')
  bad(encodeRecord(createHeader(id, feedKey(10), 'phone', TS)), 'header made for another feed')
  bad(encodeRecord({ type: 'post', timestamp: TS, text: 'hi', root: null, parent: null, cw: null, mentions: [] }), 'a post at block 0')
  bad(envelope(TYPE.header, 2), 'a newer header version')
  bad(b4a.from('not a record'), 'garbage')
  bad(b4a.alloc(0), 'empty block')
})

test('ids – refs round-trip', (t) => {
  for (const seq of [1, 0xfc, 0xfd, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const x = ref(seq % 251, seq)
    const str = refToString(x)
    t.alike(parseRef(str), x, `seq ${seq}`)
  }
  t.exception(() => parseRef(refToString(ref(1, 0))), /INVALID_ID/, 'seq 0 is the feed header, not a message')
  const id = keyPairFromSeed(b4a.alloc(32, 3)).publicKey
  t.alike(parseIdentity(identityToString(id)), id, 'identity')
  t.is(identityToString(id).length, 52, 'identity is 52 z-base32 characters')
  t.alike(parseFeed(identityToString(key(4))), key(4), 'feed key')
})

test('ids – every id is spelled exactly as z32.encode spells it (lengths, bit patterns, seq sizes)', (t) => {
  let wrong = 0
  for (let n = 0; n <= 70; n++) {
    for (const fill of [0x00, 0xff, 0xa5, -1]) {
      const buf = b4a.alloc(n, fill < 0 ? 0 : fill)
      if (fill < 0) sodium.randombytes_buf(buf)
      if (identityToString(buf) !== z32.encode(buf) || feedToString(buf) !== z32.encode(buf) || z32String(buf) !== z32.encode(buf)) wrong++
    }
  }
  t.is(wrong, 0, 'identity and feed ids and cursors of 0 to 70 bytes')
  const row = b4a.alloc(100)
  sodium.randombytes_buf(row)
  t.is(z32String(row.subarray(52)), z32.encode(b4a.from(row.subarray(52))), 'a cursor taken as a view of a row key')
  const feed = b4a.alloc(32) as FeedKey
  for (const seq of [1, 0xfc, 0xfd, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    sodium.randombytes_buf(feed)
    const r = { feed, seq }
    t.is(refToString(r), z32.encode(c.encode(refEncoding, r)), `ref with seq ${seq}`)
  }
  const long = b4a.alloc(200, 0x5a)
  t.is(identityToString(long), z32.encode(long), 'longer than the scratch buffer')
})

test('ids – malformed and non-canonical strings are INVALID_ID', (t) => {
  const bad = (fn: () => unknown, msg: string): void => t.is(thrownCode(fn), 'INVALID_ID', msg)
  const z = (buf: Uint8Array): string => identityToString(buf)
  const good = refToString(ref(1, 5))

  bad(() => parseRef(''), 'empty')
  bad(() => parseRef(good.toUpperCase()), 'upper case')
  bad(() => parseRef(' ' + good), 'leading space')
  bad(() => parseRef(good + '\n'), 'trailing newline')
  bad(() => parseRef(good.replace(/.$/, 'l')), 'letter outside the alphabet')
  bad(() => parseRef(z(key(1))), 'feed key only, no seq')
  bad(() => parseRef(z(cat(r(ref(1, 5)), b4a.from([0])))), 'trailing byte')
  bad(() => parseRef(z(cat(key(1), b4a.from([0xfd, 5, 0])))), 'non-minimal seq varint')
  bad(() => parseRef(z(cat(key(1), b4a.from([0xff]), b4a.alloc(8, 0xff)))), 'seq beyond 2^53')
  bad(() => parseRef(z(cat(key(1), b4a.from([0xfe, 0, 0])))), 'truncated seq varint')
  bad(() => parseRef(z(b4a.alloc(64))), 'too long')
  bad(() => parseRef('y'), 'one character')

  bad(() => parseIdentity(z(b4a.alloc(31, 1))), '31-byte identity')
  bad(() => parseIdentity(z(b4a.alloc(33, 1))), '33-byte identity')
  bad(() => parseIdentity(z(b4a.alloc(64, 1))), '64-byte identity')
  bad(() => parseIdentity(''), 'empty identity')
  bad(() => parseIdentity(good), 'a ref is not an identity')
  bad(() => parseFeed(z(b4a.alloc(31, 1))), '31-byte feed key')

  // Byte lengths that are not a multiple of 5 leave unused bits in the last character; they must be 0.
  for (const [name, str, parse] of [['identity', z(key(7)), parseIdentity], ['ref', good, parseRef]] as const) {
    let variants = 0
    let accepted = 0
    for (const ch of ALPHABET) {
      const alt = str.slice(0, -1) + ch
      if (alt === str || !b4a.equals(zdecode(alt), zdecode(str))) continue
      variants++
      if (thrownCode(() => parse(alt)) === null) accepted++
    }
    t.ok(variants > 0, `${name}: ${variants} non-canonical spellings of the same bytes`)
    t.is(accepted, 0, `${name}: no non-canonical spelling accepted`)
  }
})

test('identity – recovery phrase', (t) => {
  const seed = b4a.alloc(32)
  for (let i = 0; i < 32; i++) seed[i] = i * 7 + 1
  const phrase = seedToPhrase(seed)
  const words = phrase.split(' ')
  t.is(words.length, 24, '24 words')
  t.alike(phraseToSeed(phrase), seed, 'round-trips')
  t.alike(phraseToSeed('  ' + words.join('   ').toUpperCase() + '\n'), seed, 'case and spacing do not matter')

  const wrongWord = [...words.slice(0, 23), 'shoalfish'].join(' ')
  t.is(thrownCode(() => phraseToSeed(wrongWord)), 'INVALID_PHRASE', 'a word outside the list')
  const swapped = [words[1], words[0], ...words.slice(2)].join(' ')
  t.ok(words[0] !== words[1] && !validateMnemonic(swapped, wordlist), 'fixture: swapping two words breaks the checksum')
  t.is(thrownCode(() => phraseToSeed(swapped)), 'INVALID_PHRASE', 'wrong checksum')
  t.is(thrownCode(() => phraseToSeed(words.slice(0, 23).join(' '))), 'INVALID_PHRASE', '23 words')
  t.is(thrownCode(() => phraseToSeed(phrase + ' ' + words[0])), 'INVALID_PHRASE', '25 words')
  t.is(thrownCode(() => phraseToSeed('')), 'INVALID_PHRASE', 'empty phrase')
})
