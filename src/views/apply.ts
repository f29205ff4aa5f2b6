/**
 * Applies one decoded message to the views. One handler per record type. Handlers are written so
 * that the final state does not depend on the order feeds arrive in: competing writes are settled
 * by stamps (effective timestamp, feed, seq), and deletions leave a marker that later arrivals check.
 */
import b4a from 'b4a'
import type { IdentityKey, MessageRef } from '../ids.js'
import type { AboutRecord, ContactRecord, DeleteRecord, EditRecord, MessageRecord, PostRecord, ReactionRecord } from '../feeds/schema.js'
import { keys } from './keys.js'
import {
  compareStamps, contactFlags, decode, encode, reactionCounts, reactor, storedAbout, storedContact, storedEdit, storedPost,
  type Stamp, type StoredAbout, type StoredContact
} from './records.js'
import type { ViewTxn } from './view-db.js'

const EMPTY = b4a.alloc(0)

export interface Applied {
  author: IdentityKey
  ref: MessageRef
  /** The author's timestamp, clamped to the time we received it. */
  ts: number
}

/** Keys a record will read, so a chunk can prefetch them in one native call. */
export function readsOf (rec: MessageRecord, at: Applied): Uint8Array[] {
  if (rec.type === 'post') return [keys.deletion(at.ref, at.author)]
  return []
}

export async function applyMessage (txn: ViewTxn, rec: MessageRecord, at: Applied): Promise<void> {
  switch (rec.type) {
    case 'post': return applyPost(txn, rec, at)
    case 'reaction': return applyReaction(txn, rec, at)
    case 'follow': case 'unfollow': case 'block': case 'unblock': return applyContact(txn, rec, at)
    case 'about': return applyAbout(txn, rec, at)
    case 'edit': return applyEdit(txn, rec, at)
    case 'delete': return applyDelete(txn, rec, at)
  }
}

async function applyPost (txn: ViewTxn, rec: PostRecord, { author, ref, ts }: Applied): Promise<void> {
  if (await txn.get(keys.deletion(ref, author)) !== null) return
  txn.put(keys.message(ref), encode(storedPost, {
    author, timestamp: ts, text: rec.text, root: rec.root, parent: rec.parent, cw: rec.cw, mentions: rec.mentions
  }))
  txn.put(keys.timeline(ts, ref), author)
  txn.put(keys.byAuthor(author, ts, ref), EMPTY)
  if (rec.root !== null) txn.put(keys.thread(rec.root, ts, ref), EMPTY)
  for (const m of uniqueKeys(rec.mentions)) txn.put(keys.mention(m, ts, ref), author)
}

async function applyReaction (txn: ViewTxn, rec: ReactionRecord, { author, ref, ts }: Applied): Promise<void> {
  const stamp: Stamp = { ts, ref }
  const k = keys.reactor(rec.target, author, rec.emoji)
  const prevRaw = await txn.get(k)
  const prev = prevRaw === null ? null : decode(reactor, prevRaw)
  if (prev !== null && compareStamps(prev.stamp, stamp) >= 0) return
  const wasOn = prev?.on ?? false
  const on = !rec.remove
  txn.put(k, encode(reactor, { on, stamp }))
  if (wasOn === on) return
  const ck = keys.reactionCounts(rec.target)
  const countsRaw = await txn.get(ck)
  const counts = countsRaw === null ? {} : decode(reactionCounts, countsRaw)
  const n = (counts[rec.emoji] ?? 0) + (on ? 1 : -1)
  if (n > 0) counts[rec.emoji] = n
  else delete counts[rec.emoji]
  if (Object.keys(counts).length === 0) txn.del(ck)
  else txn.put(ck, encode(reactionCounts, counts))
}

async function applyContact (txn: ViewTxn, rec: ContactRecord, { author, ref, ts }: Applied): Promise<void> {
  if (b4a.equals(author, rec.target)) return
  const stamp: Stamp = { ts, ref }
  const k = keys.contact(author, rec.target)
  const raw = await txn.get(k)
  const c: StoredContact = raw === null ? { following: false, followStamp: null, blocking: false, blockStamp: null } : decode(storedContact, raw)
  if (rec.type === 'follow' || rec.type === 'unfollow') {
    if (c.followStamp !== null && compareStamps(c.followStamp, stamp) >= 0) return
    c.following = rec.type === 'follow'
    c.followStamp = stamp
  } else {
    if (c.blockStamp !== null && compareStamps(c.blockStamp, stamp) >= 0) return
    c.blocking = rec.type === 'block'
    c.blockStamp = stamp
  }
  txn.put(k, encode(storedContact, c))
  txn.put(keys.contactReverse(rec.target, author), encode(contactFlags, { following: c.following, blocking: c.blocking }))
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
  if (await txn.get(keys.deletion(rec.target, author)) !== null) return
  const stamp: Stamp = { ts, ref }
  const k = keys.edit(rec.target, author)
  const raw = await txn.get(k)
  if (raw !== null && compareStamps(decode(storedEdit, raw).stamp, stamp) >= 0) return
  txn.put(k, encode(storedEdit, { text: rec.text, stamp }))
}

async function applyDelete (txn: ViewTxn, rec: DeleteRecord, { author }: Applied): Promise<void> {
  txn.put(keys.deletion(rec.target, author), EMPTY)
  txn.del(keys.edit(rec.target, author))
  const raw = await txn.get(keys.message(rec.target))
  if (raw === null) return
  const post = decode(storedPost, raw)
  if (!b4a.equals(post.author, author)) return
  const target = rec.target
  txn.del(keys.message(target))
  txn.del(keys.timeline(post.timestamp, target))
  txn.del(keys.byAuthor(author, post.timestamp, target))
  if (post.root !== null) txn.del(keys.thread(post.root, post.timestamp, target))
  for (const m of uniqueKeys(post.mentions)) txn.del(keys.mention(m, post.timestamp, target))
}

function uniqueKeys (list: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>()
  const out: Uint8Array[] = []
  for (const k of list) {
    const h = b4a.toString(k, 'hex')
    if (!seen.has(h)) { seen.add(h); out.push(k) }
  }
  return out
}
