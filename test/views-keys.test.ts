import test, { type Test } from 'brittle'
import b4a from 'b4a'
import { refBytes, type FeedKey, type MessageRef } from '../src/ids.js'
import { TAG, key, keys, u64 } from '../src/views/keys.js'
import { CONTACT_BLOCKING, CONTACT_FOLLOWING, contactBits, decode, encode, storedContact, storedPost, type StoredPost } from '../src/views/records.js'
import { ViewDb } from '../src/views/view-db.js'

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
      [keys.reactorOn(ref, who, '👍'), key(TAG.reactorByTarget, refBytes(ref), who, b4a.from('👍'))],
      [keys.reactorOnOf(keys.reactor(who, ref, '👍')), keys.reactorOn(ref, who, '👍')],
      [keys.reactionCount(ref, '🎉'), key(TAG.reactionCount, refBytes(ref), b4a.from('🎉'))],
      [keys.reactionRanks(ref), key(TAG.reactionRank, refBytes(ref))],
      [keys.reactionRank(ref, n, '🎉'), key(TAG.reactionRank, refBytes(ref), u64(n), b4a.from('🎉'))],
      [keys.reactionRankOf(keys.reactionCount(ref, 'r1'), n), key(TAG.reactionRank, refBytes(ref), u64(n), b4a.from('r1'))],
      [keys.reactionSummary(ref), key(TAG.reactionCount, refBytes(ref))],
      [keys.edit(who, ref), key(TAG.edit, who, refBytes(ref))],
      [keys.deletion(who, ref), key(TAG.deletion, who, refBytes(ref))]
    ]
    for (const [fast, spelled] of pairs) if (!b4a.equals(fast, spelled)) mismatches++
  }
  t.is(mismatches, 0)
  t.alike(keys.home(1, { feed, seq: 2 }).subarray(0, 9), b4a.from([TAG.home, 0, 0, 0, 0, 0, 0, 0, 1]), 'tag, then the time big-endian')
})

test('views records – a stored post decodes to what was encoded, whichever optional fields it has; a parent that is the root is written once', (t) => {
  const author = b4a.alloc(32, 0x11) as StoredPost['author']
  const root: MessageRef = { feed: b4a.alloc(32, 0x22) as FeedKey, seq: 7 }
  const sameAsRoot: MessageRef = { feed: b4a.alloc(32, 0x22) as FeedKey, seq: 7 }
  const otherSeq: MessageRef = { feed: b4a.alloc(32, 0x22) as FeedKey, seq: 8 }
  const otherFeed: MessageRef = { feed: b4a.alloc(32, 0x23) as FeedKey, seq: 7 }
  const mentions = [b4a.alloc(32, 0x33), b4a.alloc(32, 0x44)] as StoredPost['mentions']
  let wrong = 0
  for (const r of [null, root]) {
    for (const parent of [null, sameAsRoot, otherSeq, otherFeed]) {
      for (const cw of [null, '', 'spoilers']) {
        for (const m of [[], mentions]) {
          const post: StoredPost = { author, timestamp: 2 ** 40 + 3, text: 'héllo', root: r, parent, cw, mentions: m }
          if (!isSame(decode(storedPost, encode(storedPost, post)), post)) wrong++
        }
      }
    }
  }
  t.is(wrong, 0)
  const reply = (parent: MessageRef): number => encode(storedPost, { author, timestamp: 1, text: 'x', root, parent, cw: null, mentions: [] }).byteLength
  t.is(reply(otherSeq) - reply(sameAsRoot), 33, 'a reply to the root holds its ref once')
})

/** A fresh views database in a test folder, closed at teardown. */
async function openDb (t: Test): Promise<ViewDb> {
  const db = new ViewDb(await t.tmp())
  await db.ready()
  t.teardown(() => db.close())
  return db
}

test('views txn – index rows: a later del() and a later delPrefix() win over them, a put after a delPrefix stays', async (t) => {
  const db = await openDb(t)
  const feed = b4a.alloc(32, 0xab) as FeedKey
  const who = b4a.alloc(32, 0x5c)
  const k = (seq: number): Uint8Array => keys.byAuthor(who, 100, { feed, seq })
  const v = b4a.from('v')
  const txn = db.txn()
  txn.putIndex(k(1), v)
  txn.putIndex(k(2), v)
  txn.del(k(1))
  txn.putIndex(k(3), v)
  txn.delPrefix(key(TAG.byAuthor, who))
  txn.putIndex(k(4), v)
  txn.put(k(5), v)
  t.is(txn.peek(k(5)), v, 'a put() row is read back')
  t.is(txn.deletes(k(1)), true)
  await txn.commit()
  const rows: number[] = []
  for await (const e of db.scanPrefix(key(TAG.byAuthor, who))) rows.push(Number(e.key[e.key.byteLength - 1]))
  t.alike(rows, [4, 5])
})

