/**
 * Read side of the views: the questions the CLI and UI ask. Every answer is attributed to
 * identities, hides what the local identity blocks, and shows edits and deletions resolved.
 */
import b4a from 'b4a'
import z32 from 'z32'
import { ShoalError } from '../errors.js'
import { identityToString, readUint64BE, refBytes, refFromBytes, refToString, type FeedKey, type IdentityKey, toHex, type MessageRef, z32String } from '../ids.js'
import { TAG, key, keys, prefixEnd } from './keys.js'
import {
  CONTACT_BLOCKING, CONTACT_FOLLOWING, contactBits, contactFlags, count, decode, feedIdentity, reactionSummary, reactor, storedAbout, storedContact, storedEdit, storedPost,
  type ReactionSummary, type StoredEdit, type StoredPost
} from './records.js'
import { listNotifications } from './notifications.js'
import type { RocksStats, ScanRange, ViewDb } from './view-db.js'
import type { Item, Notification, Page, Profile } from './types.js'

export type { Item, Notification, Page, Profile } from './types.js'

export interface TimelineQuery { limit?: number, before?: string | null, author?: IdentityKey | null }

/** A thread page request: `before` is the `next` cursor of the page before (replies oldest first). */
export interface ThreadQuery { limit?: number, before?: string | null }

/** One page of a thread; `next` continues it (null on the last page). */
export interface ThreadPage { root: Item | null, replies: Item[], next: string | null }

const MAX_LIMIT = 500
const CURSOR_BYTES = 48
const REF_BYTES = 40
/** Distinct emoji shown per post (the most used); more only costs the reader. */
const MAX_REACTION_KINDS = 100
/** Contact scans in flight at once when walking follow hops (each is a native iterator). */
const HOP_READS = 64
/** Author names kept across pages (a name is at most CAPS.name bytes: well under 2 MiB in all). */
const NAME_CACHE = 4096
/** About rows read in one native batch by namesOf (a list of thousands of people is a few batches). */
const NAMES_BATCH = 1024

/**
 * Someone's follows and blocks; `blocked` is `blocking` as a set of hex keys and `blockedIds` as
 * a set of ids (z-base32, as pages name authors), each made once and kept with my own.
 */
interface Contacts { following: IdentityKey[], blocking: IdentityKey[], blocked: Set<string>, blockedIds: Set<string> }

export class Views {
  /** My own follows and blocks, asked by every query: cached until a contact record is indexed. */
  private mine: Promise<Contacts> | null = null
  /** Author names by identity id (z-base32), shared by pages: cached until an about record is indexed. */
  private readonly names = new Map<string, string | null>()
  /** Bumped by invalidateNames(): a name read before it is not kept (it may predate the change). */
  private generation = 0

  constructor (private readonly db: ViewDb, private readonly me: IdentityKey) {}

  /** Native calls of the views database since it opened (reads and writes, for benchmarks). */
  io (): RocksStats {
    return this.db.stats
  }

  /** RocksDB's background work now (compactions, flushes), for benchmarks. */
  background (): Promise<{ compactions: number, flushes: number, pending: boolean }> {
    return this.db.background()
  }

  /** Drops cached answers; the node calls it when the indexer changes follows or blocks (or reindexes). */
  invalidate (): void {
    this.mine = null
    this.invalidateNames()
  }

  /** Drops cached author names; the node calls it when the indexer indexed an about record. */
  invalidateNames (): void {
    this.names.clear()
    this.generation++
  }

  private rememberName (id: string, name: string | null): void {
    if (this.names.size >= NAME_CACHE) this.names.delete(this.names.keys().next().value as string)
    this.names.set(id, name)
  }

