/**
 * Primary node state that cannot be recomputed from the feeds, kept apart from the derived views:
 * which device feed is mine and how long it has been (to notice a lost or rolled-back feed),
 * which other feeds this node tracks (a row each), and the open record that a clean close leaves
 * for the next open (a head and 16 shards). A small RocksDB in `<storage>/state/`; a views rebuild never touches it.
 */
import path from '#path'
import b4a from 'b4a'
import c from 'compact-encoding'
import ReadyResource from 'ready-resource'
import RocksDB from 'rocksdb-native'
import { ShoalError } from '../errors.js'
import { refBytes, readUint64BE, writeUint64BE, type FeedKey, type MessageRef } from '../ids.js'
import type { ReceiptStore } from '../views/indexer.js'
import { checkpoint as checkpointEnc, type Checkpoint } from '../views/records.js'
import { openFault, writeFault } from './storage.js'

const TAG = { deviceFeed: 0x01, feedLength: 0x02, tracked: 0x03, migrated: 0x04, receipt: 0x05, notificationsSeen: 0x06, rooms: 0x07, settled: 0x08, openRecord: 0x09 } as const

/** What to do about a damaged node state: it is primary, so nothing can rebuild it. */
export const STATE_ADVICE = 'It holds what the feeds cannot give back (which feeds I track, DM sessions and decrypted DMs, room keys), ' +
  'so it is never started afresh on its own: restore the state folder from a backup, or make a new device from this identity ' +
  'in a new folder: "shoal init --restore PHRASE --storage NEW_FOLDER" (DMs and rooms kept only here are lost)'

/** Rows read per native call when listing feeds (the iterator's default of 8 made 3,000 cost 375 calls). */
const SCAN_CAPACITY = 512

const DEVICE_FEED = b4a.from([TAG.deviceFeed])
const FEED_LENGTH = b4a.from([TAG.feedLength])
const MIGRATED = b4a.from([TAG.migrated])
const NOTIFICATIONS_SEEN = b4a.from([TAG.notificationsSeen])
/** The open record as one row (version 1), as versions before the shards wrote it: read, never written. */
const OPEN_RECORD = b4a.from([TAG.openRecord])
/** The open record's head: its layout version and the views generation its checkpoints belong to. */
const OPEN_HEAD = b4a.from([TAG.openRecord, 0x00])
/** Written when an open has read the record: until the next clean close it is not valid. */
const OPEN_MARK = b4a.from([TAG.openRecord, 0xff])
/** The open record's entries, in shards by the feed key's first byte (a close rewrites the shards that changed). */
const OPEN_SHARDS = 16
const OPEN_SHARD_KEYS = Array.from({ length: OPEN_SHARDS }, (_, i) => b4a.from([TAG.openRecord, 0x01 + i]))
/** The legacy settled rows (one per feed, `settled | feed` → u64 length), read once after an upgrade. */
const LEGACY_SETTLED = { gt: b4a.from([TAG.settled]), lt: b4a.from([TAG.settled + 1]) }

/**
 * What a clean close leaves for the next open, in a head row and 16 shard rows (by the feed
 * key's first byte), so that open reads no row per feed and a close rewrites only the shards
 * whose feeds changed: every tracked feed, those fully indexed with their views checkpoint then
 * (left closed), the others to open. Valid only for the views generation it names (a wiped or
 * replaced views folder has another); marked invalid as soon as an open reads it, so after a
 * crash every feed is opened.
 */
export interface OpenRecord {
  /** The views generation (src/node/storage-checks.ts viewsGeneration) the checkpoints belong to. */
  views: Uint8Array
  settled: SettledFeed[]
  unsettled: FeedKey[]
}

/** A settled feed of the open record: indexed up to `checkpoint` when the node closed. */
export interface SettledFeed { feed: FeedKey, checkpoint: Checkpoint }

/**
 * A settled entry as the open record read at open held it, with its bytes: while it still holds
 * the feed and checkpoint it was read with (its checkpoint is frozen), the next close copies those
 * bytes back instead of encoding it again, so closing a node that tracks thousands of feeds it
 * never opened costs a copy per entry.
 */
