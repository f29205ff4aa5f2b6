/**
 * Applies one decoded message to the views. One handler per record type. Handlers are written so
 * that the final state does not depend on the order feeds arrive in: competing writes are settled
 * by stamps (effective timestamp, feed, seq), and deletions leave a marker that later arrivals check.
 * Every handler reads and writes a bounded number of rows, whatever came before it.
 */
import b4a from 'b4a'
import type { IdentityKey, MessageRef } from '../ids.js'
import type { AboutRecord, ContactRecord, DeleteRecord, EditRecord, MessageRecord, PostRecord, ReactionRecord } from '../feeds/schema.js'
import { keys, u64 } from './keys.js'
import {
  SUMMARY_KINDS, compareStamps, contactFlags, count, decode, encode, reactionSummary, reactor, storedAbout, storedContact, storedEdit, storedPost, summaryOverflowed,
  type Stamp, type StoredAbout, type StoredContact
} from './records.js'
import type { ViewTxn } from './view-db.js'

const EMPTY = b4a.alloc(0)
const NO_READS: Uint8Array[] = []

export interface Applied {
  author: IdentityKey
  ref: MessageRef
  /** The effective timestamp: the author's, clamped to when we received it, never below the feed's clock. */
  ts: number
  /** Whether the author's posts belong to the local identity's home timeline (me, or followed and not blocked). */
  home: boolean
  /**
   * Set by the indexer on a follow or unfollow whose author's contact rows were all written by
   * earlier records of this feed, none of them a block or unblock (see `keys.blocker`): its row
   * then holds no later stamp and no block register, so it is written without being read.
   */
  soleWriter?: boolean
}

/**
 * What a contact record changed in its author's register of `target`: whether the author blocks
 * `target` (`blocking`, when `blockChanged`) and whether `target` is in the author's home (followed
 * and not blocked: `home`, when `homeChanged`). Null when nothing changed.
 */
export interface ContactChange { target: IdentityKey, blocking: boolean, blockChanged: boolean, home: boolean, homeChanged: boolean }

/**
 * Keys a record will read, so a chunk can prefetch them in one native call; applyMessage takes
 * the same list back, so each key is made once (a reaction: reactor, count, summary).
 */
export function readsOf (rec: MessageRecord, at: Applied, prev: { rec: MessageRecord, reads: Uint8Array[] } | null = null): Uint8Array[] {
  switch (rec.type) {
    case 'post': return NO_READS // its author's deleter marker: the indexer reads it once per chunk (one author)
    case 'reaction': {
      const emoji = b4a.from(rec.emoji)
      // Reactions in a row on one post share its summary key (`prev`: the record before, with its reads).
      const summary = prev !== null && prev.rec.type === 'reaction' && sameRef(prev.rec.target, rec.target) ? prev.reads[2] : keys.reactionSummary(rec.target)
      return [keys.reactor(at.author, rec.target, emoji), keys.reactionCount(rec.target, emoji), summary]
    }
    case 'follow': case 'unfollow': return at.soleWriter === true ? NO_READS : [keys.contact(at.author, rec.target)]
    case 'block': case 'unblock': return [keys.contact(at.author, rec.target)]
    case 'about': return [keys.about(at.author)]
    case 'edit': return [keys.deletion(at.author, rec.target), keys.edit(at.author, rec.target), keys.reactionSummary(rec.target)]
    case 'delete': return [keys.message(rec.target)]
  }
}

/**
 * The keys of `reads` (readsOf) a chunk prefetches first: all but a reaction's reactor and count
 * rows, which reactionReadsOf reads or infers once the summary row is known.
 */
export function firstReadsOf (rec: MessageRecord, reads: Uint8Array[]): Uint8Array[] {
  return rec.type === 'reaction' ? [reads[2]] : reads
}

/**
 * After the first reads, before any record of the group is applied: pushes to `out` the rows a
 * reaction still has to read. Its count row is known absent when the post's summary row says the
 * kind has no count (no summary, a summary that lists every kind but this one, or past
 * SUMMARY_KINDS kinds the views' kind set: ReactionKinds); it is then noted absent in `txn`. Its
 * reactor row is absent when the count row is and its author has taken no reaction back
 * (`removed`: their reactionRemover row), since a row of theirs would be on and counted.
 */