  private async contactsOf (who: Uint8Array): Promise<Contacts> {
    const following: IdentityKey[] = []
    const blocking: IdentityKey[] = []
    // The targets are copied into shared slabs (a view each): no Buffer and no copy per row.
    let slab = EMPTY
    let used = 0
    await this.db.eachWithPrefix(key(TAG.contact, who), true, (k, value) => {
      if (k.byteLength !== 65) return // their blocker marker (keys.blocker), not a contact row
      const bits = contactBits(value!)
      if (bits === 0) return
      if (used === slab.byteLength) { slab = new Uint8Array(SLAB_KEYS * 32); used = 0 }
      for (let i = 0; i < 32; i++) slab[used + i] = k[33 + i]
      const target = slab.subarray(used, used + 32) as IdentityKey
      used += 32
      if ((bits & CONTACT_BLOCKING) !== 0) blocking.push(target)
      else following.push(target)
    })
    return { following, blocking, blocked: hexSet(blocking), blockedIds: idSet(blocking) }
  }

  private myContacts (): Promise<Contacts> {
    if (this.mine === null) {
      const p = this.contactsOf(this.me)
      this.mine = p
      p.catch(() => { if (this.mine === p) this.mine = null })
    }
    return this.mine
  }

  /** Identities `who` follows (and does not block), as far as we know, leaving out those I block. */
  async following (who: Uint8Array): Promise<IdentityKey[]> {
    if (b4a.equals(who, this.me)) return await this.followRows(who) // never someone I block
    const [mine, theirs] = await Promise.all([this.myContacts(), this.followRows(who)])
    return mine.blocked.size === 0 ? theirs : theirs.filter((f) => !mine.blocked.has(toHex(f)))
  }

  /** Whom `who` follows as their contact rows say (and does not block), with no filter of mine. */
  private async followRows (who: Uint8Array): Promise<IdentityKey[]> {
    return (b4a.equals(who, this.me) ? await this.myContacts() : await this.contactsOf(who)).following
  }

  /** Identities `who` blocks. */
  async blocking (who: Uint8Array): Promise<IdentityKey[]> {
    return (b4a.equals(who, this.me) ? await this.myContacts() : await this.contactsOf(who)).blocking
  }

  /** Whether `who` blocks `target` (one row read; `blocking` lists them all). */
  async blocks (who: Uint8Array, target: Uint8Array): Promise<boolean> {
    const raw = await this.db.get(keys.contact(who, target))
    return raw !== null && decode(storedContact, raw).blocking
  }

  /** Hop distance from me along follow edges, up to `maxHops`; identities I block are excluded. */
  async hops (maxHops: number): Promise<Map<string, number>> {
    const dist = new Map<string, number>()
    await this.walk(maxHops, (h, _id, hop) => dist.set(h, hop))
    return dist
  }

  /** The identities of hops(maxHops) (hex → key, me included), with no hex decoded per identity. */
  async inRange (maxHops: number): Promise<Map<string, IdentityKey>> {
    const out = new Map<string, IdentityKey>()
    await this.walk(maxHops, (h, id) => out.set(h, id as IdentityKey))
    return out
  }

  /** Visits me, then each identity within `maxHops` follow edges once, nearest first; blocked ones excluded. */
  private async walk (maxHops: number, visit: (hex: string, id: Uint8Array, hop: number) => void): Promise<void> {
    const blocked = (await this.myContacts()).blocked
    const dist = new Set<string>([toHex(this.me)])
    visit(toHex(this.me), this.me, 0)
    let frontier: Uint8Array[] = [this.me]
    let frontierHex: string[] = [toHex(this.me)]
    for (let hop = 1; hop <= maxHops && frontier.length > 0; hop++) {
      const next: Uint8Array[] = []
      const nextHex: string[] = []
      // Only identities with a follower marker have follow rows: past one round of reads, one scan
      // of the markers costs less than a scan per identity (most follows may follow nobody here).
      const walk = frontier.length > HOP_READS ? await this.withFollows(frontier, frontierHex) : frontier
      // HOP_READS contact scans in flight at once, merged in frontier order (the same map as one by one).
      for (let i = 0; i < walk.length; i += HOP_READS) {
        // As their rows say: the loop below leaves out whom I block (following() would filter them twice).
        const lists = await Promise.all(walk.slice(i, i + HOP_READS).map((id) => this.followRows(id)))
        for (const list of lists) {
          for (const f of list) {
            const h = toHex(f)
            if (dist.has(h) || blocked.has(h)) continue
            dist.add(h)
            visit(h, f, hop)
            next.push(f)
            nextHex.push(h)
          }
        }
      }
      frontier = next
      frontierHex = nextHex
    }
  }

