/**
 * Value encodings of the views database, declared once (compact-encoding). Views are derived,
 * so a change here ships with a VIEWS_VERSION bump in src/caps.ts, which rebuilds them.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { refEncoding, type IdentityKey, type MessageRef } from '../ids.js'

/**
 * Orders competing writes (last writer wins): effective timestamp, then feed, then seq. The
 * effective timestamp never goes backwards within a feed (see Checkpoint.clock), so within one
 * feed the later record always wins; timestamps only order records of different feeds.
 */
export interface Stamp { ts: number, ref: MessageRef }

export function compareStamps (a: Stamp, b: Stamp): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  const f = b4a.compare(a.ref.feed, b.ref.feed)
  if (f !== 0) return f
  return a.ref.seq === b.ref.seq ? 0 : (a.ref.seq < b.ref.seq ? -1 : 1)
}

const stamp: c.Encoder<Stamp> = {
  preencode (s, v) { c.uint.preencode(s, v.ts); refEncoding.preencode(s, v.ref) },
  encode (s, v) { c.uint.encode(s, v.ts); refEncoding.encode(s, v.ref) },
  decode (s) { return { ts: c.uint.decode(s), ref: refEncoding.decode(s) } }
}

function opt<T> (enc: c.Encoder<T>): c.Encoder<T | null> {
  return {
    preencode (s, v) { c.bool.preencode(s, v !== null); if (v !== null) enc.preencode(s, v) },
    encode (s, v) { c.bool.encode(s, v !== null); if (v !== null) enc.encode(s, v) },
    decode (s) { return c.bool.decode(s) ? enc.decode(s) : null }
  }
}

// Made once: an encoder made per call was garbage per row (a good part of what decoding a page of
// posts allocated, and about 2 KB per post indexed).
const optString = opt(c.string)
const optFixed32 = opt(c.fixed32)
const optStamp = opt(stamp)
const fixed32Array = c.array(c.fixed32)

/** A post as the views keep it (the author is the identity, not the feed). */
export interface StoredPost {
  author: IdentityKey
  timestamp: number
  text: string
  root: MessageRef | null
  parent: MessageRef | null
  cw: string | null
  mentions: IdentityKey[]
}

/** storedPost's flags: which optional fields follow, and a parent that is the root (written once). */
const POST_ROOT = 1
const POST_PARENT = 2
const POST_PARENT_IS_ROOT = 4
const POST_CW = 8

function postFlags (v: StoredPost): number {
  let f = 0
  if (v.root !== null) f |= POST_ROOT
  if (v.parent !== null) f |= v.root !== null && sameRef(v.parent, v.root) ? POST_PARENT_IS_ROOT : POST_PARENT
  if (v.cw !== null) f |= POST_CW
  return f
}

function sameRef (a: MessageRef, b: MessageRef): boolean {
  return a.seq === b.seq && b4a.equals(a.feed, b.feed)
}

/**
 * author, timestamp, text, flags, then the root, the parent (unless it is the root: a reply to
 * the thread's first post, the most common one, holds its ref once) and the content warning when
 * present, then the mentions. Covering rows copy this value, so every byte here is paid three times.
 */
export const storedPost: c.Encoder<StoredPost> = {
  preencode (s, v) {
    const f = postFlags(v)
    c.fixed32.preencode(s, v.author); c.uint.preencode(s, v.timestamp); c.string.preencode(s, v.text); c.uint.preencode(s, f)
    if ((f & POST_ROOT) !== 0) refEncoding.preencode(s, v.root as MessageRef)
    if ((f & POST_PARENT) !== 0) refEncoding.preencode(s, v.parent as MessageRef)
    if ((f & POST_CW) !== 0) c.string.preencode(s, v.cw as string)
    fixed32Array.preencode(s, v.mentions)
  },
  encode (s, v) {
    const f = postFlags(v)
    c.fixed32.encode(s, v.author); c.uint.encode(s, v.timestamp); c.string.encode(s, v.text); c.uint.encode(s, f)
    if ((f & POST_ROOT) !== 0) refEncoding.encode(s, v.root as MessageRef)
    if ((f & POST_PARENT) !== 0) refEncoding.encode(s, v.parent as MessageRef)
    if ((f & POST_CW) !== 0) c.string.encode(s, v.cw as string)
    fixed32Array.encode(s, v.mentions)
  },
  decode (s) {
    const author = c.fixed32.decode(s) as IdentityKey
    const timestamp = c.uint.decode(s)
    const text = c.string.decode(s)
    const f = c.uint.decode(s)
    const root = (f & POST_ROOT) !== 0 ? refEncoding.decode(s) : null
    const parent = (f & POST_PARENT) !== 0 ? refEncoding.decode(s) : (f & POST_PARENT_IS_ROOT) !== 0 ? { feed: (root as MessageRef).feed, seq: (root as MessageRef).seq } : null
    const cw = (f & POST_CW) !== 0 ? c.string.decode(s) : null
    return { author, timestamp, text, root, parent, cw, mentions: fixed32Array.decode(s) as IdentityKey[] }
  }
}

