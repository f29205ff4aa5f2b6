/**
 * The feed record format, declared once. Every block is an envelope
 * `{ type: uint, version: uint, timestamp: uint, body }` whose body is decoded by the codec of
 * its type and version. Records evolve append-only: a new field means a new version; older
 * readers keep such records and skip them. Caps are checked when writing and again when reading.
 * See docs/PROTOCOL.md.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShoalError } from '../errors.js'
import { RECORD_VERSION, HEADER_VERSION } from '../caps.js'
import { refEncoding, type FeedKey, type IdentityKey, type MessageRef } from '../ids.js'
import { BOX_TYPE, BOX_VERSION, KEYS_TYPE, KEYS_VERSION } from '../dm/caps.js'
import { parseBox } from '../dm/envelope.js'
import { decodeKeysBlock, encodeKeysBlock, type KeysRecord } from '../dm/keys-record.js'

/** Size caps, in bytes of UTF-8 unless noted. */
export const CAPS = {
  record: 16 * 1024,
  text: 8 * 1024,
  contentWarning: 256,
  name: 64,
  bio: 1024,
  device: 64,
  emoji: 32,
  mentions: 32
} as const

/** Wire type numbers. Never reuse a number; 11 (device) is reserved for a later issue. 10 and 12 are DM records (src/dm). */
export const TYPE = {
  header: 0,
  post: 1,
  reaction: 2,
  follow: 3,
  unfollow: 4,
  block: 5,
  unblock: 6,
  about: 7,
  edit: 8,
  delete: 9,
  box: BOX_TYPE,
  keys: KEYS_TYPE
} as const

export type ContactType = 'follow' | 'unfollow' | 'block' | 'unblock'

export interface HeaderRecord { type: 'header', timestamp: number, identity: IdentityKey, feed: FeedKey, signature: Uint8Array, device: string }
export interface PostRecord { type: 'post', timestamp: number, text: string, root: MessageRef | null, parent: MessageRef | null, cw: string | null, mentions: IdentityKey[] }
export interface ReactionRecord { type: 'reaction', timestamp: number, target: MessageRef, emoji: string, remove: boolean }
export interface ContactRecord { type: ContactType, timestamp: number, target: IdentityKey }
export interface AboutRecord { type: 'about', timestamp: number, name: string | null, bio: string | null }
export interface EditRecord { type: 'edit', timestamp: number, target: MessageRef, text: string }
export interface DeleteRecord { type: 'delete', timestamp: number, target: MessageRef }
/** A well-formed envelope of a type or version this build does not know: kept, skipped by views. */
export interface UnknownRecord { type: 'unknown', timestamp: number, typeId: number, version: number }

/** An encrypted DM (type 10), encoded whole by src/dm (`sealBox`/`parseBox`); `timestamp` is the clear hour. */
export interface BoxRecord { type: 'box', timestamp: number, block: Uint8Array }
/** A device's DM keys (type 12), encoded whole by src/dm (`encodeKeysBlock`); `timestamp` is `keys.createdAt`. */
export interface KeysFeedRecord { type: 'keys', timestamp: number, keys: KeysRecord }

export type MessageRecord = PostRecord | ReactionRecord | ContactRecord | AboutRecord | EditRecord | DeleteRecord
/** The records the DM service reads; views skip them. */
export type DmRecord = BoxRecord | KeysFeedRecord
export type FeedRecord = HeaderRecord | MessageRecord | DmRecord | UnknownRecord

const POST_ROOT = 1
const POST_PARENT = 2
const POST_CW = 4
const POST_MENTIONS = 8
const ABOUT_NAME = 1
const ABOUT_BIO = 2
const REACTION_REMOVE = 1

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether `s` holds a lone UTF-16 surrogate, which UTF-8 cannot encode: it would be written as U+FFFD and read back different. */
export function hasLoneSurrogate (s: string): boolean {
  return LONE_SURROGATE.test(s)
}

