/**
 * The tracked feeds a node leaves closed, by hex key, remembering which shards of the open record
 * (src/node/node-state.ts) they changed since it was read, so a clean close rewrites those shards
 * only and does no work per feed it never opened.
 */
import { ALL_SHARDS, shardBit, type SettledFeed } from './node-state.js'

/** A Map of closed feeds (hex → entry) whose every set and delete marks the entry's shard as changed. */
export class ClosedFeeds<V extends SettledFeed> extends Map<string, V> {
  /** Shards (bits of shardBit) whose entries may differ from the open record read at open. */
  changed = ALL_SHARDS

  override set (hex: string, entry: V): this {
    super.set(hex, entry)
    this.changed |= shardBit(entry.feed)
    return this
  }

  override delete (hex: string): boolean {
    const entry = this.get(hex)
    if (entry !== undefined) this.changed |= shardBit(entry.feed)
    return super.delete(hex)
  }

  override clear (): void {
    super.clear()
    this.changed = ALL_SHARDS
  }

  /** Marks every shard as matching the open record: call once the entries read from it are in. */
  matchRecord (): void {
    this.changed = 0
  }
}
