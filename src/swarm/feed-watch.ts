/**
 * Watches the tracked feeds of other people: which identity each one belongs to (from the
 * attested header it was learnt from, or its block 0), and what went wrong with it on the wire:
 * a fork (two signed versions of the feed), a block over the record cap (dropped at once), or the
 * identity's storage cap reached. Flags are shown per feed in `status`.
 */
import type Hypercore from 'hypercore'
import safetyCatch from 'safety-catch'
import { readHeader } from '../feeds/header.js'
import { CAPS } from '../feeds/schema.js'
import { toHex, type FeedKey, type IdentityKey } from '../ids.js'

export type FeedFlag = 'fork' | 'oversize' | 'storage-cap'

export interface FeedIssue { flag: FeedFlag, detail: string, at: number }

export interface FeedWatchOptions {
  /** Bytes stored per remote identity (all its device feeds, as their Merkle trees state them). */
  storagePerIdentity?: number
  now?: () => number
  /** Called when a feed must stop being tracked (oversize block, storage cap); it is not taken again. */
  onRefuse?: (feed: FeedKey) => void
}

export const DEFAULT_STORAGE_PER_IDENTITY = 256 * 1024 * 1024

interface Watched { core: Hypercore, owner: string | null }

export class FeedWatch {
  private readonly feeds = new Map<string, Watched>()
  /** Issues per feed (hex), kept after the feed is refused so `status` can show why. */
  private readonly flagged = new Map<string, { owner: string | null, issues: FeedIssue[] }>()
  private readonly refused = new Set<string>()
  private flags = 0
  readonly storagePerIdentity: number
  private readonly now: () => number
  private readonly onRefuse: (feed: FeedKey) => void

  constructor (opts: FeedWatchOptions = {}) {
    this.storagePerIdentity = opts.storagePerIdentity ?? DEFAULT_STORAGE_PER_IDENTITY
    this.now = opts.now ?? Date.now
    this.onRefuse = opts.onRefuse ?? (() => {})
  }

  /** Starts watching a tracked feed; `owner` is the identity its attested header named, if known. */
  add (core: Hypercore, owner: IdentityKey | null = null): void {
    const hex = toHex(core.key as Uint8Array)
    const known = this.feeds.get(hex)
    if (known !== undefined) { if (owner !== null) known.owner = toHex(owner); return }
    const w: Watched = { core, owner: owner === null ? null : toHex(owner) }
    this.feeds.set(hex, w)
    core.on('conflict', (length: number, fork: number) => this.flag(w, 'fork', `two signed versions at length ${length} (fork ${fork})`))
    core.on('truncate', (length: number, fork: number) => this.flag(w, 'fork', `truncated to ${length} (fork ${fork})`))
    core.on('download', (index: number, byteLength: number) => {
      // The stated byte length changes on append, not on download: only the block size is checked here.
      if (byteLength > CAPS.record) this.refuse(w, 'oversize', `block ${index} is ${byteLength} bytes, over the ${CAPS.record}-byte record cap`)
    })
    core.on('append', () => { if (this.checkBlocks(w)) this.checkStorage(w) })
    if (!this.checkBlocks(w)) return
    if (w.owner === null) this.learnOwner(w).catch(safetyCatch)
    else this.checkStorage(w)
  }

  /** Stops watching a feed (it is no longer tracked). */
  remove (feed: Uint8Array): void {
    this.feeds.delete(toHex(feed))
  }

  /** A feed refused earlier in this run (oversize block, storage cap): never tracked again. */
  isRefused (feed: Uint8Array): boolean {
    return this.refused.has(toHex(feed))
  }

  /** Every watched feed whose header names `identity`. */
  feedsOf (identity: Uint8Array): FeedKey[] {
    const id = toHex(identity)
    const out: FeedKey[] = []
    for (const w of this.feeds.values()) if (w.owner === id) out.push(w.core.key as FeedKey)
    return out
  }

  /** Issues flagged so far (a status poller compares it rather than reading them all). */
  get issueCount (): number {
    return this.flags
  }

  /** What went wrong with a feed (empty when nothing did). */
  issues (feed: Uint8Array): FeedIssue[] {
    return this.flagged.get(toHex(feed))?.issues ?? []
  }

  /** Flagged feeds (hex) of `identity` (hex), refused ones included. */
  flaggedOf (identity: string): string[] {
    const out: string[] = []
    for (const [feed, f] of this.flagged) if (f.owner === identity) out.push(feed)
    return out
  }

  /** Identities (hex) with at least one flagged feed. */
  flaggedOwners (): string[] {
    const out = new Set<string>()
    for (const f of this.flagged.values()) if (f.owner !== null) out.add(f.owner)
    return [...out]
  }

  /** Bytes of every watched feed of `identity` (hex), as their Merkle trees state them. */
  bytesOf (identity: string): number {
    let n = 0
    for (const w of this.feeds.values()) if (w.owner === identity) n += w.core.byteLength
    return n
  }

  private async learnOwner (w: Watched): Promise<void> {
    await w.core.ready()
    const block = await w.core.get(0) as Uint8Array | null
    if (block === null || w.owner !== null) return
    try {
      w.owner = toHex(readHeader(block, w.core.key as Uint8Array).identity)
    } catch {
      // An invalid header names nobody; the indexer counts the feed's blocks as malformed.
      return
    }
    this.checkStorage(w)
  }

  /**
   * Before any block downloads, the signed tree states the feed's length and byte length: more
   * bytes than `length` full records means some block is over the cap. False when refused.
   */
  private checkBlocks (w: Watched): boolean {
    const { length, byteLength } = w.core
    if (byteLength <= length * CAPS.record) return true
    this.refuse(w, 'oversize', `its ${length} blocks state ${byteLength} bytes: at least one is over the ${CAPS.record}-byte record cap`)
    return false
  }

  /** The byte length is known from the tree before the blocks download, so the cap holds early. */
  private checkStorage (w: Watched): void {
    if (w.owner === null) return
    const bytes = this.bytesOf(w.owner)
    if (bytes <= this.storagePerIdentity) return
    // The newest feeds past the cap go first; older ones keep what fits.
    const mine = [...this.feeds.values()].filter((o) => o.owner === w.owner)
    let total = bytes
    for (let i = mine.length - 1; i >= 0 && total > this.storagePerIdentity; i--) {
      total -= mine[i].core.byteLength
      this.refuse(mine[i], 'storage-cap', `its identity's feeds state ${bytes} bytes, over the cap of ${this.storagePerIdentity}`)
    }
  }

  private refuse (w: Watched, flag: FeedFlag, detail: string): void {
    const key = w.core.key as FeedKey
    this.flag(w, flag, detail)
    if (this.refused.has(toHex(key))) return
    this.refused.add(toHex(key))
    this.feeds.delete(toHex(key))
    this.onRefuse(key)
  }

  private flag (w: Watched, flag: FeedFlag, detail: string): void {
    this.flags++
    const hex = toHex(w.core.key as Uint8Array)
    let f = this.flagged.get(hex)
    if (f === undefined) this.flagged.set(hex, f = { owner: w.owner, issues: [] })
    f.owner = w.owner
    if (f.issues.some((i) => i.flag === flag)) return
    f.issues.push({ flag, detail, at: this.now() })
  }
}
