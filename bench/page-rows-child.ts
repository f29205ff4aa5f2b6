/**
 * Child process of the page rows (page-rows.ts): a fresh node process that opens only the reader
 * and the raw control's database (built by the parent), as `shoal serve` would open a storage. It
 * does not hold the bench's source feeds, nor the heap and garbage of the phases before it.
 */
import b4a from 'b4a'
import type { FeedKey } from '../src/ids.js'
import { childMain } from './child.js'
import { pageRowsIn, type PageRows, type PageRowsOpts } from './page-rows.js'
import { RawPageRead } from './raw-page-read.js'

export interface PageRowsInput extends PageRowsOpts { dir: string, rawDir: string, root: { feed: string, seq: number } }

childMain<PageRowsInput, PageRows>(async (input) => {
  const raw = new RawPageRead(input.rawDir)
  await raw.open(0, 0)
  try {
    return await pageRowsIn(input.dir, raw, { feed: b4a.from(input.root.feed, 'hex') as FeedKey, seq: input.root.seq }, input)
  } finally {
    await raw.close()
  }
})
