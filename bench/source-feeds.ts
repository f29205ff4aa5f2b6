/**
 * The shared data set: N device feeds of N distinct identities, each a valid header at block 0 and
 * then P posts, written straight into a source Corestore with batch appends. The last post of every
 * feed replies to the first post of feed 0, so that one thread has N replies.
 *
 * The source keeps a session open on every core while it serves: with 100 cores that corestore
 * has to open passively on request, in-process replication stalled (hypercore 11.39, corestore 7.12).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord, type PostRecord } from '../src/feeds/schema.js'
import type { FeedKey, IdentityKey, MessageRef } from '../src/ids.js'

export interface SourceFeed { key: FeedKey, identity: IdentityKey }

export interface SourceSet {
  store: Corestore
  feeds: SourceFeed[]
  /** Blocks per feed, header included. */
  length: number
  messages: number
  threadRoot: MessageRef
  /** Replies in the thread of `threadRoot`. */
  threadReplies: number
  bytes: number
  close (): Promise<void>
}

const FILLER = 'the quick brown fish swims with the shoal past the reef at dawn, '

/** A post body of about 100-140 bytes, distinct per feed and seq. */
export function postText (feed: number, seq: number): string {
  return `post ${feed}/${seq}: ` + FILLER.slice(0, 60 + ((feed * 7 + seq) % 60))
}

/** Builds the set. Timestamps interleave feeds and all lie in the past (no clamping). */
/**
 * `replyEvery`: besides each feed's last post, every post whose seq is a multiple of it also
 * replies to the root (scale mode: a thread of about feeds × posts / replyEvery replies).
 */
export async function buildSourceFeeds (dir: string, opts: { feeds: number, posts: number, replyEvery?: number }): Promise<SourceSet> {
  const store = new Corestore(dir)
  await store.ready()
  const t0 = Date.now() - (opts.posts + 10) * opts.feeds * 10
  const feeds: SourceFeed[] = []
  const cores: Hypercore[] = []
  let threadRoot: MessageRef | null = null
  let bytes = 0
  let threadReplies = 0
  for (let f = 0; f < opts.feeds; f++) {
    const identity = keyPairFromSeed(createSeed())
    const core = store.get({ name: `bench-feed-${f}` })
    await core.ready()
    const key = core.key as FeedKey
    if (threadRoot === null) threadRoot = { feed: key, seq: 1 }
    const blocks = [encodeRecord(createHeader(identity, key, `bench-${f}`, t0))]
    for (let seq = 1; seq <= opts.posts; seq++) {
      const isRoot = f === 0 && seq === 1
      const reply = !isRoot && (seq === opts.posts || (opts.replyEvery !== undefined && seq % opts.replyEvery === 0)) ? threadRoot : null
      if (reply !== null) threadReplies++
      const rec: PostRecord = {
        type: 'post', timestamp: t0 + (seq * opts.feeds + f) * 10, text: postText(f, seq), root: reply, parent: reply, cw: null, mentions: []
      }
      blocks.push(encodeRecord(rec))
    }
    for (const b of blocks) bytes += b.byteLength
    await core.append(blocks)
    cores.push(core)
    feeds.push({ key, identity: identity.publicKey })
  }
  if (threadRoot === null) throw new Error('no feeds')
  const close = async (): Promise<void> => {
    for (const core of cores) await core.close()
    await store.close()
  }
  return { store, feeds, length: opts.posts + 1, messages: opts.feeds * opts.posts, threadRoot, threadReplies, bytes, close }
}

/** What a cached source set needs to be opened again (scale mode keeps it under /tmp). */
export interface SourceMeta { feeds: Array<{ key: string, identity: string }>, length: number, messages: number, threadRoot: { feed: string, seq: number }, threadReplies: number, bytes: number }

export function sourceMeta (s: SourceSet): SourceMeta {
  const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
  return { feeds: s.feeds.map((f) => ({ key: hex(f.key), identity: hex(f.identity) })), length: s.length, messages: s.messages, threadRoot: { feed: hex(s.threadRoot.feed), seq: s.threadRoot.seq }, threadReplies: s.threadReplies, bytes: s.bytes }
}

/** Opens a source set built earlier in `dir` (a session on every core, as when built). */
export async function openSourceFeeds (dir: string, meta: SourceMeta): Promise<SourceSet> {
  const store = new Corestore(dir)
  await store.ready()
  const feeds = meta.feeds.map((f) => ({ key: b4a.from(f.key, 'hex') as FeedKey, identity: b4a.from(f.identity, 'hex') as IdentityKey }))
  const cores: Hypercore[] = []
  for (const f of feeds) {
    const core = store.get({ key: f.key })
    await core.ready()
    cores.push(core)
  }
  const close = async (): Promise<void> => {
    for (const core of cores) await core.close()
    await store.close()
  }
  const threadRoot = { feed: b4a.from(meta.threadRoot.feed, 'hex') as FeedKey, seq: meta.threadRoot.seq }
  return { store, feeds, length: meta.length, messages: meta.messages, threadRoot, threadReplies: meta.threadReplies, bytes: meta.bytes, close }
}

/** The scale data set cached in `cache` (scale.ts `--cache`): its meta, its source feeds opened, and the reader's folder. */
export async function openCachedScale (cache: string): Promise<{ meta: { feeds: number, source: SourceMeta }, source: SourceSet, reader: string }> {
  const meta = JSON.parse(await fs.readFile(path.join(cache, 'meta.json'), 'utf8')) as { feeds: number, source: SourceMeta }
  const source = await openSourceFeeds(path.join(cache, 'source'), meta.source)
  return { meta, source, reader: path.join(cache, 'reader') }
}