  /** The identities of `ids` (hex `hexes`) that have followed someone here (a follower marker), in order. */
  private async withFollows (ids: Uint8Array[], hexes: string[]): Promise<Uint8Array[]> {
    const marked = new Set<string>()
    await this.db.eachWithPrefix(keys.followers(), false, (k) => { marked.add(toHex(k.subarray(1))) })
    return ids.filter((_id, i) => marked.has(hexes[i]))
  }

  /** Device feeds attested by `identity` that we hold. */
  async feedsOf (identity: Uint8Array): Promise<FeedKey[]> {
    const out: FeedKey[] = []
    for await (const { key: k } of this.db.scanPrefix(key(TAG.device, identity))) out.push(b4a.from(k.subarray(33, 65)) as FeedKey)
    return out
  }

  /**
   * Every identity with an attested device feed we hold (me included), by hex, with those feeds: one
   * scan of the device rows (they sort by identity). Ids and feeds are views of the row keys.
   */
  async held (): Promise<Map<string, { id: IdentityKey, feeds: FeedKey[] }>> {
    const out = new Map<string, { id: IdentityKey, feeds: FeedKey[] }>()
    let last: { id: IdentityKey, feeds: FeedKey[] } | null = null
    await this.db.eachWithPrefix(key(TAG.device), false, (k) => {
      const id = k.subarray(1, 33) as IdentityKey
      if (last === null || !b4a.equals(last.id, id)) {
        last = { id, feeds: [] }
        out.set(toHex(id), last)
      }
      last.feeds.push(k.subarray(33, 65) as FeedKey)
    })
    return out
  }

  /**
   * Calls `visit` once with each identity that has an attested device feed we hold (me included),
   * in key order: one scan of the device rows, keeping no list. `id` is a view of the row's key.
   */
  async eachHeld (visit: (id: IdentityKey) => void): Promise<void> {
    let last: Uint8Array | null = null
    await this.db.eachWithPrefix(key(TAG.device), false, (k) => {
      if (last !== null && sameRange(last, k, 1, 33)) return
      last = k
      visit(new Uint8Array(k.buffer, k.byteOffset + 1, 32) as IdentityKey)
    })
  }

  /** The identity a feed's header attests, or null when unknown or invalid. */
  async identityOf (feed: Uint8Array): Promise<IdentityKey | null> {
    const raw = await this.db.get(keys.feedIdentity(feed))
    if (raw === null) return null
    const fi = decode(feedIdentity, raw)
    return fi.valid ? fi.identity : null
  }

  async post (ref: MessageRef): Promise<StoredPost | null> {
    const raw = await this.db.get(keys.message(ref))
    return raw === null ? null : decode(storedPost, raw)
  }

  /** Whether `who`'s `emoji` reaction on `target` is on (indexed and not taken back). */
  async reacted (who: Uint8Array, target: MessageRef, emoji: string): Promise<boolean> {
    const raw = await this.db.get(keys.reactor(who, target, emoji))
    return raw !== null && decode(reactor, raw).on
  }

