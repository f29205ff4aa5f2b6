import type { Test } from 'brittle'
import { Shoal, type InitOptions } from '../../src/node/shoal.js'

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
export async function syncFeed (reader: Shoal, writer: Shoal): Promise<void> {
  await reader.addFeed(writer.feedKey)
  await reader.waitForIndexed(writer.feedKey, writer.feedLength)
}