class ReadEntry implements SettledFeed {
  readonly #feed: FeedKey
  readonly #checkpoint: Checkpoint
  readonly #bytes: Uint8Array

  constructor (public feed: FeedKey, public checkpoint: Checkpoint, bytes: Uint8Array) {
    this.#feed = feed
    this.#checkpoint = checkpoint
    this.#bytes = bytes
  }

  /** The bytes `v` was read from, if it is a read entry still holding what it was read with. */
  static unchanged (v: SettledFeed): Uint8Array | null {
    return v instanceof ReadEntry && v.feed === v.#feed && v.checkpoint === v.#checkpoint ? v.#bytes : null
  }
}

const settledEntry: c.Encoder<SettledFeed> = {
  preencode (s, v) {
    const bytes = ReadEntry.unchanged(v)
    if (bytes !== null) { s.end += bytes.byteLength; return }
    c.fixed32.preencode(s, v.feed)
    checkpointEnc.preencode(s, v.checkpoint)
  },
  encode (s, v) {
    const bytes = ReadEntry.unchanged(v)
    if (bytes !== null && s.buffer !== null) { s.buffer.set(bytes, s.start); s.start += bytes.byteLength; return }
    c.fixed32.encode(s, v.feed)
    checkpointEnc.encode(s, v.checkpoint)
  },
  decode (s) {
    const start = s.start
    // A view into the row read, not a copy: the entry keeps the row alive for its bytes anyway,
    // and a copy per entry (Buffer.from of a Uint8Array copies byte by byte) took 20 ms at open of 3,000.
    const feed = c.fixed32.decode(s) as FeedKey
    const checkpoint = Object.freeze(checkpointEnc.decode(s))
    return s.buffer === null ? { feed, checkpoint } : new ReadEntry(feed, checkpoint, s.buffer.subarray(start, s.start))
  }
}

/** Version 1: views generation, settled feeds with checkpoints, unsettled feed keys. */
const openRecordEnc: c.Encoder<OpenRecord> = {
  preencode (s, v) {
    c.uint.preencode(s, 1)
    c.buffer.preencode(s, v.views)
    c.array(settledEntry).preencode(s, v.settled)
    c.array(c.fixed32).preencode(s, v.unsettled)
  },
  encode (s, v) {
    c.uint.encode(s, 1)
    c.buffer.encode(s, v.views)
    c.array(settledEntry).encode(s, v.settled)
    c.array(c.fixed32).encode(s, v.unsettled)
  },
  decode (s) {
    const version = c.uint.decode(s)
    if (version !== 1) throw ShoalError.STORAGE_ERROR(`unknown open record version ${version}`)
    const views = b4a.from(c.buffer.decode(s) ?? b4a.alloc(0))
    const settled = c.array(settledEntry).decode(s)
    const unsettled = c.array(c.fixed32).decode(s).map((k) => b4a.from(k) as FeedKey)
    return { views, settled, unsettled }
  }
}

/** One shard of the open record: the settled and unsettled feeds whose key's first byte falls in it. */
const openShardEnc: c.Encoder<{ settled: SettledFeed[], unsettled: FeedKey[] }> = {
  preencode (s, v) {
    c.array(settledEntry).preencode(s, v.settled)
    c.array(c.fixed32).preencode(s, v.unsettled)
  },
  encode (s, v) {
    c.array(settledEntry).encode(s, v.settled)
    c.array(c.fixed32).encode(s, v.unsettled)
  },
  decode (s) {
    const settled = c.array(settledEntry).decode(s)
    const unsettled = c.array(c.fixed32).decode(s).map((k) => b4a.from(k) as FeedKey)
    return { settled, unsettled }
  }
}