  /**
   * Home timeline (me and whom I follow, not blocked: the home index, see home.ts) or one author's
   * posts (their byAuthor rows), newest first: one scan of `limit + 1` rows either way, which hold
   * the posts, then one batch of reads for their reaction summaries and uncached author names (and
   * one for edits when a post on the page has any).
   */
  async timeline (q: TimelineQuery = {}): Promise<Page> {
    const limit = clampLimit(q.limit)
    const prefix = q.author ? key(TAG.byAuthor, q.author) : key(TAG.home)
    const before = q.before ? parseCursor(q.before) : null
    const range = { gte: prefix, lt: before ? b4a.concat([prefix, before]) : prefixEnd(prefix), reverse: true, limit: limit + 1 }
    const [mine, rows] = await Promise.all([this.myContacts(), this.db.entriesIn(range)])
    if (q.author && mine.blocked.has(toHex(q.author))) return { items: [], next: null }
    const n = Math.min(rows.keys.length, limit)
    const refs: MessageRef[] = new Array(n)
    for (let i = 0; i < n; i++) refs[i] = refAt(rows.keys[i], rows.keys[i].byteLength - REF_BYTES)
    const shown = await this.render(refs, rows.values, mine.blockedIds)
    return { items: shown.filter((r): r is Item => r !== null), next: rows.keys.length > limit ? cursorOf(rows.keys[n - 1]) : null }
  }

  /**
   * One page of a thread: its root and up to `limit` replies (default 50) in (timestamp, feed, seq)
   * order, each after the reply it answers when both are on the page or it is on an earlier one.
   * `before` is the previous page's `next` cursor; `next` is null on the last page. `ref` may be
   * any message in the thread. Costs one seek and `limit` rows (which hold the replies), however
   * long the thread, read together with the root, then one batch as a timeline page does.
   * Throws UNKNOWN_MESSAGE when neither the root nor any reply is known, INVALID_ID for a bad cursor.
   */
  async thread (ref: MessageRef, q: ThreadQuery = {}): Promise<ThreadPage> {
    const limit = clampLimit(q.limit)
    const after = q.before ? parseCursor(q.before) : null
    // `ref` is most often the root: its row and the replies under it are read at once, and read
    // again under the real root only when `ref` turns out to be a reply.
    const [mine, startRaw, guess] = await Promise.all([this.myContacts(), this.db.get(keys.message(ref)), this.db.entriesIn(threadRange(ref, after, limit))])
    const start = startRaw === null ? null : decode(storedPost, startRaw)
    let rootRef = ref
    let rootRaw = startRaw
    let rows = guess
    if (start !== null && start.root !== null) {
      rootRef = start.root
      ;[rootRaw, rows] = await Promise.all([this.db.get(keys.message(rootRef)), this.db.entriesIn(threadRange(rootRef, after, limit))])
    }
    const more = rows.keys.length > limit
    const n = more ? limit : rows.keys.length
    const refs: MessageRef[] = new Array(n + 1)
    const raws: Array<Uint8Array | null> = new Array(n + 1)
    refs[0] = rootRef
    raws[0] = rootRaw
    for (let i = 0; i < n; i++) { refs[i + 1] = refAt(rows.keys[i], rows.keys[i].byteLength - REF_BYTES); raws[i + 1] = rows.values[i] }
    const shown = await this.render(refs, raws, mine.blockedIds)
    const root = shown[0]
    const replies = parentsFirst(shown.slice(1).filter((r): r is Item => r !== null), root?.id ?? refToString(rootRef))
    if (!root && replies.length === 0 && after === null && !more) throw ShoalError.UNKNOWN_MESSAGE(`no message or thread ${refToString(ref)} is known here`)
    return { root, replies, next: more ? cursorOf(rows.keys[n - 1]) : null }
  }

  /** Posts that mention `who` (default me), newest first. */
  async mentions (opts: { limit?: number, who?: IdentityKey } = {}): Promise<{ items: Item[] }> {
    const limit = clampLimit(opts.limit)
    const blocked = hexSet(await this.blocking(this.me))
    const refs: MessageRef[] = []
    for await (const { key: k, value } of this.db.scanPrefix(key(TAG.mention, opts.who ?? this.me), { reverse: true })) {
      if (blocked.has(toHex(value))) continue
      refs.push(refFromBytes(k, k.byteLength - 40))
      if (refs.length >= limit) break
    }
    return { items: await this.items(refs, idSet(await this.blocking(this.me))) }
  }

