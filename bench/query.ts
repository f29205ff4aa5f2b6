/**
 * Warm query latency on the indexed Shoal: the first home timeline page and a thread's first page, run in
 * turn with two controls that show how much of a tail is the machine's: a CPU-only task of about
 * the timeline's median duration, and the raw RocksDB analog of a timeline page.
 */
import b4a from 'b4a'
import { Shoal } from '../src/node/shoal.js'
import type { MessageRef } from '../src/ids.js'
import { runChild } from './child.js'
import { CpuControl } from './cpu-control.js'
import type { PageRows } from './page-rows.js'
import type { PageRowsInput } from './page-rows-child.js'
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

/**
 * The same rows (timeline, thread's first page, then the CPU and raw page controls, in turn) timed
 * in a child process that opens only the reader (page-rows-child.ts), as `shoal serve` would: not
 * in the bench process, which holds the source feeds and the garbage of the data set's build. The
 * raw control's database is written and settled (flushed and compacted) before.
 */
export async function childQueries (dir: string, rawDir: string, root: MessageRef, opts: { warmup: number, runs: number, replies: number, messages: number }): Promise<QueryRun & { rows: PageRows }> {
  const raw = new RawPageRead(rawDir)
  await raw.open(opts.messages, 120)
  await raw.settle()
  await raw.close()
  const input: PageRowsInput = { pages: ['home', 'thread'], warmup: opts.warmup, runs: opts.runs, replies: opts.replies, dir, rawDir, root: { feed: b4a.toString(root.feed, 'hex'), seq: root.seq } }
  const rows = (await runChild<PageRows>('page-rows-child', input)).result
  const home = rows.pages.home
  const thread = rows.pages.thread
  if (home === undefined || thread === undefined) throw new Error('page-rows-child: missing rows')
  return { timeline: home, thread, cpu: rows.cpu, rawPage: rows.rawPage, rows }
}
