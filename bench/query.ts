/**
 * Warm query latency on the indexed Shoal: the first home timeline page and a thread's first page, run in
 * turn with two controls that show how much of a tail is the machine's: a CPU-only task of about
 * the timeline's median duration, and the raw RocksDB analog of a timeline page.
 */
import { Shoal } from '../src/node/shoal.js'
import type { MessageRef } from '../src/ids.js'
import { CpuControl } from './cpu-control.js'
import { RawPageRead } from './raw-page-read.js'
import { median, summarize, type Summary } from './stats.js'

/** Replies on a thread's first page (the API's default). */
const THREAD_PAGE = 50

export interface QueryRun { timeline: Summary, thread: Summary, cpu: Summary, rawPage: Summary }

async function time (fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

export async function warmQueries (dir: string, rawDir: string, root: MessageRef, opts: { warmup: number, runs: number, replies: number, messages: number }): Promise<QueryRun> {
  const raw = new RawPageRead(rawDir)
  await raw.open(opts.messages, 120)
  const shoal = new Shoal(dir)
  await shoal.ready()
  try {
    const page = async (): Promise<void> => {
      const p = await shoal.timeline({ limit: 50 })
      if (p.items.length !== 50) throw new Error(`timeline returned ${p.items.length} items`)
    }
    const thread = async (): Promise<void> => {
      const t = await shoal.thread(root, { limit: THREAD_PAGE })
      if (t.root === null || t.replies.length !== Math.min(THREAD_PAGE, opts.replies)) throw new Error(`thread returned ${t.replies.length} replies`)
    }
    const warm: number[] = []
    for (let i = 0; i < opts.warmup; i++) {
      warm.push(await time(page))
      await thread()
      await raw.page(50)
    }
    const cpu = new CpuControl()
    cpu.calibrate(median(warm.slice(-50)))
    const samples = { timeline: [] as number[], thread: [] as number[], cpu: [] as number[], rawPage: [] as number[] }
    for (let i = 0; i < opts.runs; i++) {
      samples.timeline.push(await time(page))
      samples.thread.push(await time(thread))
      samples.cpu.push(await time(() => cpu.run()))
      samples.rawPage.push(await time(() => raw.page(50)))
    }
    return { timeline: summarize(samples.timeline), thread: summarize(samples.thread), cpu: summarize(samples.cpu), rawPage: summarize(samples.rawPage) }
  } finally {
    await shoal.close()
    await raw.close()
  }
}