  /** `who`'s name, bio and counts of follows and followers, none of them someone I block. */
  async profile (who: IdentityKey): Promise<Profile> {
    const raw = await this.db.get(keys.about(who))
    const about = raw === null ? null : decode(storedAbout, raw)
    return {
      id: identityToString(who),
      name: about?.name ?? null,
      bio: about?.bio ?? null,
      following: (await this.following(who)).length,
      followers: (await this.followers(who)).length
    }
  }

  async nameOf (who: Uint8Array): Promise<string | null> {
    const raw = await this.db.get(keys.about(who))
    return raw === null ? null : decode(storedAbout, raw).name
  }

  /** The names of `ids` (null where unknown), in order: one native batch per NAMES_BATCH ids, not a read each. */
  async namesOf (ids: Uint8Array[]): Promise<Array<string | null>> {
    const out: Array<string | null> = []
    for (let i = 0; i < ids.length; i += NAMES_BATCH) {
      const raws = await this.db.getMany(ids.slice(i, i + NAMES_BATCH).map((id) => keys.about(id)))
      for (const raw of raws) out.push(raw === null ? null : decode(storedAbout, raw).name)
    }
    return out
  }

  /** Identities that follow `who` (and do not block them), as far as we know, leaving out those I block. */
  async followers (who: Uint8Array): Promise<IdentityKey[]> {
    const out: IdentityKey[] = []
    const { blocked } = await this.myContacts()
    const prefix = key(TAG.contactReverse, who)
    for await (const { key: k, value } of this.db.scanPrefix(prefix)) {
      const f = decode(contactFlags, value)
      const follower = k.subarray(prefix.byteLength, prefix.byteLength + 32)
      if (f.following && !f.blocking && !blocked.has(toHex(follower))) out.push(b4a.from(follower) as IdentityKey)
    }
    return out
  }

  /** Posts by ref in the given order, as timelines show them; deleted, missing and blocked ones are left out. */
  async itemsOf (refs: MessageRef[]): Promise<Item[]> {
    return this.items(refs, idSet(await this.blocking(this.me)))
  }

  /** For each ref, the emoji the local identity has on it (its reactor rows that are on). */
  async myReactions (refs: MessageRef[]): Promise<string[][]> {
    return Promise.all(refs.map(async (r) => {
      const prefix = key(TAG.reactor, this.me, refBytes(r))
      const out: string[] = []
      for await (const { key: k, value } of this.db.scanPrefix(prefix, { limit: MAX_REACTION_KINDS })) {
        if (decode(reactor, value).on) out.push(b4a.toString(k.subarray(prefix.byteLength)))
      }
      return out
    }))
  }

  /**
   * Who reacted to a post, by emoji (the MAX_REACTION_KINDS most used), with when (ms), by reactor
   * and each one's emoji most used first; identities I block are left out, and those in `skip`
   * (hex). One scan of the post's by-target reactor rows: it costs the reactions on the post, not
   * the identities held.
   */
  async reactors (ref: MessageRef, skip?: Set<string>): Promise<Array<{ emoji: string, who: IdentityKey, at: number }>> {
    const counts = await this.reactions(ref, await this.db.get(keys.reactionSummary(ref)))
    const rank = new Map(Object.keys(counts).map((emoji, i) => [emoji, i]))
    if (rank.size === 0) return []
    const blocked = (await this.myContacts()).blocked
    const prefix = keys.reactorsOn(ref)
    const out: Array<{ emoji: string, who: IdentityKey, at: number }> = []
    const rows = await this.db.entriesWithPrefix(prefix)
    for (let i = 0; i < rows.keys.length; i++) {
      const k = rows.keys[i]
      const who = k.subarray(prefix.byteLength, prefix.byteLength + 32)
      const emoji = b4a.toString(k.subarray(prefix.byteLength + 32))
      const hex = toHex(who)
      if (!rank.has(emoji) || blocked.has(hex) || skip?.has(hex) === true) continue
      out.push({ emoji, who: b4a.from(who) as IdentityKey, at: readUint64BE(rows.values[i], 0) })
    }
    // Rows come by reactor, then emoji bytes: within a reactor, most used first.
    return out.sort((a, b) => b4a.compare(a.who, b.who) || (rank.get(a.emoji) as number) - (rank.get(b.emoji) as number))
  }

