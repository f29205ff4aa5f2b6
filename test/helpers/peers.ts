import type { Test } from 'brittle'
import b4a from 'b4a'
import { deadline } from './deadline.js'
import fs from '#fs'
import { Shoal, type InitOptions } from '../../src/node/shoal.js'
import { createHeader } from '../../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../../src/feeds/identity.js'
import { encodeRecord } from '../../src/feeds/schema.js'
import type { FeedKey, IdentityKey } from '../../src/ids.js'
import type { RoomMessageItem } from '../../src/node/room-service.js'

/** A fresh node with its own identity in a temp folder, closed at teardown. */
export async function createPeer (t: Test, opts: InitOptions = {}): Promise<Shoal> {
  const dir = await t.tmp()
  const { shoal } = await Shoal.init(dir, opts)
  t.teardown(() => shoal.close(), { order: 1 })
  return shoal
}

/** Reopens a node from a storage folder (closed at teardown). */
export async function openPeer (t: Test, dir: string, opts: ConstructorParameters<typeof Shoal>[1] = {}): Promise<Shoal> {
  const shoal = new Shoal(dir, opts)
  await shoal.ready()
  t.teardown(() => shoal.close(), { order: 1 })
  return shoal
}

/** Real Hypercore replication between two nodes' Corestores over an in-process stream pair. */
export function replicate (a: Shoal, b: Shoal, t: Test): () => void {
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  const stop = (): void => { s1.destroy(); s2.destroy() }
  t.teardown(stop, { order: 0 })
  return stop
}

/** Makes `reader` track `writer`'s device feed and waits until it is indexed up to its current length. */
export async function syncFeed (reader: Shoal, writer: Shoal, ms = 60_000): Promise<void> {
  await reader.addFeed(writer.feedKey)
  const want = writer.feedLength
  await deadline(reader.waitForIndexed(writer.feedKey, want), ms, `the reader to index ${want} blocks of feed ${b4a.toString(writer.feedKey, 'hex').slice(0, 8)}…`,
    () => `it holds ${reader.core(writer.feedKey)?.contiguousLength ?? 'none (feed closed)'} of them`)
}

/** `reader` follows `writer` and syncs its feed over a stream, stopped once it is indexed. */
export async function followSynced (reader: Shoal, writer: Shoal, t: Test): Promise<void> {
  const stop = replicate(writer, reader, t)
  await reader.follow(writer.identity)
  await syncFeed(reader, writer)
  stop()
}

/** Makes `b` follow `n` identities whose header feeds it holds but nobody online serves. */
export async function addGhosts (b: Shoal, n: number): Promise<Array<{ identity: IdentityKey, feed: FeedKey }>> {
  const out: Array<{ identity: IdentityKey, feed: FeedKey }> = []
  for (let i = 0; i < n; i++) {
    const identity = keyPairFromSeed(createSeed())
    const core = b.store.get({ name: `ghost-${i}` })
    await core.ready()
    await core.append(encodeRecord(createHeader(identity, core.key as FeedKey, 'ghost', Date.now())))
    await core.close()
    await b.addFeed(core.key as FeedKey)
    await b.follow(identity.publicKey)
    out.push({ identity: identity.publicKey, feed: core.key as FeedKey })
  }
  await b.indexed()
  return out
}

/** Bob tracks `writers` feeds of `posts` posts each, stored in full; his views are then removed. */
export async function unindexedReader (t: Test, writers: number, posts: number): Promise<{ dir: string, texts: string[], feeds: Shoal[] }> {
  const dir = await t.tmp()
  const { shoal: b } = await Shoal.init(dir, { name: 'bob' })
  const texts: string[] = []
  const feeds: Shoal[] = []
  for (let i = 0; i < writers; i++) {
    const w = await createPeer(t, { name: `w${i}` })
    for (let j = 0; j < posts; j++) {
      await w.post({ text: `w${i} post ${j}` })
      texts.push(`w${i} post ${j}`)
    }
    await followSynced(b, w, t)
    feeds.push(w)
  }
  await b.close()
  await fs.rm(b.paths.views, { recursive: true })
  return { dir, texts, feeds }
}

/** Resolves once `check` holds, checking again on every room update of `node`; throws after `ms`. */
export async function untilRooms (node: Shoal, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  await deadline(roomsHold(node, check), ms, 'a room update that passes the check')
}

async function roomsHold (node: Shoal, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    const next = new Promise<void>(resolve => node.rooms.once('update', () => resolve()))
    if (await check()) return
    await next
  }
}

/** The first of the last 1,000 messages of `room` at `node` that `pred` accepts, once there is one (untilRooms). */
export async function untilMessage (node: Shoal, room: string, pred: (m: RoomMessageItem) => boolean): Promise<RoomMessageItem> {
  let hit: RoomMessageItem | undefined
  await untilRooms(node, async () => (hit = (await node.rooms.read(room, { limit: 1000 })).items.find(pred)) !== undefined)
  return hit as RoomMessageItem
}
