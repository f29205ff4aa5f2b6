/**
 * When a read-only open (ShoalOptions.readOnly) may answer as a read-write one would: the views
 * hold everything the feeds on disk hold, so the read-write open would index nothing first.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { VIEWS_VERSION } from '../caps.js'
import { ShoalError } from '../errors.js'
import { META_VERSION, keys } from '../views/keys.js'
import { checkpoint as checkpointEnc, decode } from '../views/records.js'
import type { ViewDb } from '../views/view-db.js'
import type { NodeState, OpenRecord } from './node-state.js'
import { viewsGeneration } from './storage-checks.js'

/**
 * The open record of the last clean close, when the stored views are current: of this views
 * version and not rebuilt, the node state migrated out of views/ with no legacy settled rows, the
 * record there (no open since that close, no crash) and of these views' generation with every
 * tracked feed settled, and my feed `mine` indexed to its end. READ_ONLY otherwise (saying why).
 */
export async function settledRecord (state: NodeState, db: ViewDb, mine: Hypercore): Promise<OpenRecord> {
  const [version, migrated, record, legacy, generation, checkpoint] = await Promise.all([
    db.get(META_VERSION),
    state.migrated('views-node-state'),
    state.openRecord(),
    state.legacySettledFeeds(),
    viewsGeneration(db, false),
    db.get(keys.checkpoint(mine.key as Uint8Array))
  ])
  const unsettled = (why: string): ShoalError => ShoalError.READ_ONLY(`the stored views may not be current: ${why}`)
  if (version === null || version[0] !== VIEWS_VERSION || db.repaired !== null) throw unsettled('views of another version')
  if (!migrated || legacy.length > 0) throw unsettled('node state of an older version')
  if (record === null || generation === null || !b4a.equals(record.views, generation)) throw unsettled('no record of a clean close for these views')
  if (record.unsettled.length > 0) throw unsettled(`${record.unsettled.length} feeds not indexed to their end`)
  const indexed = checkpoint === null ? 0 : decode(checkpointEnc, checkpoint).position
  if (indexed < mine.length) throw unsettled('my feed is not indexed to its end')
  return record
}
