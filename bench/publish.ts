/**
 * Publish: sequential `await shoal.post()` (encode, append, index, resolve) against sequential
 * `await core.append()` of the same encoded bytes on a plain Corestore core. The two alternate
 * in chunks within one round, so that load from elsewhere on the machine hits both alike.
 */
import Corestore from 'corestore'
import { encodeRecord } from '../src/feeds/schema.js'
import { Shoal } from '../src/node/shoal.js'
import { postText } from './source-feeds.js'

export interface PublishRound { count: number, rawPerSec: number, shoalPerSec: number, ratio: number }

export async function publishRound (dirs: { raw: string, shoal: string }, opts: { count: number, chunk: number, warmup: number }): Promise<PublishRound> {
  const total = opts.warmup + opts.count
  const texts = Array.from({ length: total }, (_, i) => postText(0, i + 1))
  const blocks = texts.map((text) => encodeRecord({ type: 'post', timestamp: Date.now(), text, root: null, parent: null, cw: null, mentions: [] }))
  const store = new Corestore(dirs.raw)
  const { shoal } = await Shoal.init(dirs.shoal, { name: 'publisher' })
  try {
    const core = store.get({ name: 'raw' })
    await core.ready()
    let rawMs = 0
    let shoalMs = 0
    for (let at = 0; at < total; at += opts.chunk) {
      const end = Math.min(total, at + opts.chunk)
      let start = performance.now()
      for (let i = at; i < end; i++) await core.append(blocks[i])
      const r = performance.now() - start
      start = performance.now()
      for (let i = at; i < end; i++) await shoal.post({ text: texts[i] })
      const s = performance.now() - start
      if (at >= opts.warmup) { rawMs += r; shoalMs += s }
    }
    if (shoal.totals().messages < total) throw new Error('publish: not every post was indexed')
    const rawPerSec = opts.count / (rawMs / 1000)
    const shoalPerSec = opts.count / (shoalMs / 1000)
    return { count: opts.count, rawPerSec, shoalPerSec, ratio: shoalPerSec / rawPerSec }
  } finally {
    await shoal.close()
    await store.close()
  }
}