function checkString (s: string, cap: number, field: string, allowEmpty = false): void {
  if (typeof s !== 'string') throw ShoalError.INVALID_MESSAGE(`${field} must be a string`)
  if (hasLoneSurrogate(s)) throw ShoalError.INVALID_MESSAGE(`${field} is not valid Unicode (a lone surrogate)`)
  if (!allowEmpty && s.length === 0) throw ShoalError.INVALID_MESSAGE(`${field} must not be empty`)
  const n = b4a.byteLength(s)
  if (n > cap) throw ShoalError.MESSAGE_TOO_LARGE(`${field} is ${n} bytes, the cap is ${cap}`)
}

function checkKey (k: Uint8Array, field: string): void {
  if (!(k instanceof Uint8Array) || k.byteLength !== 32) throw ShoalError.INVALID_MESSAGE(`${field} must be a 32-byte key`)
}

function checkRef (r: MessageRef, field: string): void {
  if (r === null || typeof r !== 'object') throw ShoalError.INVALID_MESSAGE(`${field} must be a message ref`)
  checkKey(r.feed, field + '.feed')
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) throw ShoalError.INVALID_MESSAGE(`${field}.seq must be a positive integer`)
}

function checkTimestamp (ts: number): void {
  if (!Number.isSafeInteger(ts) || ts < 0) throw ShoalError.INVALID_MESSAGE('timestamp must be a non-negative integer of milliseconds')
}

/** Checks every cap and shape rule of a record; used before writing and after reading. */
export function validateRecord (rec: FeedRecord): void {
  checkTimestamp(rec.timestamp)
  switch (rec.type) {
    case 'header':
      checkKey(rec.identity, 'identity'); checkKey(rec.feed, 'feed')
      if (!(rec.signature instanceof Uint8Array) || rec.signature.byteLength !== 64) throw ShoalError.INVALID_MESSAGE('signature must be 64 bytes')
      checkString(rec.device, CAPS.device, 'device', true)
      return
    case 'post':
      checkString(rec.text, CAPS.text, 'text')
      if (rec.root !== null) checkRef(rec.root, 'root')
      if (rec.parent !== null) checkRef(rec.parent, 'parent')
      if ((rec.root === null) !== (rec.parent === null)) throw ShoalError.INVALID_MESSAGE('a reply names both root and parent')
      if (rec.cw !== null) checkString(rec.cw, CAPS.contentWarning, 'content warning')
      if (!Array.isArray(rec.mentions)) throw ShoalError.INVALID_MESSAGE('mentions must be a list')
      if (rec.mentions.length > CAPS.mentions) throw ShoalError.MESSAGE_TOO_LARGE(`${rec.mentions.length} mentions, the cap is ${CAPS.mentions}`)
      for (const m of rec.mentions) checkKey(m, 'mention')
      return
    case 'reaction':
      checkRef(rec.target, 'target'); checkString(rec.emoji, CAPS.emoji, 'emoji')
      return
    case 'follow': case 'unfollow': case 'block': case 'unblock':
      checkKey(rec.target, 'target')
      return
    case 'about':
      if (rec.name === null && rec.bio === null) throw ShoalError.INVALID_MESSAGE('about sets a name, a bio or both')
      if (rec.name !== null) checkString(rec.name, CAPS.name, 'name', true)
      if (rec.bio !== null) checkString(rec.bio, CAPS.bio, 'bio', true)
      return
    case 'edit':
      checkRef(rec.target, 'target'); checkString(rec.text, CAPS.text, 'text')
      return
    case 'delete':
      checkRef(rec.target, 'target')
      return
    case 'box':
      parseBox(rec.block) // every clear-text cap of the box
      return
    case 'keys':
      encodeKeysBlock(rec.keys) // shape of the keys (the signature is checked against the feed by the reader)
      return
    case 'unknown':
      throw ShoalError.INVALID_MESSAGE(`cannot write a record of unknown type ${rec.typeId}`)
    default:
      throw ShoalError.INVALID_MESSAGE(`unknown record type ${String((rec as { type: unknown }).type)}`)
  }
}

type State = c.State