export function reactionReadsOf (txn: ViewTxn, rec: MessageRecord, reads: Uint8Array[], removed: boolean, out: Uint8Array[]): void {
  if (rec.type !== 'reaction') return
  const [k, ck, sk] = reads
  let countRaw = txn.peek(ck)
  if (countRaw === undefined && summaryLacks(txn, sk, rec.emoji)) {
    txn.assumeAbsent(ck)
    countRaw = null
  }
  if (countRaw === undefined) out.push(ck)
  if (countRaw === null && !removed) txn.assumeAbsent(k)
  else if (txn.peek(k) === undefined) out.push(k)
}

/** Whether the summary row `sk` (known to the batch) shows that `emoji` has no count row on its post. */
function summaryLacks (txn: ViewTxn, sk: Uint8Array, emoji: string): boolean {
  const raw = txn.peek(sk)
  if (raw === undefined) return false
  if (raw === null) return true // no reactions at all
  if (summaryOverflowed(raw)) return txn.kindAbsent(sk, emoji)
  return !summaryKinds(raw).has(emoji)
}

/** The kinds a non-overflowed summary row lists (the last row asked is kept: a group's reactions share one post). */
function summaryKinds (raw: Uint8Array): Set<string> {
  if (raw !== lastSummary) {
    lastKinds = new Set((decode(reactionSummary, raw).entries ?? []).map(([e]) => e))
    lastSummary = raw
  }
  return lastKinds
}

let lastSummary: Uint8Array | null = null
let lastKinds = new Set<string>()

/** Keys a record reads once its author is known to have deleted something (see `keys.deleter`). */
export function deleterReadsOf (rec: MessageRecord, at: Applied): Uint8Array[] {
  return rec.type === 'post' ? [keys.deletion(at.author, at.ref)] : []
}

/**
 * Applies one record (`reads`: its readsOf list); returns what changed in its author's blocks and
 * follows, if anything (null too for a follow or unfollow written unread: `soleWriter`). A
 * reaction whose rows this batch already holds (prefetched) is applied at once, with no promise:
 * null then.
 */
export function applyMessage (txn: ViewTxn, rec: MessageRecord, at: Applied, reads = readsOf(rec, at)): Promise<ContactChange | null> | null {
  if (rec.type === 'reaction') return applyReaction(txn, rec, at, reads)
  return applyOther(txn, rec, at)
}

async function applyOther (txn: ViewTxn, rec: Exclude<MessageRecord, ReactionRecord>, at: Applied): Promise<ContactChange | null> {
  switch (rec.type) {
    case 'post': await applyPost(txn, rec, at); return null
    case 'follow': case 'unfollow': case 'block': case 'unblock': return applyContact(txn, rec, at)
    case 'about': await applyAbout(txn, rec, at); return null
    case 'edit': await applyEdit(txn, rec, at); return null
    case 'delete': await applyDelete(txn, rec, at); return null
  }
}

async function applyPost (txn: ViewTxn, rec: PostRecord, { author, ref, ts, home }: Applied): Promise<void> {
  if (await txn.get(keys.deleter(author)) !== null && await txn.get(keys.deletion(author, ref)) !== null) return
  // The home, author and thread rows hold the post too (a message row never changes once written:
  // edits and reactions live in rows of their own), so a page reads its posts in its scan.
  const post = encode(storedPost, { author, timestamp: ts, text: rec.text, root: rec.root, parent: rec.parent, cw: rec.cw, mentions: rec.mentions })
  // Only the message row is read back in a chunk (a deletion of it); the others are index rows.
  txn.put(keys.message(ref), post)
  if (home) txn.putIndex(keys.home(ts, ref), post)
  txn.putIndex(keys.byAuthor(author, ts, ref), post)
  if (rec.root !== null) txn.putIndex(keys.thread(rec.root, ts, ref), post)
  for (const m of uniqueKeys(rec.mentions)) txn.putIndex(keys.mention(m, ts, ref), author)
}

/**
 * `reads`: the reactor, count and summary keys (readsOf). Synchronous when the batch holds the
 * three rows (the indexer prefetches them for the chunk); otherwise reads them first.
 */
