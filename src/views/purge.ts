/**
 * Deletes every derived row an identity wrote (what a block does to the views): its posts with
 * their home, author, thread and mention rows and the edit marks on their summary rows, its reactions and their share of the counts,
 * its edits and deletion markers, its profile, its follows and blocks (both directions of each
 * edge it wrote), and its feeds' device, header and checkpoint rows. Rows other identities wrote
 * about it (their follows of it, their replies to it, my block of it) are theirs and stay.
 */
import b4a from 'b4a'
import { refFromBytes, toHex, type IdentityKey, type MessageRef } from '../ids.js'
import { addToCount, unindexPost } from './apply.js'
import { TAG, key, keys } from './keys.js'
import { decode, encode, reactionSummary, reactor, storedPost } from './records.js'
import type { ViewTxn } from './view-db.js'

const IDENTITY_BYTES = 32
const REF_BYTES = 40

/**
 * Purges `who` in `txn`. `feeds` adds device feeds of `who` the views may not list yet. Returns
 * how many rows it found to delete (0: there was nothing of theirs).
 */
export async function purgeIdentity (txn: ViewTxn, who: IdentityKey, feeds: Uint8Array[]): Promise<number> {
  let found = 0
  const all = new Map<string, Uint8Array>()
  for (const f of feeds) all.set(toHex(f), f)
  for await (const { key: k } of txn.scanCommitted(key(TAG.device, who))) {
    const f = b4a.from(k.subarray(1 + IDENTITY_BYTES))
    all.set(toHex(f), f)
    found++
  }

  for (const feed of all.values()) {
    const posts: MessageRef[] = []
    for await (const { key: k, value } of txn.scanCommitted(keys.messagesOf(feed))) {
      found++
      const post = decode(storedPost, value)
      const ref = refFromBytes(k, 1)
      unindexPost(txn, ref, post.author, post.timestamp, post.root, post.mentions)
      posts.push(ref)
    }
    await unmarkEdits(txn, posts)
    txn.delPrefix(keys.messagesOf(feed))
    txn.del(keys.checkpoint(feed))
    txn.del(keys.feedIdentity(feed))
  }

  for await (const { key: k, value } of txn.scanCommitted(key(TAG.reactor, who))) {
    found++
    if (k.byteLength === 1 + IDENTITY_BYTES) continue // their reactionRemover marker, not a reaction
    if (!decode(reactor, value).on) continue
    const target = refFromBytes(k, 1 + IDENTITY_BYTES)
    const emoji = b4a.toString(k.subarray(1 + IDENTITY_BYTES + REF_BYTES))
    txn.del(keys.reactorOn(target, who, emoji))
    await addToCount(txn, target, emoji, -1)
  }
  for await (const { key: k } of txn.scanCommitted(key(TAG.contact, who))) {
    found++
    if (k.byteLength === 1 + IDENTITY_BYTES) continue // their blocker marker, not a contact row
    txn.del(keys.contactReverse(k.subarray(1 + IDENTITY_BYTES), who))
  }
  for (const tag of [TAG.byAuthor, TAG.edit, TAG.deletion]) {
    for await (const _ of txn.scanCommitted(key(tag, who))) { found++; break }
  }
  if (await txn.get(keys.about(who)) !== null) found++
  for (const tag of [TAG.byAuthor, TAG.reactor, TAG.edit, TAG.deletion, TAG.contact, TAG.device]) txn.delPrefix(key(tag, who))
  txn.del(keys.about(who))
  txn.del(keys.follower(who))
  return found
}

/** Takes the edit mark (see ReactionSummary) off the summary rows of purged posts: their edits go with them. */
async function unmarkEdits (txn: ViewTxn, posts: MessageRef[]): Promise<void> {
  const rows = posts.map((r) => keys.reactionSummary(r))
  await txn.prefetch(rows)
  for (const k of rows) {
    const raw = await txn.get(k)
    if (raw === null) continue
    const s = decode(reactionSummary, raw)
    if (!s.edits) continue
    if (s.entries !== null && s.entries.length === 0) txn.del(k)
    else txn.put(k, encode(reactionSummary, { entries: s.entries, edits: false }))
  }
}