/** The open record's head row: layout version 2 (sharded) and the views generation. */
const openHeadEnc: c.Encoder<Uint8Array> = {
  preencode (s, views) { c.uint.preencode(s, 2); c.buffer.preencode(s, views) },
  encode (s, views) { c.uint.encode(s, 2); c.buffer.encode(s, views) },
  decode (s) {
    const version = c.uint.decode(s)
    if (version !== 2) throw ShoalError.STORAGE_ERROR(`unknown open record version ${version}`)
    return b4a.from(c.buffer.decode(s) ?? b4a.alloc(0))
  }
}

function shardOf (feed: FeedKey): number {
  return feed[0] % OPEN_SHARDS
}

/** Every shard of the open record, a bit each (see shardBit). */
export const ALL_SHARDS = (1 << OPEN_SHARDS) - 1

/** The bit of the open record's shard that holds `feed`'s entry. */
export function shardBit (feed: Uint8Array): number {
  return 1 << (feed[0] % OPEN_SHARDS)
}

/** What the open record's rows on disk hold, as the last read or write left them. */
interface OnDisk { views: Uint8Array, settled: number[], unsettled: number[] }

/**
 * Besides the feeds, the state keeps when each message with a future timestamp was first received
 * (the indexer clamps such timestamps to it), so a views rebuild gives the same timeline.
 */
export class NodeState extends ReadyResource implements ReceiptStore {
  private db: RocksDB | null = null
  /** The open record's shards on disk (null: unknown, so the next record is written whole). */
  private onDisk: OnDisk | null = null
  /** Whether legacy settled rows may exist (false once a scan found none). */
  private legacyRows = true

  /**
   * With `create: false` an absent or emptied database is refused (STORAGE_DAMAGED), never started
   * afresh; with `readOnly` it is opened read-only (no file changes; every write fails).
   */
  constructor (readonly path: string, private readonly opts: { create?: boolean, readOnly?: boolean } = {}) {
    super()
  }

  protected override async _open (): Promise<void> {
    const db = new RocksDB(this.path, { blockCache: false, tableCacheIndexAndFilterBlocks: false, createIfMissing: this.opts.create !== false, readOnly: this.opts.readOnly === true })
    try {
      await db.ready()
    } catch (err) {
      await db.close().catch(() => {}) // the failed handle; its open error is what we report
      throw await openFault(path.dirname(this.path), `cannot open the node state in ${this.path}`, err, STATE_ADVICE)
    }
    this.db = db
  }

  protected override async _close (): Promise<void> {
    if (this.db) await this.db.close()
  }

  private get rocks (): RocksDB {
    if (this.db === null) throw ShoalError.CLOSED('node state is not open')
    return this.db
  }

  /** My device feed's key and the longest length it has been seen at, or null on a fresh folder. */
  async deviceFeed (): Promise<{ key: FeedKey, length: number } | null> {
    const [k, n] = await Promise.all([this.rocks.get(DEVICE_FEED), this.rocks.get(FEED_LENGTH)])
    if (k === null) return null
    return { key: b4a.from(k) as FeedKey, length: n === null ? 0 : readUint64BE(n, 0) }
  }

  /** Records my device feed (replacing a lost one) and its length. */
  async setDeviceFeed (key: FeedKey, length: number): Promise<void> {
    await this.write([[DEVICE_FEED, key], [FEED_LENGTH, u64(length)]])
  }

  /** Records how long my device feed is now (after an append). */
  async setFeedLength (length: number): Promise<void> {
    await this.write([[FEED_LENGTH, u64(length)]])
  }

  async trackedFeeds (): Promise<FeedKey[]> {
    const out: FeedKey[] = []
    for await (const { key } of this.rocks.iterator({ gt: b4a.from([TAG.tracked]), lt: b4a.from([TAG.tracked + 1]), capacity: SCAN_CAPACITY })) {
      out.push(b4a.from(key.subarray(1)) as FeedKey)
    }
    return out
  }

  async track (feeds: FeedKey[]): Promise<void> {
    await this.write(feeds.map((f) => [trackedKey(f), b4a.alloc(0)]))
  }

  async untrack (feed: FeedKey): Promise<void> {
    await this.write([[trackedKey(feed), null]])
  }

