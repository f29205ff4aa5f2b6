/**
 * When a read-only open (ShoalOptions.readOnly) may answer as a read-write one would: the views
 * hold everything the feeds on disk hold, so the read-write open would index nothing first.
 */
import b4a from 'b4a'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { VIEWS_VERSION } from '../caps.js'
import { ShoalError } from '../errors.js'
import { readHeader } from '../feeds/header.js'
import type { FeedKey, IdentityKey } from '../ids.js'
import { META_VERSION, keys } from '../views/keys.js'
import type { Views } from '../views/queries.js'
import { checkpoint as checkpointEnc, decode } from '../views/records.js'
import type { ViewDb } from '../views/view-db.js'
import type { NodeState, OpenRecord } from './node-state.js'
import { viewsGeneration } from './storage-checks.js'

/** Feeds the open record lists as unsettled that are looked at one by one (a core opened each); with more, the open declines. */
const UNSETTLED_CHECKED = 64

/** What a read-only open has opened: the node state, views, Corestore, queries, and my identity. */
export interface Stored { state: NodeState, db: ViewDb, store: Corestore, views: Views, me: IdentityKey }

/**
 * The open record of the last clean close, when the stored views are current: of this views
 * version and not rebuilt, the node state migrated out of views/ with no legacy settled rows, the
 * record there (no open since that close, no crash) and of these views' generation, each feed it
 * lists as unsettled holding nothing to index (nothingToIndex), and my feed `mine` indexed to its
 * end. READ_ONLY otherwise (saying why).
 */
export async function settledRecord (s: Stored, mine: Hypercore): Promise<OpenRecord> {
  const [version, migrated, record, legacy, generation, checkpoint] = await Promise.all([
    s.db.get(META_VERSION),
    s.state.migrated('views-node-state'),
    s.state.openRecord(),
    s.state.legacySettledFeeds(),
    viewsGeneration(s.db, false),
    s.db.get(keys.checkpoint(mine.key as Uint8Array))
  ])
  const unsettled = (why: string): ShoalError => ShoalError.READ_ONLY(`the stored views may not be current: ${why}`)
  if (version === null || version[0] !== VIEWS_VERSION || s.db.repaired !== null) throw unsettled('views of another version')
  if (!migrated || legacy.length > 0) throw unsettled('node state of an older version')
  if (record === null || generation === null || !b4a.equals(record.views, generation)) throw unsettled('no record of a clean close for these views')
  if (record.unsettled.length > UNSETTLED_CHECKED) throw unsettled(`${record.unsettled.length} feeds not indexed to their end`)
  for (const feed of record.unsettled) {
    if (!(await nothingToIndex(s, feed))) throw unsettled('a feed is not indexed to its end')
  }
  const indexed = checkpoint === null ? 0 : decode(checkpointEnc, checkpoint).position
  if (indexed < mine.length) throw unsettled('my feed is not indexed to its end')
  return record
}

/**
 * Whether a read-write open would index nothing of `feed`: its views checkpoint covers every
 * block stored here, or its header names someone I block (their feeds stay unindexed). False
 * when that cannot be told (no core or no valid header stored).
 */
async function nothingToIndex (s: Stored, feed: FeedKey): Promise<boolean> {
  const core = s.store.get({ key: feed })
  try {
    await core.ready()
    const raw = await s.db.get(keys.checkpoint(feed))
    if ((raw === null ? 0 : decode(checkpointEnc, raw).position) >= core.contiguousLength) return true
    const block = core.length > 0 ? await core.get(0, { wait: false }) : null
    return block !== null && await s.views.blocks(s.me, readHeader(block, feed).identity)
  } catch {
    return false // not readable here: the read-write open decides
  } finally {
    await core.close().catch(() => {}) // a read-only session: closing it writes nothing
  }
}