function encodeBody (state: State, rec: FeedRecord, pre: boolean): void {
  const uint = pre ? c.uint.preencode : c.uint.encode
  const str = pre ? c.string.preencode : c.string.encode
  const key = pre ? c.fixed32.preencode : c.fixed32.encode
  const ref = pre ? refEncoding.preencode : refEncoding.encode
  switch (rec.type) {
    case 'header':
      key(state, rec.identity); key(state, rec.feed)
      if (pre) c.fixed64.preencode(state, rec.signature); else c.fixed64.encode(state, rec.signature)
      str(state, rec.device)
      return
    case 'post': {
      const flags = (rec.root ? POST_ROOT : 0) | (rec.parent ? POST_PARENT : 0) | (rec.cw !== null ? POST_CW : 0) | (rec.mentions.length ? POST_MENTIONS : 0)
      uint(state, flags)
      str(state, rec.text)
      if (rec.root) ref(state, rec.root)
      if (rec.parent) ref(state, rec.parent)
      if (rec.cw !== null) str(state, rec.cw)
      if (rec.mentions.length) {
        uint(state, rec.mentions.length)
        for (const m of rec.mentions) key(state, m)
      }
      return
    }
    case 'reaction':
      uint(state, rec.remove ? REACTION_REMOVE : 0); ref(state, rec.target); str(state, rec.emoji)
      return
    case 'follow': case 'unfollow': case 'block': case 'unblock':
      key(state, rec.target)
      return
    case 'about':
      uint(state, (rec.name !== null ? ABOUT_NAME : 0) | (rec.bio !== null ? ABOUT_BIO : 0))
      if (rec.name !== null) str(state, rec.name)
      if (rec.bio !== null) str(state, rec.bio)
      return
    case 'edit':
      ref(state, rec.target); str(state, rec.text)
      return
    case 'delete':
      ref(state, rec.target)
      return
    default:
      throw ShoalError.INVALID_MESSAGE(`cannot encode record type ${rec.type}`)
  }
}

function typeId (rec: FeedRecord): number {
  if (rec.type === 'unknown') return rec.typeId
  return TYPE[rec.type]
}

/** Validates and encodes a record to one feed block. */
export function encodeRecord (rec: FeedRecord): Uint8Array {
  validateRecord(rec)
  if (rec.type === 'box') return rec.block
  if (rec.type === 'keys') return encodeKeysBlock(rec.keys)
  const version = rec.type === 'header' ? HEADER_VERSION : RECORD_VERSION
  const state = c.state()
  c.uint.preencode(state, typeId(rec)); c.uint.preencode(state, version); c.uint.preencode(state, rec.timestamp)
  encodeBody(state, rec, true)
  if (state.end > CAPS.record) throw ShoalError.MESSAGE_TOO_LARGE(`record is ${state.end} bytes, the cap is ${CAPS.record}`)
  state.buffer = b4a.allocUnsafe(state.end)
  c.uint.encode(state, typeId(rec)); c.uint.encode(state, version); c.uint.encode(state, rec.timestamp)
  encodeBody(state, rec, false)
  return state.buffer
}

const NAMES: Record<number, ContactType> = { 3: 'follow', 4: 'unfollow', 5: 'block', 6: 'unblock' }

function readOptionalRef (state: State, present: boolean): MessageRef | null {
  return present ? refEncoding.decode(state) : null
}