  /**
   * What the last clean close recorded for this open (see OpenRecord), or null: after a crash
   * (an open read it and no clean close followed), on a fresh folder, or from a version that kept
   * one row per feed (see legacySettledFeeds). One read batch: the head, the shards and the mark.
   * A record that does not decode counts as none (every feed is then opened).
   */
  async openRecord (): Promise<OpenRecord | null> {
    this.onDisk = null
    const batch = this.rocks.read({ capacity: OPEN_SHARDS + 3, autoDestroy: true })
    const reads = [batch.get(OPEN_MARK), batch.get(OPEN_HEAD), batch.get(OPEN_RECORD), ...OPEN_SHARD_KEYS.map((k) => batch.get(k))]
    batch.tryFlush()
    const [mark, head, single, ...shards] = await Promise.all(reads)
    if (mark !== null) return null
    try {
      if (head === null) return single === null ? null : c.decode(openRecordEnc, single)
      const views = c.decode(openHeadEnc, head)
      const record: OpenRecord = { views, settled: [], unsettled: [] }
      const onDisk: OnDisk = { views, settled: [], unsettled: [] }
      for (const raw of shards) {
        const shard = raw === null ? { settled: [], unsettled: [] } : c.decode(openShardEnc, raw)
        for (const e of shard.settled) record.settled.push(e)
        for (const f of shard.unsettled) record.unsettled.push(f)
        onDisk.settled.push(shard.settled.length)
        onDisk.unsettled.push(shard.unsettled.length)
      }
      this.onDisk = onDisk
      return record
    } catch {
      return null // only makes this open slower: every tracked feed is opened
    }
  }

  /**
   * Settled feeds as versions before the open record kept them (one row per feed with its
   * length then), read only when there is no open record (the first open after an upgrade).
   */
  async legacySettledFeeds (): Promise<Array<{ feed: FeedKey, length: number }>> {
    const out: Array<{ feed: FeedKey, length: number }> = []
    for await (const { key, value } of this.rocks.iterator({ ...LEGACY_SETTLED, capacity: SCAN_CAPACITY })) {
      out.push({ feed: b4a.from(key.subarray(1)) as FeedKey, length: readUint64BE(value, 0) })
    }
    this.legacyRows = out.length > 0
    return out
  }

  /**
   * Whether the open record's rows on disk are known (read by openRecord or written since) and
   * belong to views generation `views`: only then may setOpenRecord be given some shards only.
   */
  recordOnDisk (views: Uint8Array): boolean {
    return this.onDisk !== null && b4a.equals(this.onDisk.views, views)
  }