function applyReaction (txn: ViewTxn, rec: ReactionRecord, at: Applied, reads: Uint8Array[]): Promise<null> | null {
  const [k, ck, sk] = reads
  const prevRaw = txn.peek(k)
  const countRaw = txn.peek(ck)
  const summaryRaw = txn.peek(sk)
  // After a prefetch of the three keys the batch holds each (read, written or deleted): this runs once more at most.
  if (prevRaw === undefined || countRaw === undefined || summaryRaw === undefined) return txn.prefetch(reads).then(() => applyReaction(txn, rec, at, reads))
  // Whether it wins or not: the marker is then the same whatever order feeds arrive in.
  if (rec.remove) txn.put(keys.reactionRemover(at.author), EMPTY)
  const stamp: Stamp = { ts: at.ts, ref: at.ref }
  const prev = prevRaw === null ? null : decode(reactor, prevRaw)
  if (prev !== null && compareStamps(prev.stamp, stamp) >= 0) return null
  const wasOn = prev?.on ?? false
  const on = !rec.remove
  txn.put(k, encode(reactor, { on, stamp }))
  const byTarget = keys.reactorOnOf(k)
  if (!wasOn) txn.assumeAbsent(byTarget) // it exists exactly while the reactor row is on
  if (on) txn.put(byTarget, u64(at.ts))
  else if (wasOn) txn.del(byTarget)
  if (wasOn !== on) changeCount(txn, ck, countRaw, sk, summaryRaw, rec.emoji, on ? 1 : -1)
  return null
}

/** Adds `delta` to the count of one emoji on one post; a count of 0 is no row. */
export async function addToCount (txn: ViewTxn, target: MessageRef, emoji: string, delta: number): Promise<void> {
  const ck = keys.reactionCount(target, emoji)
  const sk = keys.reactionSummary(target)
  changeCount(txn, ck, await txn.get(ck), sk, await txn.get(sk), emoji, delta)
}

/** addToCount with the count row (`ck`, `countRaw`) and the summary row (`sk`, `summaryRaw`) read. */
function changeCount (txn: ViewTxn, ck: Uint8Array, countRaw: Uint8Array | null, sk: Uint8Array, summaryRaw: Uint8Array | null, emoji: string, delta: number): void {
  const old = countRaw === null ? 0 : decode(count, countRaw)
  const n = old + delta
  // A kind with one reaction has no rank row (most kinds): readers find those by their count rows.
  if (old > 1) txn.del(keys.reactionRankOf(ck, old))
  if (n > 0) {
    if (old === 0) txn.kindAdded(sk, emoji)
    txn.put(ck, encode(count, n))
    if (n > 1) {
      const rank = keys.reactionRankOf(ck, n)
      txn.assumeAbsent(rank) // a rank row exists only at its count row's count, which was `old`
      txn.put(rank, EMPTY)
    }
  } else {
    txn.del(ck)
  }
  updateSummary(txn, sk, summaryRaw, emoji, n)
}

/** Keeps a post's summary row (`sk`, now `raw`) in step with one count change (bounded work: SUMMARY_KINDS entries). */
function updateSummary (txn: ViewTxn, sk: Uint8Array, raw: Uint8Array | null, emoji: string, n: number): void {
  if (raw !== null && summaryOverflowed(raw)) return // more kinds than a summary holds: the ranked rows answer
  const { entries, edits } = raw === null ? { entries: [], edits: false } : decode(reactionSummary, raw)
  if (entries === null) return
  const rest = entries.filter(([e]) => e !== emoji)
  if (n > 0) rest.push([emoji, n])
  if (rest.length === 0 && !edits) txn.del(sk)
  else if (rest.length <= SUMMARY_KINDS) txn.put(sk, encode(reactionSummary, { entries: rest, edits }))
  else {
    // It lists every kind for the last time: from now the views' kind set holds them (ReactionKinds).
    txn.kindsOverflowed(sk, rest.map(([e]) => e))
    txn.put(sk, encode(reactionSummary, { entries: null, edits }))
  }
}

