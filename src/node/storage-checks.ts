/**
 * What Shoal checks while it opens a storage folder: that the Corestore and the views open (with
 * errors that say what happened and what to do), that my device feed is still there and no
 * shorter than it has been, and that node state older versions kept in views/ has moved out.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import safetyCatch from 'safety-catch'
import sodium from 'sodium-universal'
import { DEVICE_FEED_NAME } from '../caps.js'
import { ShoalError } from '../errors.js'
import { readHeader } from '../feeds/header.js'
import { decodeRecord } from '../feeds/schema.js'
import { feedToString, type FeedKey } from '../ids.js'
import { META_VERSION, VIEWS_GENERATION, keys, TAG, key } from '../views/keys.js'
import { checkpoint as checkpointEnc, decode } from '../views/records.js'
import { ViewDb } from '../views/view-db.js'
import type { NodeState } from './node-state.js'
import { quarantineFolder } from './storage-repair.js'
import { openFault, storageFault, type StoragePaths } from './storage.js'

/**
 * RocksDB options of cores/ (hypercore-storage), bounded like the views database: its default
 * memtable is 64 MiB, which replication fills when a first sync writes many feeds at once. Not 8 MiB
 * like the views: the full-disk test of storage-faults then fails (see ARCHITECTURE.md "Memory").
 */
export const CORES_ROCKS_OPTIONS = { writeBufferSize: 16 * 1024 * 1024, maxWriteBufferNumber: 2, blockCache: false, tableCacheIndexAndFilterBlocks: false }

/**
 * Opens the Corestore in cores/, mapping its failures to coded errors (a copied folder, a lock, a
 * full disk, damaged files). With `create: false` (its database existed) a database whose files
 * are gone is refused (STORAGE_DAMAGED), never started afresh over what is left. With `readOnly`
 * (and `create: false`) nothing in cores/ changes: no device file, no lock, every write fails.
 */
export async function openCorestore (paths: StoragePaths, create = true, readOnly = false): Promise<Corestore> {
  // Corestore passes no RocksDB options to the storage it makes: Shoal makes the storage itself.
  const store = new Corestore(Hypercore.defaultStorage(paths.cores, { ...CORES_ROCKS_OPTIONS, createIfMissing: create, readOnly }), { readOnly })
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {}) // the failed store; its open error is what we report
    throw await corestoreError(paths, err)
  }
  return store
}

/**
 * Closes a Corestore; when a damaged database fails its close (hypercore-storage flushes first and
 * stops there), still releases its RocksDB handle and device-file lock, so the folder can be opened
 * again (or moved aside and replaced) without ending the process, then rethrows.
 */
export async function closeCorestore (store: Corestore): Promise<void> {
  try {
    await store.close()
  } catch (err) {
    const storage = (store as unknown as { storage?: { rocks?: Closable, deviceFile?: Closable | null } }).storage
    await storage?.rocks?.close().catch(safetyCatch)
    await storage?.deviceFile?.close().catch(safetyCatch)
    throw err
  }
}

interface Closable { close (): Promise<void> }

/**
 * Opens views/, starting a fresh one when it is damaged (ViewDb moves it aside): on open, or when
 * the first read fails on corruption. `repaired` on the result says why. With `readOnly` nothing
 * changes: a damaged folder fails the open (STORAGE_ERROR).
 */
export async function openViews (paths: StoragePaths, readOnly = false): Promise<ViewDb> {
  // Read-only, a damaged views folder is left where it is: the open fails instead.
  const db = new ViewDb(paths.views, readOnly ? { readOnly } : { files: { quarantine: quarantineFolder } })
  try {
    await db.ready()
  } catch (err) {
    throw await openFault(paths.root, `cannot open the views in ${paths.views}`, err)
  }
  try {
    await db.get(META_VERSION)
  } catch (err) {
    if (db.damaged === null || readOnly) {
      await db.close()
      throw storageFault(`cannot read the views in ${paths.views}`, err)
    }
    await db.wipeDerived() // damaged: replaced by an empty database, which Shoal rebuilds
  }
  return db
}

export interface DeviceFeedCheck {
  /** My feed is shorter than it has been: DeviceFeed must not write (not even a header). */
  rolledBack: { length: number, expected: number } | null
  /** The lost device feed that a new one replaced (`newDeviceFeed`), or null. */
  replaced: FeedKey | null
}

/**
 * Checks that my device feed in cores/ is the one recorded in the node state and no shorter than
 * it has been (by the state's record and the views' checkpoint). A missing feed is refused
 * (DEVICE_FEED_MISSING) unless `newDeviceFeed`, which tracks the lost one read-only instead.
 */
export async function checkDeviceFeed (paths: StoragePaths, store: Corestore, state: NodeState, db: ViewDb, newDeviceFeed: boolean): Promise<DeviceFeedCheck> {
  const recorded = await state.deviceFeed()
  const probe = store.get({ name: DEVICE_FEED_NAME })
  let length: number
  let feed: FeedKey
  try {
    await probe.ready()
    length = probe.length
    feed = probe.key as FeedKey
  } catch (err) {
    // The Corestore opened but my feed's rows do not read (a damaged blob or table file).
    throw await openFault(paths.root, `cannot read my device feed in ${paths.cores}`, err, coresAdvice(paths))
  } finally {
    await probe.close().catch(safetyCatch)
  }
  if (recorded !== null && !b4a.equals(recorded.key, feed)) {
    if (!newDeviceFeed) {
      throw ShoalError.DEVICE_FEED_MISSING(`my device feed ${feedToString(recorded.key)} (${recorded.length} blocks) is no longer in ${paths.cores}; ` +
        'it was deleted or replaced. Restore the folder from a backup, or run "shoal init --new-feed" to start a fresh device feed for this identity ' +
        '(the lost feed is then tracked read-only, so peers that hold it bring its posts back)')
    }
    await state.track([recorded.key])
    return { rolledBack: null, replaced: recorded.key }
  }
  const ckRaw = await db.get(keys.checkpoint(feed))
  const indexed = ckRaw === null ? 0 : decode(checkpointEnc, ckRaw).position
  const expected = Math.max(recorded?.length ?? 0, indexed)
  return { rolledBack: length < expected ? { length, expected } : null, replaced: null }
}