  /** What happened to me, newest first (see notifications.ts). */
  notifications (opts: { limit?: number } = {}): Promise<Notification[]> {
    return listNotifications(this.db, this, this.me, clampLimit(opts.limit))
  }


  /**
   * Reaction counts of one post by emoji, the MAX_REACTION_KINDS most used, most used first (an
   * emoji such as `__proto__` is an ordinary own key). `raw` is the post's summary row.
   */
  private async reactions (ref: MessageRef, raw: Uint8Array | null): Promise<Record<string, number>> {
    return summaryCounts(raw === null ? null : decode(reactionSummary, raw)) ?? await this.rankedCounts(ref)
  }

  /**
   * The counts of a post with more kinds than its summary row holds: a scan of its ranked rows
   * (kinds with two reactions or more), then, short of MAX_REACTION_KINDS, a scan of its count rows
   * for the kinds with one (in the ranked rows' order: emoji bytes descending). The second scan
   * passes fewer than MAX_REACTION_KINDS rows of other counts, so it reads at most twice that.
   */
  private async rankedCounts (ref: MessageRef): Promise<Record<string, number>> {
    const ranked: Array<[string, number]> = []
    const prefix = keys.reactionRanks(ref)
    for await (const { key: k } of this.db.scanPrefix(prefix, { reverse: true, limit: MAX_REACTION_KINDS })) {
      ranked.push([b4a.toString(k.subarray(prefix.byteLength + 8)), readUint64BE(k, prefix.byteLength)])
    }
    if (ranked.length === MAX_REACTION_KINDS) return ownKeys(ranked)
    const counts = keys.reactionSummary(ref) // the summary row's key is the prefix of the post's count rows
    for await (const { key: k, value } of this.db.scanPrefix(counts, { reverse: true })) {
      if (k.byteLength === counts.byteLength || decode(count, value) !== 1) continue
      ranked.push([b4a.toString(k.subarray(counts.byteLength)), 1])
      if (ranked.length === MAX_REACTION_KINDS) break
    }
    return ownKeys(ranked)
  }

  /** Renders posts in the given order, dropping missing, deleted and blocked ones (`blocked`: ids). */
  private async items (refs: MessageRef[], blocked: Set<string>): Promise<Item[]> {
    const shown = await this.render(refs, await this.db.getMany(refs.map((r) => keys.message(r))), blocked)
    return shown.filter((r): r is Item => r !== null)
  }