function decodeBody (state: State, id: number, timestamp: number): FeedRecord {
  switch (id) {
    case TYPE.header: {
      const identity = c.fixed32.decode(state) as IdentityKey
      const feed = c.fixed32.decode(state) as FeedKey
      const signature = c.fixed64.decode(state)
      const device = c.string.decode(state)
      return { type: 'header', timestamp, identity, feed, signature, device }
    }
    case TYPE.post: {
      const flags = c.uint.decode(state)
      if (flags & ~(POST_ROOT | POST_PARENT | POST_CW | POST_MENTIONS)) throw ShoalError.INVALID_MESSAGE('unknown post flags')
      const text = c.string.decode(state)
      const root = readOptionalRef(state, (flags & POST_ROOT) !== 0)
      const parent = readOptionalRef(state, (flags & POST_PARENT) !== 0)
      const cw = (flags & POST_CW) ? c.string.decode(state) : null
      const mentions: IdentityKey[] = []
      if (flags & POST_MENTIONS) {
        const n = c.uint.decode(state)
        if (n === 0) throw ShoalError.INVALID_MESSAGE('mentions flag set with no mentions')
        if (n > CAPS.mentions) throw ShoalError.MESSAGE_TOO_LARGE(`${n} mentions, the cap is ${CAPS.mentions}`)
        for (let i = 0; i < n; i++) mentions.push(c.fixed32.decode(state) as IdentityKey)
      }
      return { type: 'post', timestamp, text, root, parent, cw, mentions }
    }
    case TYPE.reaction: {
      const flags = c.uint.decode(state)
      if (flags & ~REACTION_REMOVE) throw ShoalError.INVALID_MESSAGE('unknown reaction flags')
      const target = refEncoding.decode(state)
      const emoji = c.string.decode(state)
      return { type: 'reaction', timestamp, target, emoji, remove: (flags & REACTION_REMOVE) !== 0 }
    }
    case TYPE.follow: case TYPE.unfollow: case TYPE.block: case TYPE.unblock:
      return { type: NAMES[id], timestamp, target: c.fixed32.decode(state) as IdentityKey }
    case TYPE.about: {
      const flags = c.uint.decode(state)
      if (flags & ~(ABOUT_NAME | ABOUT_BIO)) throw ShoalError.INVALID_MESSAGE('unknown about flags')
      const name = (flags & ABOUT_NAME) ? c.string.decode(state) : null
      const bio = (flags & ABOUT_BIO) ? c.string.decode(state) : null
      return { type: 'about', timestamp, name, bio }
    }
    case TYPE.edit: {
      const target = refEncoding.decode(state)
      return { type: 'edit', timestamp, target, text: c.string.decode(state) }
    }
    case TYPE.delete:
      return { type: 'delete', timestamp, target: refEncoding.decode(state) }
    default:
      throw ShoalError.INVALID_MESSAGE(`no codec for type ${id}`)
  }
}

function decodeKeysRecord (block: Uint8Array): KeysFeedRecord {
  try {
    const keys = decodeKeysBlock(block)
    return { type: 'keys', timestamp: keys.createdAt, keys }
  } catch (err) {
    throw ShoalError.INVALID_MESSAGE('malformed keys record', err)
  }
}

function knownVersion (id: number): number {
  if (id === TYPE.header) return HEADER_VERSION
  if (id >= TYPE.post && id <= TYPE.delete) return RECORD_VERSION
  return 0
}

/**
 * Decodes one block read from any feed, ours or someone else's, and validates it against the caps.
 * Returns an `unknown` record for a well-formed envelope of an unknown type or a newer version.
 * Throws ShoalError (INVALID_MESSAGE or MESSAGE_TOO_LARGE) for anything malformed.
 */
export function decodeRecord (block: Uint8Array): FeedRecord {
  if (!(block instanceof Uint8Array)) throw ShoalError.INVALID_MESSAGE('block is not bytes')
  if (block.byteLength > CAPS.record) throw ShoalError.MESSAGE_TOO_LARGE(`record is ${block.byteLength} bytes, the cap is ${CAPS.record}`)
  const state = c.state(0, block.byteLength, block)
  let rec: FeedRecord
  try {
    const id = c.uint.decode(state)
    const version = c.uint.decode(state)
    const timestamp = c.uint.decode(state)
    const known = knownVersion(id)
    if (version === 0) throw ShoalError.INVALID_MESSAGE('record version 0 is invalid')
    if (id === BOX_TYPE && version === BOX_VERSION) return { type: 'box', timestamp: parseBox(block).coarseTime, block }
    if (id === KEYS_TYPE && version === KEYS_VERSION) return decodeKeysRecord(block)
    if (known === 0 || version > known) {
      checkTimestamp(timestamp)
      return { type: 'unknown', timestamp, typeId: id, version }
    }
    rec = decodeBody(state, id, timestamp)
  } catch (err) {
    if (err instanceof ShoalError) throw err
    throw ShoalError.INVALID_MESSAGE('truncated or malformed record', err)
  }
  if (state.start !== state.end) throw ShoalError.INVALID_MESSAGE(`${state.end - state.start} trailing bytes after record`)
  validateRecord(rec)
  return rec
}
