/**
 * Holds a room's caps on the wire for the writers of other devices: a block whose op is over
 * ROOM_CAPS.op is flagged `oversize`, and a writer whose log states more bytes than the
 * per-writer storage cap is flagged `storage-cap`. Autobase must still fetch and linearize every
 * node (other members' nodes point at them), so such blocks are cleared from local storage as
 * soon as Autobase has indexed them: it reads a writer's unindexed blocks again when it reopens,
 * never its indexed ones. A block that is no Autobase node at all is dropped at once (Autobase
 * can never use it). An indexer's blocks are kept: Autobase reads its checkpoints back from
 * them. See docs/ROOMS.md, "Caps on the wire".
 */
import b4a from 'b4a'
import safetyCatch from 'safety-catch'
import type Autobase from 'autobase'
import type Hypercore from 'hypercore'
import { ShoalError } from '../errors.js'
import { ROOM_CAPS } from './room-caps.js'

export type WriterFlag = 'oversize' | 'storage-cap'

/** One thing wrong with a writer; `at` is ms since the epoch (the watch's clock). */
export interface WriterIssue { flag: WriterFlag, detail: string, at: number }

/**
 * A flagged writer: its key, the bytes its log states (signed tree), the blocks cleared here so
 * far, whether its blocks are kept (an indexer's), and its issues.
 */
export interface WriterReport { writer: Uint8Array, bytes: number, clearedBlocks: number, kept: boolean, issues: WriterIssue[] }

/** Bytes of one room writer's log kept in local storage by default. */
export const DEFAULT_STORAGE_PER_WRITER = 64 * 1024 * 1024

/** `bytes` when it is a whole number of bytes of at least one op (ROOM_CAPS.op); INVALID_ARGUMENT otherwise. */
export function checkStoragePerWriter (bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < ROOM_CAPS.op) throw ShoalError.INVALID_ARGUMENT(`storagePerWriter is a whole number of bytes, at least ${ROOM_CAPS.op} (not ${String(bytes)})`)
  return bytes
}

export interface RoomWriterWatchOptions {
  /** Bytes of each other writer's log kept in local storage; default DEFAULT_STORAGE_PER_WRITER. */
  storagePerWriter?: number
  now?: () => number
  /** Called when a writer gets a flag it did not have (see reports()). */
  onFlag?: () => void
}

interface Watched {
  key: Uint8Array
  /** The newest Autobase writer object for this key (Autobase closes idle writers and makes new ones). */
  writer: Autobase.Writer
  /** Blocks over the op cap, waiting to be indexed before they are cleared. */
  oversize: Set<number>
  /** Blocks that are no Autobase node, dropped at once in this run. */
  dropped: Set<number>
  /** The first block past the storage cap (null: under it). */
  capFrom: number | null
  /** The storage-cap range is cleared from capFrom up to this. */
  clearedTo: number
  /** Blocks cleared here in this run. */
  cleared: number
  kept: boolean
  issues: WriterIssue[]
}

export class RoomWriterWatch {
  readonly #base: Autobase<unknown>
  readonly #watched = new Map<string, Watched>()
  readonly #pending = new Set<Promise<void>>()
  readonly #now: () => number
  readonly #onFlag: () => void
  #clearing: Promise<void> | null = null
  #again = false
  #closed = false
  readonly storagePerWriter: number