  /**
   * Renders the posts `raws` (their message rows, in the order of `refs`): null where missing,
   * deleted or blocked (`blocked` holds ids, z-base32). One native batch for their reaction
   * summaries and the author names not cached, and one more only when a summary row says a post
   * on the page was edited.
   */
  private async render (refs: MessageRef[], raws: Array<Uint8Array | null>, blocked: Set<string>): Promise<Array<Item | null>> {
    const posts: Array<{ at: number, ref: MessageRef, post: StoredPost, author: Author }> = []
    const authors = new Map<string, Author>()
    const unnamed: Author[] = []
    for (let i = 0; i < refs.length; i++) {
      const raw = raws[i]
      if (raw === null) continue
      const post = decode(storedPost, raw)
      // The author's id names them on the page and keys the maps: no second string (hex) per post.
      const id = identityToString(post.author)
      if (blocked.has(id)) continue
      let author = authors.get(id)
      if (author === undefined) {
        const name = this.names.get(id)
        author = { key: post.author, id, name: name ?? null }
        authors.set(id, author)
        if (name === undefined) unnamed.push(author)
      }
      posts.push({ at: i, ref: refs[i], post, author })
    }
    const n = posts.length
    const reads: Uint8Array[] = new Array(n + unnamed.length)
    for (let i = 0; i < n; i++) reads[i] = keys.reactionSummary(posts[i].ref)
    for (let i = 0; i < unnamed.length; i++) reads[n + i] = keys.about(unnamed[i].key)
    const generation = this.generation
    const extra = await this.db.getMany(reads)
    for (let i = 0; i < unnamed.length; i++) {
      const r = extra[n + i]
      const a = unnamed[i]
      if (r !== null) a.name = decode(storedAbout, r).name
      if (generation === this.generation) this.rememberName(a.id, a.name)
    }
    // Reaction counts come from the summary row; only a post with more kinds than a summary holds
    // needs a scan of its ranked rows, and only a post whose row is marked edited a read of its edit.
    const counts: Array<Record<string, number>> = new Array(n)
    const edits: Array<StoredEdit | null> = new Array(n).fill(null)
    const more: Array<Promise<void>> = []
    const edited: number[] = []
    for (let i = 0; i < n; i++) {
      const raw = extra[i]
      const summary = raw === null ? null : decode(reactionSummary, raw)
      const c = summaryCounts(summary)
      counts[i] = c ?? {}
      if (c === null) more.push(this.rankedCounts(posts[i].ref).then((r) => { counts[i] = r }))
      if (summary?.edits === true) edited.push(i)
    }
    if (edited.length > 0) {
      more.push(this.db.getMany(edited.map((i) => keys.edit(posts[i].post.author, posts[i].ref))).then((raws) => {
        raws.forEach((r, j) => { if (r !== null) edits[edited[j]] = decode(storedEdit, r) })
      }))
    }
    if (more.length > 0) await Promise.all(more)
    const out: Array<Item | null> = new Array(refs.length).fill(null)
    // A thread's replies share their root: its id is made once.
    let lastRoot: MessageRef | null = null
    let lastRootId = ''
    for (let i = 0; i < n; i++) {
      const { at, ref, post, author } = posts[i]
      const edit = edits[i]
      let root: string | null = null
      if (post.root !== null) {
        if (lastRoot === null || lastRoot.seq !== post.root.seq || !b4a.equals(lastRoot.feed, post.root.feed)) {
          lastRoot = post.root
          lastRootId = refToString(post.root)
        }
        root = lastRootId
      }
      out[at] = {
        id: refToString(ref),
        author: author.id,
        authorName: author.name,
        text: edit?.text ?? post.text,
        timestamp: post.timestamp,
        root,
        parent: post.parent ? refToString(post.parent) : null,
        cw: post.cw,
        mentions: post.mentions.map(identityToString),
        reactions: counts[i],
        edited: edit !== null
      }
    }
    return out
  }
}

/** A page's author: its key, id and name. */
interface Author { key: IdentityKey, id: string, name: string | null }

/** The counts a post's (decoded) summary row holds ({} with no row), or null when the post has more kinds than a row holds. */
function summaryCounts (summary: ReactionSummary | null): Record<string, number> | null {
  if (summary === null) return {}
  return summary.entries === null ? null : countsOf(summary.entries)
}

/** A summary row's counts, most used first (the order of the ranked rows: count, then emoji bytes, both descending). */
function countsOf (entries: Array<[string, number]>): Record<string, number> {
  entries.sort((x, y) => y[1] - x[1] || b4a.compare(b4a.from(y[0]), b4a.from(x[0])))
  return ownKeys(entries)
}