  /**
   * Replaces the open record (null marks it invalid: after a crash every feed is opened) and drops
   * legacy rows. A record for the same views generation as the one on disk rewrites only the
   * shards whose entries changed (an entry read by openRecord and untouched since is unchanged);
   * others are written whole. With `shards` (bits of shardBit) the record holds the entries of
   * those shards only and the others stay as on disk, so a close that changed a few feeds of
   * thousands encodes a few shards (INVALID_ARGUMENT unless recordOnDisk). One atomic write either way.
   */
  async setOpenRecord (record: OpenRecord | null, shards = ALL_SHARDS): Promise<void> {
    if (record !== null && shards !== ALL_SHARDS && !this.recordOnDisk(record.views)) {
      throw ShoalError.INVALID_ARGUMENT('a partial open record needs the rows on disk to be known and of the same views')
    }
    const w = this.rocks.write({ capacity: OPEN_SHARDS + 4, autoDestroy: true })
    if (this.legacyRows) w.tryDeleteRange(LEGACY_SETTLED.gt, LEGACY_SETTLED.lt)
    let onDisk = this.onDisk
    if (record === null) {
      w.tryPut(OPEN_MARK, b4a.alloc(0))
    } else {
      const entries = OPEN_SHARD_KEYS.map(() => ({ settled: [] as SettledFeed[], unsettled: [] as FeedKey[], changed: false }))
      for (const e of record.settled) {
        const shard = entries[shardOf(e.feed)]
        shard.settled.push(e)
        if (!shard.changed && ReadEntry.unchanged(e) === null) shard.changed = true
      }
      for (const f of record.unsettled) entries[shardOf(f)].unsettled.push(f)
      const whole = onDisk === null || !b4a.equals(onDisk.views, record.views)
      if (whole) {
        w.tryPut(OPEN_HEAD, c.encode(openHeadEnc, record.views))
        w.tryDelete(OPEN_RECORD)
      }
      const prev = whole ? null : onDisk
      const next: OnDisk = { views: record.views, settled: [], unsettled: [] }
      entries.forEach((shard, i) => {
        if (prev !== null && (shards & (1 << i)) === 0) { // not given: stays as on disk
          next.settled.push(prev.settled[i])
          next.unsettled.push(prev.unsettled[i])
          return
        }
        next.settled.push(shard.settled.length)
        next.unsettled.push(shard.unsettled.length)
        // Same entries as on disk: every settled one unchanged, none added or gone, none unsettled.
        const same = prev !== null && !shard.changed && shard.unsettled.length === 0 &&
          prev.unsettled[i] === 0 && prev.settled[i] === shard.settled.length
        if (same) return
        if (shard.settled.length === 0 && shard.unsettled.length === 0) w.tryDelete(OPEN_SHARD_KEYS[i])
        else w.tryPut(OPEN_SHARD_KEYS[i], c.encode(openShardEnc, shard))
      })
      w.tryDelete(OPEN_MARK)
      onDisk = next
    }
    try {
      await w.flush()
    } catch (err) {
      this.onDisk = null
      throw await writeFault(this.path, `cannot write the node state in ${this.path}`, err)
    }
    this.onDisk = onDisk
    this.legacyRows = false
  }

  /** First-receipt times (ms) of messages, null where none is recorded. */
  async get (refs: MessageRef[]): Promise<Array<number | null>> {
    if (refs.length === 0) return []
    const batch = this.rocks.read({ capacity: refs.length, autoDestroy: true })
    const all = refs.map((r) => batch.get(receiptKey(r)))
    batch.tryFlush()
    return (await Promise.all(all)).map((v) => v === null ? null : readUint64BE(v, 0))
  }

  /** Whether any first-receipt time is recorded for a message of `feed` (one seek). */
  async hasReceipts (feed: FeedKey): Promise<boolean> {
    const gte = b4a.concat([b4a.from([TAG.receipt]), feed])
    for await (const _ of this.rocks.iterator({ gte, lte: b4a.concat([gte, b4a.alloc(8, 0xff)]), limit: 1 })) return true
    return false
  }

  /** Records first-receipt times (ms). */
  async put (entries: Array<{ ref: MessageRef, at: number }>): Promise<void> {
    await this.write(entries.map((e): [Uint8Array, Uint8Array] => [receiptKey(e.ref), u64(e.at)]))
  }

  /** A rooms record (src/node/room-state.ts owns the layout under the rooms tag), or null. */
  async roomGet (key: Uint8Array): Promise<Uint8Array | null> {
    const v = await this.rocks.get(roomsKey(key))
    return v === null ? null : b4a.from(v)
  }

  /** Writes (value null: deletes) rooms records in one batch. */
  async roomPut (entries: Array<[Uint8Array, Uint8Array | null]>): Promise<void> {
    await this.write(entries.map(([k, v]): [Uint8Array, Uint8Array | null] => [roomsKey(k), v]))
  }

  /** Every rooms record whose key starts with `prefix`, in key order (keys without the prefix). */
  async roomScan (prefix: Uint8Array): Promise<Array<{ key: Uint8Array, value: Uint8Array }>> {
    const gt = roomsKey(prefix)
    const lt = after(gt)
    const out: Array<{ key: Uint8Array, value: Uint8Array }> = []
    for await (const { key, value } of this.rocks.iterator({ gte: gt, lt })) out.push({ key: b4a.from(key.subarray(gt.byteLength)), value: b4a.from(value) })
    return out
  }