  /** Watches every writer `base` opens from now on (make it before `base.ready()`); INVALID_ARGUMENT for a cap under ROOM_CAPS.op. */
  constructor (base: Autobase<unknown>, opts: RoomWriterWatchOptions = {}) {
    this.#base = base
    this.storagePerWriter = checkStoragePerWriter(opts.storagePerWriter ?? DEFAULT_STORAGE_PER_WRITER)
    this.#now = opts.now ?? Date.now
    this.#onFlag = opts.onFlag ?? (() => {})
    base.on('writer', (w: Autobase.Writer) => this.#track(this.#add(w)))
  }

  /** Flagged writers, in the order first flagged. */
  reports (): WriterReport[] {
    const out: WriterReport[] = []
    for (const w of this.#watched.values()) {
      if (w.issues.length > 0) out.push({ writer: w.key, bytes: w.writer.core.byteLength, clearedBlocks: w.cleared, kept: w.kept, issues: w.issues.slice() })
    }
    return out
  }

  /** Clears what Autobase has indexed since the last call (call on every update of the base). */
  update (): void {
    if (this.#closed) return
    if (this.#clearing !== null) {
      this.#again = true
      return
    }
    this.#clearing = this.#clearIndexed()
      .catch(safetyCatch) // a clear that failed (the store is closing) is tried again on the next update
      .finally(() => { this.#clearing = null })
    this.#track(this.#clearing)
  }

  /** Clears what is indexed now and resolves when no check or clear is running. */
  async idle (): Promise<void> {
    this.update()
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** Resolves when no check or clear is running; none starts after (before the base closes). */
  async close (): Promise<void> {
    this.#closed = true
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  #track (p: Promise<void>): void {
    const done = p.catch(safetyCatch).finally(() => this.#pending.delete(done))
    this.#pending.add(done)
  }

  async #add (writer: Autobase.Writer): Promise<void> {
    const core = writer.core
    if (this.#closed || core.writable) return
    const hex = b4a.toString(core.key!, 'hex')
    let w = this.#watched.get(hex)
    if (w === undefined) {
      w = { key: core.key!, writer, oversize: new Set(), dropped: new Set(), capFrom: null, clearedTo: 0, cleared: 0, kept: false, issues: [] }
      this.#watched.set(hex, w)
    }
    w.writer = writer
    const watched = w
    core.on('download', (index: number, byteLength: number) => {
      // only a block over the op cap in bytes can hold an op over it
      if (byteLength > ROOM_CAPS.op) this.#track(this.#checkBlock(watched, core, index, byteLength))
      // the tree nodes to find where the cap falls may have come with this block
      if (watched.capFrom === null && core.byteLength > this.storagePerWriter) this.#track(this.#checkStorage(watched))
    })
    core.on('append', () => { this.#track(this.#checkStorage(watched)) })
    await this.#checkStorage(w)
    if (writer.indexed >= core.length) return
    // blocks stored but not yet indexed when the room last closed are checked again here
    await this.#withRaw(watched, async raw => {
      for (let i = writer.indexed; i < raw.length && !this.#closed; i++) {
        const block = (await raw.has(i)) ? await raw.get(i, { wait: false }) : null
        if (block !== null && block.byteLength > ROOM_CAPS.op) await this.#checkBlock(watched, core, i, block.byteLength)
      }
    })
  }

  /** Decodes the block as Autobase does: an op over the cap, or no Autobase node at all, is oversize. */
  async #checkBlock (w: Watched, core: Hypercore, index: number, byteLength: number): Promise<void> {
    if (this.#closed || w.oversize.has(index)) return
    let size: number | null
    try {
      const block = await core.get(index, { wait: false }) as unknown as { node?: { value?: Uint8Array | null } } | null
      if (block === null) return
      size = block.node?.value?.byteLength ?? 0
    } catch (err) {
      if (core.closing !== null) return // Autobase closed this writer's session: the next one checks again
      safetyCatch(err)
      size = null // not an Autobase node: Autobase freezes the writer at it
    }
    if (size === null) {
      this.#flag(w, 'oversize', `block ${index} (${byteLength} bytes) is not an Autobase node (the writer stops at it), over the ${ROOM_CAPS.op}-byte op cap`)
      await this.#dropUndecodable(w, index)
      return
    }
    if (size <= ROOM_CAPS.op) return
    w.oversize.add(index)
    this.#flag(w, 'oversize', `block ${index} (${byteLength} bytes) holds a ${size}-byte op, over the ${ROOM_CAPS.op}-byte op cap`)
    // Indexed already (the check of a reopen's unindexed blocks can end after the base indexed
    // them): cleared once the base's update in progress has stored its indexed state (a block
    // cleared before that would be read again on a reopen), not at some later update.
    if (index < w.writer.indexed) this.#track(this.#base.update().then(() => this.update()))
  }

  /**
   * A block that is no Autobase node is never linearized (Autobase freezes its writer there), so it
   * is dropped at once. Fetched again in the same run (the frozen writer's download range), it is
   * kept rather than dropped in a loop; an indexer's is kept.
   */
  async #dropUndecodable (w: Watched, index: number): Promise<void> {
    if (this.#isIndexer(w)) {
      w.kept = true
      return
    }
    if (w.dropped.has(index)) return
    w.dropped.add(index)
    await this.#withRaw(w, raw => raw.clear(index, index + 1))
    w.cleared++
  }

  #isIndexer (w: Watched): boolean {
    return (this.#base.system?.indexers ?? []).some(i => b4a.equals(i.key, w.key))
  }

  /** The log's byte length is known from its signed tree before its blocks download. */
  async #checkStorage (w: Watched): Promise<void> {
    const core = w.writer.core
    if (this.#closed || w.capFrom !== null || core.byteLength <= this.storagePerWriter) return
    const at = await this.#withRaw(w, raw => raw.seek(this.storagePerWriter, { wait: false }))
    if (at === null || w.capFrom !== null) return
    w.capFrom = at[0]
    this.#flag(w, 'storage-cap', `its log states ${core.byteLength} bytes, over the cap of ${this.storagePerWriter}: blocks from ${at[0]} on are not kept`)
  }

  #flag (w: Watched, flag: WriterFlag, detail: string): void {
    if (w.issues.some(i => i.flag === flag)) return
    w.issues.push({ flag, detail, at: this.#now() })
    this.#onFlag()
  }

  async #clearIndexed (): Promise<void> {
    do {
      this.#again = false
      for (const w of this.#watched.values()) {
        if (this.#closed) return
        if (w.oversize.size === 0 && w.capFrom === null) continue
        w.kept = this.#isIndexer(w) // Autobase reads an indexer's checkpoints back from its blocks
        if (!w.kept) await this.#clearWriter(w)
      }
    } while (this.#again && !this.#closed)
  }

  async #clearWriter (w: Watched): Promise<void> {
    const indexed = w.writer.indexed
    const from = w.capFrom === null ? indexed : Math.max(w.capFrom, w.clearedTo)
    const ranges: Array<[number, number]> = from < indexed ? [[from, indexed]] : []
    for (const i of w.oversize) {
      if (i >= indexed) continue
      w.oversize.delete(i)
      if (i < from) ranges.push([i, i + 1]) // else in the storage-cap range above
    }
    if (ranges.length === 0) return
    await this.#withRaw(w, async raw => {
      for (const [start, end] of ranges) {
        await raw.clear(start, end)
        w.cleared += end - start
      }
    })
    if (w.capFrom !== null) w.clearedTo = Math.max(w.clearedTo, indexed)
  }

  /** Runs `fn` on a session of the writer's core without encryption (its blocks as stored). */
  async #withRaw<T> (w: Watched, fn: (raw: Hypercore) => Promise<T>): Promise<T> {
    const raw = this.#base.store.get({ key: w.key, active: false })
    try {
      await raw.ready()
      return await fn(raw)
    } finally {
      await raw.close()
    }
  }
}
