/**
 * The local identity's home timeline index: a `home` row (effective timestamp, ref → the post, as
 * its message row holds it) for every post by me or by someone I follow and do not block, so a home page is one scan of
 * `limit + 1` rows whatever the share of followed authors among those held.
 *
 * Kept by three writers: a post is given its row when indexed if its author is in my home then
 * (`Applied.home`); a follow or unfollow of mine adds or removes the rows of every post its target
 * has here (`setHome`, below); and every removal of a post (a deletion, a block's purge) removes its
 * row with the others (`unindexPost`). A post and my follow of its author are never in one chunk
 * (a chunk is one feed, and nobody follows themselves), so one of the two always sees the other
 * committed: the index is the same whichever arrives first.
 */
import type { IdentityKey } from '../ids.js'
import { TAG, key } from './keys.js'
import type { ViewTxn } from './view-db.js'

/**
 * Adds (`on`) or removes the home rows of every post by `who` the views hold, found through its
 * byAuthor rows, which hold the post as well (one row read and one written per post). Rows this batch deletes (a block and an
 * unblock in one chunk) are left out. Returns how many posts it touched.
 */
export async function setHome (txn: ViewTxn, who: IdentityKey, on: boolean): Promise<number> {
  const prefix = key(TAG.byAuthor, who)
  let n = 0
  for await (const { key: k, value } of txn.scanCommitted(prefix)) {
    const home = key(TAG.home, k.subarray(prefix.byteLength))
    if (!on) txn.del(home)
    else if (!txn.deletes(k)) txn.put(home, value)
    else continue
    n++
  }
  return n
}