test('views txn – index rows of several indexes put in turn are all committed, each index\'s in order; a delPrefix drops only its own', async (t) => {
  const db = await openDb(t)
  const feed = b4a.alloc(32, 0xab) as FeedKey
  const who = b4a.alloc(32, 0x5c)
  const other = b4a.alloc(32, 0x5d)
  const root: MessageRef = { feed, seq: 0 }
  const v = b4a.from('v')
  const txn = db.txn()
  // As a chunk of replies puts them: an author, a thread and a mention row per record, in turn.
  for (let seq = 1; seq <= 6; seq++) {
    const ref = { feed, seq }
    txn.putIndex(keys.byAuthor(seq % 2 === 0 ? who : other, 100 + seq, ref), v)
    txn.putIndex(keys.thread(root, 100 + seq, ref), v)
    txn.putIndex(keys.mention(who, 100 + seq, ref), v)
    if (seq === 4) txn.delPrefix(key(TAG.byAuthor, other))
  }
  txn.put(keys.message({ feed, seq: 9 }), v)
  t.is(txn.size, 18 - 2 + 1 + 1, 'every row left, the range and the put')
  await txn.commit()
  const seqs = async (prefix: Uint8Array): Promise<number[]> => {
    const out: number[] = []
    for await (const e of db.scanPrefix(prefix)) out.push(Number(e.key[e.key.byteLength - 1]))
    return out
  }
  t.alike(await seqs(key(TAG.byAuthor, who)), [2, 4, 6])
  t.alike(await seqs(key(TAG.byAuthor, other)), [5], 'the rows put before the delPrefix are gone, the one after stays')
  t.alike(await seqs(key(TAG.thread)), [1, 2, 3, 4, 5, 6])
  t.alike(await seqs(key(TAG.mention, who)), [1, 2, 3, 4, 5, 6])
  t.is(txn.size, 0, 'a committed batch holds nothing')
})

function isSame (a: StoredPost, b: StoredPost): boolean {
  const ref = (x: MessageRef | null, y: MessageRef | null): boolean => x === null ? y === null : y !== null && x.seq === y.seq && b4a.equals(x.feed, y.feed)
  return b4a.equals(a.author, b.author) && a.timestamp === b.timestamp && a.text === b.text && ref(a.root, b.root) && ref(a.parent, b.parent) &&
    a.cw === b.cw && a.mentions.length === b.mentions.length && a.mentions.every((m, i) => b4a.equals(m, b.mentions[i]))
}

test('views keys – a contact row\'s flags read without its stamps are the flags of the whole decode', (t) => {
  const feed = b4a.alloc(32, 0x7e) as FeedKey
  let checked = 0
  for (const following of [false, true]) {
    for (const blocking of [false, true]) {
      for (const ts of [0, 1, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
        for (const stamps of [0, 1, 2, 3]) {
          const stamp = { ts, ref: { feed, seq: ts === 0 ? 0 : ts - 1 } }
          const raw = encode(storedContact, { following, followStamp: (stamps & 1) !== 0 ? stamp : null, blocking, blockStamp: (stamps & 2) !== 0 ? stamp : null })
          const whole = decode(storedContact, raw)
          t.is(contactBits(raw), (whole.following ? CONTACT_FOLLOWING : 0) | (whole.blocking ? CONTACT_BLOCKING : 0), 'the flags of the whole decode, as bits')
          checked++
        }
      }
    }
  }
  t.is(checked, 64)
  t.exception(() => contactBits(encode(storedContact, { following: true, followStamp: { ts: 5, ref: { feed, seq: 1 } }, blocking: false, blockStamp: null }).subarray(0, 20)), undefined, 'a truncated row throws')
})

test('views keys – eachWithPrefix visits the prefix\'s rows in order across native reads; a throw from the visit rejects the scan', async (t) => {
  const db = await openDb(t)
  const k = (tag: number, n: number): Uint8Array => key(tag, b4a.from([n >> 8, n & 0xff]))
  const txn = db.txn()
  for (let n = 0; n < 2500; n++) txn.put(k(TAG.device, n), b4a.from([n & 0xff])) // more than two reads of 1,024
  txn.put(k(TAG.contact, 1), b4a.from('other prefix'))
  await txn.commit()
  const seen: number[] = []
  let values = 0
  await db.eachWithPrefix(key(TAG.device), true, (row, value) => { seen.push(row[1] * 256 + row[2]); if (value !== null && value[0] === (seen.length - 1) % 256) values++ })
  t.alike(seen, Array.from({ length: 2500 }, (_, n) => n), 'every row once, in key order, none of another prefix')
  t.is(values, 2500, 'with its value')
  let nulls = 0
  await db.eachWithPrefix(key(TAG.device), false, (_row, value) => { if (value === null) nulls++ })
  t.is(nulls, 2500, 'keys only: no value read')
  let visited = 0
  await t.exception(db.eachWithPrefix(key(TAG.device), true, () => { if (++visited === 1500) throw new Error('visit failed') }), /visit failed/)
  t.is(visited, 1500, 'no row visited after the throw')
  t.alike(await db.get(k(TAG.contact, 1)), b4a.from('other prefix'), 'the database still reads')
})

test('views keys – a row known absent, put and deleted again in one batch, writes nothing; others keep their delete', async (t) => {
  const db = await openDb(t)
  const k = (n: number): Uint8Array => key(TAG.reactionRank, b4a.alloc(40, n))
  const v = b4a.from('v')
  const seed = db.txn()
  seed.put(k(3), v) // committed: its delete must be written
  await seed.commit()

  const txn = db.txn()
  txn.assumeAbsent(k(1)) // by an invariant: never there
  txn.put(k(1), v)
  txn.del(k(1))
  t.is(await txn.get(k(2)), null, 'read absent')
  txn.put(k(2), v)
  txn.del(k(2))
  txn.put(k(3), v)
  txn.del(k(3))
  txn.del(k(4)) // unknown: written as a delete
  const before = db.stats
  await txn.commit()
  const after = db.stats
  t.is(after.deletes - before.deletes, 2, 'two deletes written: the committed row and the unknown one')
  t.is(after.puts - before.puts, 0, 'no put')
  for (const n of [1, 2, 3, 4]) t.is(await db.get(k(n)), null, `row ${n} absent`)
})
