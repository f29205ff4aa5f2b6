/**
 * Waiting for the indexer without hanging: a write waits until the views include it, and must
 * fail (with a coded error such as NO_SPACE) when the indexer fails instead.
 */
import type { FeedKey } from '../ids.js'
import type { Indexer } from '../views/indexer.js'
import { writeFault } from './storage.js'

export interface IndexWatch {
  /** Resolves once `feed` is indexed up to `length`; rejects if the indexer failed since the watch began. */
  until (feed: FeedKey, length: number): Promise<void>
  stop (): void
}

/**
 * Watches the indexer from now on (arm it before an append: the indexer may fail on the new block
 * before the append resolves). `root` is the storage folder, to tell a full disk (NO_SPACE).
 */
export function watchIndexer (indexer: Indexer, root: string): IndexWatch {
  let failure: unknown = null
  let fail: (err: unknown) => void = () => {}
  const onError = (err: Error): void => { failure = err; fail(err) }
  indexer.on('error', onError)
  const until = async (feed: FeedKey, length: number): Promise<void> => {
    if (failure !== null) {
      const err = failure
      failure = null // a retry (after a views repair) waits afresh
      throw await writeFault(root, 'cannot update the views', err)
    }
    const failed = new Promise<never>((_resolve, reject) => { fail = reject })
    try {
      await Promise.race([indexer.waitFor(feed, length), failed])
    } catch (err) {
      throw await writeFault(root, 'cannot update the views', err)
    } finally {
      fail = () => {}
    }
  }
  return { until, stop: () => indexer.off('error', onError) }
}

/** Waits for the indexer to reach `length` of `feed`, failing (not hanging) if it fails meanwhile. */
export async function untilIndexed (indexer: Indexer, root: string, feed: FeedKey, length: number): Promise<void> {
  const watch = watchIndexer(indexer, root)
  try {
    await watch.until(feed, length)
  } finally {
    watch.stop()
  }
}

/**
 * Runs `work` on the indexer (a reindex), failing with a coded error (NO_SPACE on a full disk)
 * instead of hanging when it throws or the indexer fails meanwhile; `msg` says what was being done.
 */
export async function whileIndexing<T> (indexer: Indexer, root: string, msg: string, work: () => Promise<T>): Promise<T> {
  let fail: (err: unknown) => void = () => {}
  const failed = new Promise<never>((_resolve, reject) => { fail = reject })
  const onError = (err: Error): void => fail(err)
  indexer.on('error', onError)
  const running = work()
  running.catch(() => {}) // when the indexer's error wins the race, this one is reported instead
  try {
    return await Promise.race([running, failed])
  } catch (err) {
    throw await writeFault(root, msg, err)
  } finally {
    indexer.off('error', onError)
  }
}