async function applyContact (txn: ViewTxn, rec: ContactRecord, { author, ref, ts, soleWriter }: Applied): Promise<ContactChange | null> {
  const follows = rec.type === 'follow' || rec.type === 'unfollow'
  // Whether it wins or not, and whoever it names: the marker is the same whatever order feeds arrive in.
  if (!follows) txn.put(keys.blocker(author), EMPTY)
  if (b4a.equals(author, rec.target)) return null
  const stamp: Stamp = { ts, ref }
  const k = keys.contact(author, rec.target)
  // Written unread: the row, if any, is an earlier record's of this feed (a lower stamp) with no
  // block register, so this record wins as over no row.
  const unread = follows && soleWriter === true
  const raw = unread ? null : await txn.get(k)
  const c: StoredContact = raw === null ? { following: false, followStamp: null, blocking: false, blockStamp: null } : decode(storedContact, raw)
  const wasBlocking = c.blocking
  const wasHome = c.following && !c.blocking
  if (follows) {
    if (c.followStamp !== null && compareStamps(c.followStamp, stamp) >= 0) return null
    c.following = rec.type === 'follow'
    c.followStamp = stamp
    if (c.following) txn.put(keys.follower(author), EMPTY)
  } else {
    if (c.blockStamp !== null && compareStamps(c.blockStamp, stamp) >= 0) return null
    c.blocking = rec.type === 'block'
    c.blockStamp = stamp
  }
  txn.put(k, encode(storedContact, c))
  txn.put(keys.contactReverse(rec.target, author), encode(contactFlags, { following: c.following, blocking: c.blocking }))
  if (unread) return null // what it changed is unknown (and only my own records' changes are used)
  const home = c.following && !c.blocking
  if (c.blocking === wasBlocking && home === wasHome) return null
  return { target: rec.target, blocking: c.blocking, blockChanged: c.blocking !== wasBlocking, home, homeChanged: home !== wasHome }
}

async function applyAbout (txn: ViewTxn, rec: AboutRecord, { author, ref, ts }: Applied): Promise<void> {
  const stamp: Stamp = { ts, ref }
  const k = keys.about(author)
  const raw = await txn.get(k)
  const a: StoredAbout = raw === null ? { name: null, nameStamp: null, bio: null, bioStamp: null } : decode(storedAbout, raw)
  let changed = false
  if (rec.name !== null && (a.nameStamp === null || compareStamps(a.nameStamp, stamp) < 0)) {
    a.name = rec.name; a.nameStamp = stamp; changed = true
  }
  if (rec.bio !== null && (a.bioStamp === null || compareStamps(a.bioStamp, stamp) < 0)) {
    a.bio = rec.bio; a.bioStamp = stamp; changed = true
  }
  if (changed) txn.put(k, encode(storedAbout, a))
}

async function applyEdit (txn: ViewTxn, rec: EditRecord, { author, ref, ts }: Applied): Promise<void> {
  // An edit is kept per editor; queries only honour the one by the post's own author.
  if (await txn.get(keys.deletion(author, rec.target)) !== null) return
  const stamp: Stamp = { ts, ref }
  const k = keys.edit(author, rec.target)
  const raw = await txn.get(k)
  if (raw !== null && compareStamps(decode(storedEdit, raw).stamp, stamp) >= 0) return
  txn.put(k, encode(storedEdit, { text: rec.text, stamp }))
  // Mark the post's summary row, so pages look for edits of this post only.
  const sk = keys.reactionSummary(rec.target)
  const sRaw = await txn.get(sk)
  const summary = sRaw === null ? { entries: [], edits: false } : decode(reactionSummary, sRaw)
  if (!summary.edits) txn.put(sk, encode(reactionSummary, { entries: summary.entries, edits: true }))
}

async function applyDelete (txn: ViewTxn, rec: DeleteRecord, { author }: Applied): Promise<void> {
  txn.put(keys.deletion(author, rec.target), EMPTY)
  txn.put(keys.deleter(author), EMPTY)
  txn.del(keys.edit(author, rec.target))
  const raw = await txn.get(keys.message(rec.target))
  if (raw === null) return
  const post = decode(storedPost, raw)
  if (!b4a.equals(post.author, author)) return
  txn.del(keys.message(rec.target))
  unindexPost(txn, rec.target, post.author, post.timestamp, post.root, post.mentions)
}

/** Deletes the home, author, thread and mention rows of one post (not its message row). */
export function unindexPost (txn: ViewTxn, ref: MessageRef, author: IdentityKey, ts: number, root: MessageRef | null, mentions: IdentityKey[]): void {
  txn.del(keys.home(ts, ref))
  txn.del(keys.byAuthor(author, ts, ref))
  if (root !== null) txn.del(keys.thread(root, ts, ref))
  for (const m of uniqueKeys(mentions)) txn.del(keys.mention(m, ts, ref))
}

function sameRef (a: MessageRef, b: MessageRef): boolean {
  return a.seq === b.seq && b4a.equals(a.feed, b.feed)
}

function uniqueKeys (list: Uint8Array[]): Uint8Array[] {
  if (list.length <= 1) return list
  const seen = new Set<string>()
  const out: Uint8Array[] = []
  for (const k of list) {
    const h = b4a.toString(k, 'hex')
    if (!seen.has(h)) { seen.add(h); out.push(k) }
  }
  return out
}
