/**
 * The on-disk layout of the views database, declared in one place. Keys are binary and sort
 * bytewise; timestamps are 8-byte big-endian so a reverse scan is newest first.
 *
 * Tags below 0x10 are node state that a reindex keeps; tags from 0x10 are derived views
 * that a reindex (or a VIEWS_VERSION bump) wipes and rebuilds from the feeds.
 *
 * Every derived row one identity wrote is reachable from that identity alone (a prefix of its
 * key, its device feeds, or a row found that way), so a block can delete all of it. No row holds
 * a map keyed by someone else's data: one row per key, so indexing a record costs the same
 * however much came before it.
 */
import b4a from 'b4a'
import { refBytes, writeUint64BE, type FeedKey, type MessageRef } from '../ids.js'

export const TAG = {
  // kept across reindex
  meta: 0x01,
  // legacy node state: now in <storage>/state/ (src/node/node-state.ts), read once to migrate
  trackedFeed: 0x02,
  receipt: 0x03,
  // derived
  checkpoint: 0x10,
  feedIdentity: 0x11,
  device: 0x12,
  message: 0x13,
  /** Retired in VIEWS_VERSION 3 (the shared timeline of every post held; the home index answers). */
  timeline: 0x14,
  byAuthor: 0x15,
  thread: 0x16,
  mention: 0x17,
  reactor: 0x18,
  reactionCount: 0x19,
  edit: 0x1a,
  deletion: 0x1b,
  about: 0x1c,
  contact: 0x1d,
  contactReverse: 0x1e,
  reactionRank: 0x1f,
  home: 0x20,
  /** Identities with a follow row here: a marker row each (see keys.follower). */
  follower: 0x21,
  /** A reactor row again, keyed by the post first: who reacted to a post, found without asking everyone. */
  reactorByTarget: 0x22
} as const

export const FIRST_DERIVED_TAG = 0x10
export const LAST_DERIVED_TAG = 0x22