/** Counts by emoji as own keys (an emoji such as `__proto__` is an ordinary key). */
function ownKeys (ranked: Array<[string, number]>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [emoji, n] of ranked) Object.defineProperty(out, emoji, { value: n, enumerable: true, writable: true, configurable: true })
  return out
}

function clampLimit (limit: number | undefined): number {
  if (limit === undefined) return 50
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw ShoalError.INVALID_ARGUMENT(`limit must be an integer from 1 to ${MAX_LIMIT}`)
  return limit
}

/** A timeline cursor (from a page's `next`), or INVALID_ID. */
export function parseCursor (s: string): Uint8Array {
  let buf: Uint8Array
  try {
    buf = z32.decode(s)
  } catch (err) {
    throw new ShoalError('INVALID_ID', `malformed cursor: ${s.slice(0, 80)}`, { cause: err })
  }
  if (buf.byteLength !== CURSOR_BYTES || z32.encode(buf) !== s) throw ShoalError.INVALID_ID(`malformed cursor: ${s.slice(0, 80)}`)
  return buf
}

/**
 * Reorders replies (given in stamp order) so that each comes after its parent when the parent is
 * in the list, keeping stamp order otherwise. Replies whose parents form a cycle keep stamp order.
 */
function parentsFirst (replies: Item[], rootId: string): Item[] {
  // Most pages answer only the root, which is not a reply: nothing moves, and no set or map is made.
  if (replies.every((r) => r.id !== rootId && (r.parent === null || r.parent === rootId))) return replies
  const present = new Set(replies.map((r) => r.id))
  const waiting = new Map<string, Item[]>()
  const placed = new Set<string>()
  const out: Item[] = []
  const place = (r: Item): void => {
    const stack = [r]
    while (stack.length > 0) {
      const x = stack.pop() as Item
      if (placed.has(x.id)) continue
      placed.add(x.id)
      out.push(x)
      const children = waiting.get(x.id)
      if (children === undefined) continue
      waiting.delete(x.id)
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
    }
  }
  for (const r of replies) {
    if (r.parent !== null && present.has(r.parent) && !placed.has(r.parent)) {
      const list = waiting.get(r.parent)
      if (list === undefined) waiting.set(r.parent, [r])
      else list.push(r)
    } else {
      place(r)
    }
  }
  for (const r of replies) if (!placed.has(r.id)) place(r)
  return out
}

/** The thread rows of `root` after the cursor `after` (or from the first), `limit + 1` of them. */
function threadRange (root: MessageRef, after: Uint8Array | null, limit: number): ScanRange {
  const prefix = key(TAG.thread, refBytes(root))
  return { gt: after ? b4a.concat([prefix, after]) : prefix, lt: prefixEnd(prefix), limit: limit + 1 }
}

/** Whether `a` and `b` hold the same bytes in [start, end). */
function sameRange (a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false
  return true
}

/** Identity keys per slab of contactsOf (32 KiB). */
const SLAB_KEYS = 1024
const EMPTY = new Uint8Array(0)

function hexSet (list: Uint8Array[]): Set<string> {
  return new Set(list.map(toHex))
}

function idSet (list: Uint8Array[]): Set<string> {
  return new Set(list.map(identityToString))
}

/**
 * The ref at `offset` of a row key read for one page, as a view of the key (refFromBytes copies
 * the feed key): the page's refs are dropped with its rows, and the row keys are never written.
 */
function refAt (k: Uint8Array, offset: number): MessageRef {
  return { feed: k.subarray(offset, offset + 32) as FeedKey, seq: readUint64BE(k, offset + 32) }
}

/** The `next` cursor after a page's last row: its key's (timestamp, ref) tail. */
function cursorOf (k: Uint8Array): string {
  return z32String(k.subarray(k.byteLength - CURSOR_BYTES))
}
