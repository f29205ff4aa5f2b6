import test from 'brittle'
import b4a from 'b4a'
import { refBytes, type FeedKey, type MessageRef } from '../src/ids.js'
import { TAG, key, keys, u64 } from '../src/views/keys.js'

// The one-buffer key builders must write exactly the bytes of the part-by-part layout (the
// on-disk format), whatever the numbers: 0, 2^32 boundaries, the largest safe integer.
test('views keys – one-buffer builders write the documented layout byte for byte', (t) => {
  const feed = b4a.alloc(32, 0xab) as FeedKey
  const other = b4a.alloc(32, 0x01) as FeedKey
  const who = b4a.alloc(32, 0x5c)
  let mismatches = 0
  for (const n of [0, 1, 255, 0xffffffff, 0x100000000, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
    const ref: MessageRef = { feed, seq: n }
    const root: MessageRef = { feed: other, seq: n === 0 ? 3 : n - 1 }
    const pairs: Array<[Uint8Array, Uint8Array]> = [
      [keys.receipt(ref), key(TAG.receipt, refBytes(ref))],
      [keys.message(ref), key(TAG.message, refBytes(ref))],
      [keys.home(n, ref), key(TAG.home, u64(n), refBytes(ref))],
      [keys.byAuthor(who, n, ref), key(TAG.byAuthor, who, u64(n), refBytes(ref))],
      [keys.thread(root, n, ref), key(TAG.thread, refBytes(root), u64(n), refBytes(ref))],
      [keys.mention(who, n, ref), key(TAG.mention, who, u64(n), refBytes(ref))],
      [keys.reactor(who, ref, '👍'), key(TAG.reactor, who, refBytes(ref), b4a.from('👍'))],
      [keys.reactionCount(ref, '🎉'), key(TAG.reactionCount, refBytes(ref), b4a.from('🎉'))],
      [keys.reactionRanks(ref), key(TAG.reactionRank, refBytes(ref))],
      [keys.reactionSummary(ref), key(TAG.reactionCount, refBytes(ref))],
      [keys.edit(who, ref), key(TAG.edit, who, refBytes(ref))],
      [keys.deletion(who, ref), key(TAG.deletion, who, refBytes(ref))]
    ]
    for (const [fast, spelled] of pairs) if (!b4a.equals(fast, spelled)) mismatches++
  }
  t.is(mismatches, 0)
  t.alike(keys.home(1, { feed, seq: 2 }).subarray(0, 9), b4a.from([TAG.home, 0, 0, 0, 0, 0, 0, 0, 1]), 'tag, then the time big-endian')
})