/** A key: the tag byte, then the parts' bytes in order. One allocation (keys are built per row). */
export function key (tag: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 1
  for (const p of parts) n += p.byteLength
  const out = b4a.allocUnsafe(n)
  out[0] = tag
  let o = 1
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

export function u64 (n: number): Uint8Array {
  const b = b4a.allocUnsafe(8)
  writeUint64BE(b, 0, n)
  return b
}

const REF = 40 // feed key (32) + seq (8), as refBytes writes it

/** Writes a ref as refBytes does, at `o`; returns the offset after it. */
function putRef (out: Uint8Array, o: number, ref: MessageRef): number {
  out.set(ref.feed, o)
  writeUint64BE(out, o + 32, ref.seq)
  return o + REF
}

/**
 * `tag | prefix? | u64(ts) | ref`, the shape of every time-ordered index, written into one buffer:
 * the hot path of indexing, where a buffer per part costs most on Bare (small allocations there are
 * native calls, not slices of a pool).
 */
function timedKey (tag: number, prefix: Uint8Array | null, ts: number, ref: MessageRef): Uint8Array {
  const p = prefix === null ? 0 : prefix.byteLength
  const out = b4a.allocUnsafe(1 + p + 8 + REF)
  out[0] = tag
  if (prefix !== null) out.set(prefix, 1)
  writeUint64BE(out, 1 + p, ts)
  putRef(out, 9 + p, ref)
  return out
}

/** `thread | root | u64(ts) | ref` in one buffer (timedKey with the root written in place). */
function threadKey (root: MessageRef, ts: number, ref: MessageRef): Uint8Array {
  const out = b4a.allocUnsafe(1 + REF + 8 + REF)
  out[0] = TAG.thread
  const o = putRef(out, 1, root)
  writeUint64BE(out, o, ts)
  putRef(out, o + 8, ref)
  return out
}

/** `tag | prefix? | ref | suffix?` in one buffer. */
function refKey (tag: number, prefix: Uint8Array | null, ref: MessageRef, suffix: Uint8Array | null = null): Uint8Array {
  const p = prefix === null ? 0 : prefix.byteLength
  const out = b4a.allocUnsafe(1 + p + REF + (suffix === null ? 0 : suffix.byteLength))
  out[0] = tag
  if (prefix !== null) out.set(prefix, 1)
  const o = putRef(out, 1 + p, ref)
  if (suffix !== null) out.set(suffix, o)
  return out
}

/** `reactionRank | target | u64(n) | emoji` in one buffer, from `reactionCount | target | emoji`. */
function rankKey (countKey: Uint8Array, n: number): Uint8Array {
  const out = b4a.allocUnsafe(countKey.byteLength + 8)
  out[0] = TAG.reactionRank
  // Byte by byte: no view of countKey is made (a typed array each), and the parts are short.
  for (let i = 1; i < 1 + REF; i++) out[i] = countKey[i]
  writeUint64BE(out, 1 + REF, n)
  for (let i = 1 + REF; i < countKey.byteLength; i++) out[i + 8] = countKey[i]
  return out
}

function emojiBytes (emoji: string | Uint8Array): Uint8Array {
  return typeof emoji === 'string' ? b4a.from(emoji) : emoji
}

/** `reactorByTarget | target | reactor | emoji` in one buffer, from `reactor | reactor | target | emoji`. */
function reactorOnKey (reactorKey: Uint8Array): Uint8Array {
  const out = b4a.allocUnsafe(reactorKey.byteLength)
  out[0] = TAG.reactorByTarget
  out.set(reactorKey.subarray(1 + 32, 1 + 32 + REF), 1)
  out.set(reactorKey.subarray(1, 1 + 32), 1 + REF)
  out.set(reactorKey.subarray(1 + 32 + REF), 1 + REF + 32)
  return out
}

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd (prefix: Uint8Array): Uint8Array {
  const out = b4a.from(prefix)
  for (let i = out.byteLength - 1; i >= 0; i--) {
    if (out[i] < 0xff) { out[i]++; return out.subarray(0, i + 1) }
  }
  return b4a.alloc(prefix.byteLength + 1, 0xff)
}

export const META_VERSION = key(TAG.meta, b4a.from('views-version'))

/**
 * A random id of this generation of the derived views, written by the node (storage-checks.ts
 * viewsGeneration). It sits in the checkpoints' tag (no feed key is 10 bytes, and checkpoints are
 * only read by key), so every wipe of the derived views removes it with the checkpoints.
 */
export const VIEWS_GENERATION = key(TAG.checkpoint, b4a.from('generation'))

export const keys = {
  trackedFeed: (feed: Uint8Array) => key(TAG.trackedFeed, feed),
  receipt: (ref: MessageRef) => refKey(TAG.receipt, null, ref),
  /** The prefix of every receipt row of one feed's messages. */
  receiptsOf: (feed: FeedKey) => b4a.concat([b4a.from([TAG.receipt]), feed]),
  checkpoint: (feed: Uint8Array) => key(TAG.checkpoint, feed),
  feedIdentity: (feed: Uint8Array) => key(TAG.feedIdentity, feed),
  device: (identity: Uint8Array, feed: Uint8Array) => key(TAG.device, identity, feed),
  message: (ref: MessageRef) => refKey(TAG.message, null, ref),
  /** Prefix of every message row of one feed. */
  messagesOf: (feed: Uint8Array) => key(TAG.message, feed),
  /** The local identity's home timeline: posts by me and by whom I follow (and do not block). */
  home: (ts: number, ref: MessageRef) => timedKey(TAG.home, null, ts, ref),
  byAuthor: (author: Uint8Array, ts: number, ref: MessageRef) => timedKey(TAG.byAuthor, author, ts, ref),
  thread: (root: MessageRef, ts: number, ref: MessageRef) => threadKey(root, ts, ref),
  mention: (who: Uint8Array, ts: number, ref: MessageRef) => timedKey(TAG.mention, who, ts, ref),
  reactor: (reactor: Uint8Array, target: MessageRef, emoji: string | Uint8Array) => refKey(TAG.reactor, reactor, target, emojiBytes(emoji)),
  /**
   * Whether `reactor` has taken a reaction back (a remove record of theirs was indexed): if not,
   * every reactor row of theirs is on, so one is absent wherever its count row is (no read).
   */
  reactionRemover: (reactor: Uint8Array) => key(TAG.reactor, reactor),
  /** `reactor`'s reaction `emoji` on `target`, while it is on (the reactor row says when). */
  reactorOn: (target: MessageRef, reactor: Uint8Array, emoji: string | Uint8Array) => refKey(TAG.reactorByTarget, null, target, b4a.concat([reactor, emojiBytes(emoji)])),
  /** The reactorOn key of the reaction whose reactor row is `reactorKey` (its bytes reordered). */
  reactorOnOf: (reactorKey: Uint8Array) => reactorOnKey(reactorKey),
  /** Prefix of every reaction on `target` that is on, by reactor. */
  reactorsOn: (target: MessageRef) => refKey(TAG.reactorByTarget, null, target),
  /** One row per (post, emoji): the number of identities whose reaction is on. */
  reactionCount: (target: MessageRef, emoji: string | Uint8Array) => refKey(TAG.reactionCount, null, target, emojiBytes(emoji)),
  /** The same counts ordered by count, so a post shows its most used emoji without reading all. */
  reactionRank: (target: MessageRef, n: number, emoji: string) => rankKey(keys.reactionCount(target, emoji), n),
  /** The reactionRank key of count `n` for the (post, emoji) whose reactionCount key is `countKey`. */
  reactionRankOf: (countKey: Uint8Array, n: number) => rankKey(countKey, n),
  reactionRanks: (target: MessageRef) => refKey(TAG.reactionRank, null, target),
  /** A post's reactions in one row (an emoji is never empty, so this is no reactionCount key). */
  reactionSummary: (target: MessageRef) => refKey(TAG.reactionCount, null, target),
  edit: (editor: Uint8Array, target: MessageRef) => refKey(TAG.edit, editor, target),
  deletion: (deleter: Uint8Array, target: MessageRef) => refKey(TAG.deletion, deleter, target),
  /** Whether `deleter` has any deletion row: if not, none of their posts needs a deletion lookup. */
  deleter: (deleter: Uint8Array) => key(TAG.deletion, deleter),
  about: (identity: Uint8Array) => key(TAG.about, identity),
  contact: (from: Uint8Array, to: Uint8Array) => key(TAG.contact, from, to),
  /**
   * Whether `who` has a block or unblock record indexed (written by each, whoever it names): if
   * not, and no other device feed of theirs is indexed, a follow of theirs need not read its row.
   */
  blocker: (who: Uint8Array) => key(TAG.contact, who),
  contactReverse: (to: Uint8Array, from: Uint8Array) => key(TAG.contactReverse, to, from),
  /**
   * Marks that `who` has followed someone (written with their first follow row, kept after an
   * unfollow, deleted with their rows by a block): the hop walk scans only the follows of the
   * identities marked, so follows that follow nobody cost it nothing.
   */
  follower: (who: Uint8Array) => key(TAG.follower, who),
  /** The prefix of every follower marker. */
  followers: () => key(TAG.follower)
}