/**
 * Whether a node state that is not on disk was lost rather than never made: my device feed in
 * cores/ already published DM keys, whose secret halves only the node state held (versions
 * before the node state had no DMs, so their folders migrate instead). Reads my feed, which
 * only a missing state/ makes this open do.
 */
export async function stateWasLost (store: Corestore): Promise<boolean> {
  const probe = store.get({ name: DEVICE_FEED_NAME })
  try {
    await probe.ready()
    for (let seq = 1; seq < probe.length; seq++) {
      const block = await probe.get(seq, { wait: false })
      if (block === null) continue
      try {
        if (decodeRecord(block).type === 'keys') return true
      } catch (err) {
        if (!(err instanceof ShoalError)) throw err // a malformed block of mine says nothing about the state
      }
    }
    return false
  } finally {
    await probe.close()
  }
}

/**
 * The id of the views' current generation (a wipe, a rebuild or a new views folder starts a new
 * one), so a record of their checkpoints kept elsewhere (the open record in state/) can tell
 * whether it still describes them. With `create`, makes one where there is none; else null then.
 */
export async function viewsGeneration (db: ViewDb, create: boolean): Promise<Uint8Array | null> {
  const id = await db.get(VIEWS_GENERATION)
  if (id !== null || !create) return id === null ? null : b4a.from(id)
  const fresh = b4a.alloc(16)
  sodium.randombytes_buf(fresh)
  const w = db.txn()
  w.put(VIEWS_GENERATION, fresh)
  await w.commit()
  return fresh
}

/**
 * Moves the tracked-feed list and the first-receipt times out of views/ (where older versions
 * kept them) into the node state, once. The list also takes every other device feed stored in
 * cores/, so a views folder that was damaged or deleted before this migration loses no feed.
 */
export async function migrateNodeState (state: NodeState, db: ViewDb, store: Corestore, mine: FeedKey): Promise<boolean> {
  if (await state.migrated('views-node-state')) return false
  const tracked: FeedKey[] = await deviceFeedsOnDisk(store, mine)
  for await (const { key: k } of db.scanPrefix(key(TAG.trackedFeed))) tracked.push(b4a.from(k.subarray(1)) as FeedKey)
  const receipts: Array<{ ref: Uint8Array, at: Uint8Array }> = []
  for await (const { key: k, value } of db.scanPrefix(key(TAG.receipt))) receipts.push({ ref: b4a.from(k.subarray(1)), at: b4a.from(value) })
  await state.finishMigration('views-node-state', tracked, receipts)
  return true
}

/** Keys of every device feed stored in cores/ (a core whose block 0 is a valid feed header) but mine. */
async function deviceFeedsOnDisk (store: Corestore, mine: FeedKey): Promise<FeedKey[]> {
  const out: FeedKey[] = []
  for await (const discoveryKey of store.list()) {
    const auth = await store.getAuth(discoveryKey)
    if (auth === null || b4a.equals(auth.key, mine)) continue
    const core = store.get({ key: auth.key })
    try {
      await core.ready()
      const block = core.length > 0 ? await core.get(0, { wait: false }) : null
      if (block === null) continue
      readHeader(block, auth.key)
      out.push(b4a.from(auth.key) as FeedKey)
    } catch (err) {
      if (!(err instanceof ShoalError)) throw err // not a device feed (a bad header): not tracked
    } finally {
      await core.close()
    }
  }
  return out
}

/** The coded error for a Corestore that does not open, with what happened and what to do. */
async function corestoreError (paths: StoragePaths, err: unknown): Promise<ShoalError> {
  const e = err as { code?: unknown, message?: unknown } | null
  const detail = String(e?.message ?? err)
  if (e?.code === 'DEVICE_FILE') {
    return ShoalError.STORAGE_ERROR(`${paths.cores} was copied or moved from where it was made (${detail}). ` +
      'A copy must not run as the same device: two copies appending to one feed would fork it. ' +
      'Run the original folder, or make a new device from this identity: "shoal init --restore PHRASE --storage NEW_FOLDER"', err)
  }
  return await openFault(paths.root, `cannot open ${paths.cores}`, err, coresAdvice(paths))
}

/** What to do about a damaged cores/: it holds my feed, so it is never started afresh on its own. */
export function coresAdvice (paths: StoragePaths): string {
  // Not "restore it from a backup": a copied cores/ is refused as another device (its device file).
  return 'It holds my device feed and every feed I replicate, so it is never started afresh on its own: ' +
    `move it aside ("mv ${paths.cores} ${paths.cores}.damaged") and run "shoal init --new-feed": a fresh device feed starts, ` +
    'and peers that hold my old feed and the feeds I follow bring their posts back'
}