  /** Whether a one-time migration (by name) already ran. */
  async migrated (name: string): Promise<boolean> {
    return (await this.rocks.get(b4a.concat([MIGRATED, b4a.from(name)]))) !== null
  }

  /** Until when (ms, notification time) the person has seen their notifications; 0 when never. */
  async notificationsSeen (): Promise<number> {
    const v = await this.rocks.get(NOTIFICATIONS_SEEN)
    return v === null ? 0 : readUint64BE(v, 0)
  }

  /** Records that notifications up to `at` (ms) were seen; never moves the marker back. */
  async setNotificationsSeen (at: number): Promise<number> {
    const seen = Math.max(at, await this.notificationsSeen())
    await this.write([[NOTIFICATIONS_SEEN, u64(seen)]])
    return seen
  }

  /** Marks a one-time migration done, in the same write as the tracked feeds and receipts it moved. */
  async finishMigration (name: string, feeds: FeedKey[], receipts: Array<{ ref: Uint8Array, at: Uint8Array }>): Promise<void> {
    await this.write([
      ...feeds.map((f): [Uint8Array, Uint8Array] => [trackedKey(f), b4a.alloc(0)]),
      ...receipts.map((r): [Uint8Array, Uint8Array] => [b4a.concat([b4a.from([TAG.receipt]), r.ref]), r.at]),
      [b4a.concat([MIGRATED, b4a.from(name)]), b4a.alloc(0)]
    ])
  }

  /** One value of another primary-state module (its own key prefix, e.g. the DM store's), or null. */
  async getRaw (key: Uint8Array): Promise<Uint8Array | null> {
    return this.rocks.get(key)
  }

  /** Entries of a key range, in key order (or reversed), for another primary-state module. */
  async scanRaw (range: { gt?: Uint8Array, gte?: Uint8Array, lt?: Uint8Array, lte?: Uint8Array, reverse?: boolean, limit?: number }): Promise<Array<{ key: Uint8Array, value: Uint8Array }>> {
    const out: Array<{ key: Uint8Array, value: Uint8Array }> = []
    for await (const e of this.rocks.iterator(range)) out.push({ key: e.key, value: e.value })
    return out
  }

  /** Writes (value) and deletes (null) in one atomic batch, for another primary-state module. */
  async writeRaw (entries: Array<[Uint8Array, Uint8Array | null]>): Promise<void> {
    await this.write(entries)
  }

  /** Compacts a key range so deleted and overwritten values (old DM keys) leave the files on disk. */
  async compactRaw (start: Uint8Array, end: Uint8Array): Promise<void> {
    await this.rocks.compactRange(start, end)
  }

  private async write (entries: Array<[Uint8Array, Uint8Array | null]>): Promise<void> {
    if (entries.length === 0) return
    const w = this.rocks.write({ capacity: entries.length, autoDestroy: true })
    for (const [k, v] of entries) {
      if (v === null) w.tryDelete(k)
      else w.tryPut(k, v)
    }
    try {
      await w.flush()
    } catch (err) {
      throw await writeFault(this.path, `cannot write the node state in ${this.path}`, err)
    }
  }
}

function receiptKey (ref: MessageRef): Uint8Array {
  return b4a.concat([b4a.from([TAG.receipt]), refBytes(ref)])
}

/** The first key after every key that starts with `prefix` (`prefix` is never all 0xff: it starts with a tag). */
function after (prefix: Uint8Array): Uint8Array {
  const out = b4a.from(prefix)
  let i = out.byteLength - 1
  while (out[i] === 0xff) i--
  out[i]!++
  return out.subarray(0, i + 1)
}

function roomsKey (key: Uint8Array): Uint8Array {
  return b4a.concat([b4a.from([TAG.rooms]), key])
}

function trackedKey (feed: Uint8Array): Uint8Array {
  return b4a.concat([b4a.from([TAG.tracked]), feed])
}

function u64 (n: number): Uint8Array {
  const b = b4a.alloc(8)
  writeUint64BE(b, 0, n)
  return b
}