/**
 * How far a feed is indexed. `clock` is the largest effective timestamp so far: a record's
 * effective timestamp is its own (clamped to when we received it) raised to at least `clock`.
 */
export interface Checkpoint { position: number, messages: number, malformed: number, unknown: number, clock: number }

export const checkpoint: c.Encoder<Checkpoint> = {
  preencode (s, v) { c.uint.preencode(s, v.position); c.uint.preencode(s, v.messages); c.uint.preencode(s, v.malformed); c.uint.preencode(s, v.unknown); c.uint.preencode(s, v.clock) },
  encode (s, v) { c.uint.encode(s, v.position); c.uint.encode(s, v.messages); c.uint.encode(s, v.malformed); c.uint.encode(s, v.unknown); c.uint.encode(s, v.clock) },
  decode (s) { return { position: c.uint.decode(s), messages: c.uint.decode(s), malformed: c.uint.decode(s), unknown: c.uint.decode(s), clock: c.uint.decode(s) } }
}

/** What a feed's header said: the identity it speaks for, or that the header was invalid. */
export interface FeedIdentity { valid: boolean, identity: IdentityKey | null, device: string }

export const feedIdentity: c.Encoder<FeedIdentity> = {
  preencode (s, v) { c.bool.preencode(s, v.valid); optFixed32.preencode(s, v.identity); c.string.preencode(s, v.device) },
  encode (s, v) { c.bool.encode(s, v.valid); optFixed32.encode(s, v.identity); c.string.encode(s, v.device) },
  decode (s) { return { valid: c.bool.decode(s), identity: optFixed32.decode(s) as IdentityKey | null, device: c.string.decode(s) } }
}

export interface Reactor { on: boolean, stamp: Stamp }

export const reactor: c.Encoder<Reactor> = {
  preencode (s, v) { c.bool.preencode(s, v.on); stamp.preencode(s, v.stamp) },
  encode (s, v) { c.bool.encode(s, v.on); stamp.encode(s, v.stamp) },
  decode (s) { return { on: c.bool.decode(s), stamp: stamp.decode(s) } }
}

/** A reaction count row: how many identities have this emoji on for this post. */
export const count: c.Encoder<number> = c.uint

/**
 * A post's reactions in one row, for pages to read in one batch: every kind's count while there
 * are at most SUMMARY_KINDS kinds; null once there were more, for good (readers then walk the
 * ranked rows, which give the same answer). `edits` says someone wrote an edit row for the post
 * (only its author's counts, and it may be gone since): pages read edit rows only for such posts.
 * A row with no counts and no edit mark is no row.
 */
export interface ReactionSummary { entries: Array<[string, number]> | null, edits: boolean }

export const SUMMARY_KINDS = 32

const summaryEntry: c.Encoder<[string, number]> = {
  preencode (s, v) { c.string.preencode(s, v[0]); c.uint.preencode(s, v[1]) },
  encode (s, v) { c.string.encode(s, v[0]); c.uint.encode(s, v[1]) },
  decode (s) { return [c.string.decode(s), c.uint.decode(s)] }
}

const optSummary = opt(c.array(summaryEntry))

export const reactionSummary: c.Encoder<ReactionSummary> = {
  preencode (s, v) { optSummary.preencode(s, v.entries); c.bool.preencode(s, v.edits) },
  encode (s, v) { optSummary.encode(s, v.entries); c.bool.encode(s, v.edits) },
  decode (s) { return { entries: optSummary.decode(s), edits: s.start < s.end ? c.bool.decode(s) : false } }
}

/** Whether a stored summary row has overflowed (entries null), read without decoding it: its first byte is opt's flag. */
export function summaryOverflowed (raw: Uint8Array): boolean {
  return raw.byteLength > 0 && raw[0] === 0
}

export interface StoredEdit { text: string, stamp: Stamp }

export const storedEdit: c.Encoder<StoredEdit> = {
  preencode (s, v) { c.string.preencode(s, v.text); stamp.preencode(s, v.stamp) },
  encode (s, v) { c.string.encode(s, v.text); stamp.encode(s, v.stamp) },
  decode (s) { return { text: c.string.decode(s), stamp: stamp.decode(s) } }
}

export interface StoredAbout { name: string | null, nameStamp: Stamp | null, bio: string | null, bioStamp: Stamp | null }

export const storedAbout: c.Encoder<StoredAbout> = {
  preencode (s, v) { optString.preencode(s, v.name); optStamp.preencode(s, v.nameStamp); optString.preencode(s, v.bio); optStamp.preencode(s, v.bioStamp) },
  encode (s, v) { optString.encode(s, v.name); optStamp.encode(s, v.nameStamp); optString.encode(s, v.bio); optStamp.encode(s, v.bioStamp) },
  decode (s) { return { name: optString.decode(s), nameStamp: optStamp.decode(s), bio: optString.decode(s), bioStamp: optStamp.decode(s) } }
}

/** What one identity says about another: two independent last-writer-wins registers. */
export interface StoredContact { following: boolean, followStamp: Stamp | null, blocking: boolean, blockStamp: Stamp | null }

export const storedContact: c.Encoder<StoredContact> = {
  preencode (s, v) { c.bool.preencode(s, v.following); optStamp.preencode(s, v.followStamp); c.bool.preencode(s, v.blocking); optStamp.preencode(s, v.blockStamp) },
  encode (s, v) { c.bool.encode(s, v.following); optStamp.encode(s, v.followStamp); c.bool.encode(s, v.blocking); optStamp.encode(s, v.blockStamp) },
  decode (s) { return { following: c.bool.decode(s), followStamp: optStamp.decode(s), blocking: c.bool.decode(s), blockStamp: optStamp.decode(s) } }
}

/**
 * A StoredContact row's two flags as bits (CONTACT_FOLLOWING | CONTACT_BLOCKING), its stamps skipped,
 * with no object per row: what the follow-graph walk needs of thousands of rows.
 */
export function contactBits (raw: Uint8Array): number {
  const s = BITS_STATE
  s.start = 0
  s.end = raw.byteLength
  s.buffer = raw
  try {
    const following = c.bool.decode(s)
    skipOptStamp(s)
    return (following ? CONTACT_FOLLOWING : 0) | (c.bool.decode(s) ? CONTACT_BLOCKING : 0)
  } finally {
    s.buffer = EMPTY_ROW
  }
}

export const CONTACT_FOLLOWING = 1
export const CONTACT_BLOCKING = 2
const EMPTY_ROW: Uint8Array = new Uint8Array(0)
const BITS_STATE = { start: 0, end: 0, buffer: EMPTY_ROW, cache: null }

function skipOptStamp (s: c.State): void {
  if (!c.bool.decode(s)) return
  c.uint.decode(s) // ts
  s.start += 32 // the ref's feed
  if (s.start > s.end) throw new Error('Out of bounds')
  c.uint.decode(s) // the ref's seq
}

/** The reverse edge kept for follower counts. */
export interface ContactFlags { following: boolean, blocking: boolean }

export const contactFlags: c.Encoder<ContactFlags> = {
  preencode (s) { c.uint.preencode(s, 0) },
  encode (s, v) { c.uint.encode(s, (v.following ? 1 : 0) | (v.blocking ? 2 : 0)) },
  decode (s) { const n = c.uint.decode(s); return { following: (n & 1) !== 0, blocking: (n & 2) !== 0 } }
}

export function encode<T> (enc: c.Encoder<T>, v: T): Uint8Array {
  return c.encode(enc, v)
}

export function decode<T> (enc: c.Encoder<T>, buf: Uint8Array): T {
  return c.decode(enc, buf)
}
