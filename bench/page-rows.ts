/**
 * The page rows of issue 13, timed warm in turn on one open Shoal: a thread's first page, its
 * "more replies" page, the home timeline's first page, then the two controls of query.ts (a
 * CPU-only task of the home page's median duration and the raw RocksDB page). For each it counts
 * the runs that held a V8 GC and the runs during which RocksDB ran a compaction or flush, and
 * gives the p99 of the runs with neither: what the rest of the process and the machine add.
 * page-rows-child.ts runs it in a process that opens only the reader, as `shoal serve` would.
 */
import { Shoal } from '../src/node/shoal.js'
import type { MessageRef } from '../src/ids.js'
import { performance } from 'node:perf_hooks'
import { CpuControl } from './cpu-control.js'
import { GcWatch, type GcCounts } from './gc-watch.js'
import type { RawPageRead } from './raw-page-read.js'
import { median, summarize, type Summary } from './stats.js'

export type PageName = 'thread' | 'more' | 'home'

/** One row: its latency, and the runs that shared their time with a GC or with RocksDB's background work. */
export interface PageRow extends Summary { gcRuns: number, busyRuns: number, quietP99: number | null }

export interface PageRows {
  pages: Partial<Record<PageName, PageRow>>
  rawPage: PageRow
  cpu: Summary
  /** GCs during the timed runs, by kind, and the JS heap in use before them (MiB). */
  gc: GcCounts
  heapUsedMiB: number
  /**
   * The process left alone for IDLE_MS after the warm-up, before the timed runs: the event loop's
   * utilization and the CPU time of all its threads (ms), so that work of its own in the
   * background (indexing, timers, RocksDB) shows. Both near 0 when the pages are timed on an idle node.
   */
  idle: { elu: number, cpuMs: number }
}

export interface PageRowsOpts { pages: PageName[], warmup: number, runs: number, replies: number }

interface Run { start: number, ms: number, busy: boolean }

const IDLE_MS = 1000

async function busy (bg: () => Promise<{ compactions: number, flushes: number }>): Promise<boolean> {
  const b = await bg()
  return b.compactions + b.flushes > 0
}

/** Times `opts.pages` on `shoal` (the thread of `root`), then each control, `opts.runs` times after `opts.warmup`. */
export async function measurePages (shoal: Shoal, raw: RawPageRead, root: MessageRef, opts: PageRowsOpts): Promise<PageRows> {
  const first = await shoal.thread(root, { limit: 50 })
  const next = first.next
  if (opts.pages.includes('more') && next === null) throw new Error('thread: expected more than one page')
  const want = Math.min(50, opts.replies)
  const queries: Record<PageName, () => Promise<void>> = {
    thread: async () => {
      const t = await shoal.thread(root, { limit: 50 })
      if (t.root === null || t.replies.length !== want) throw new Error(`thread returned ${t.replies.length} replies`)
    },
    more: async () => { await shoal.thread(root, { limit: 50, before: next }) },
    home: async () => {
      const p = await shoal.timeline({ limit: 50 })
      if (p.items.length === 0) throw new Error('timeline returned no items')
    }
  }
  const views = (): Promise<{ compactions: number, flushes: number }> => shoal.views.background()
  const rawBg = (): Promise<{ compactions: number, flushes: number }> => raw.background()
  const timed = async (fn: () => Promise<unknown> | unknown, bg: () => Promise<{ compactions: number, flushes: number }>): Promise<Run> => {
    const before = await busy(bg)
    const start = performance.now()
    await fn()
    const ms = performance.now() - start
    return { start, ms, busy: before || await busy(bg) }
  }
  const warm: number[] = []
  for (let i = 0; i < opts.warmup; i++) {
    for (const n of opts.pages) {
      const r = await timed(queries[n], views)
      if (n === opts.pages[opts.pages.length - 1]) warm.push(r.ms)
    }
    await raw.page(50)
  }
  const cpu = new CpuControl()
  cpu.calibrate(median(warm.slice(-50)))
  const elu = performance.eventLoopUtilization()
  const used = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const usedNow = process.cpuUsage(used)
  const idle = { elu: performance.eventLoopUtilization(elu).utilization, cpuMs: (usedNow.user + usedNow.system) / 1000 }
  const runs: Record<PageName | 'raw' | 'cpu', Run[]> = { thread: [], more: [], home: [], raw: [], cpu: [] }
  const heapUsedMiB = process.memoryUsage().heapUsed / 1024 / 1024
  const gc = new GcWatch()
  const from = performance.now()
  try {
    for (let i = 0; i < opts.runs; i++) {
      for (const n of opts.pages) runs[n].push(await timed(queries[n], views))
      runs.cpu.push(await timed(() => cpu.run(), async () => ({ compactions: 0, flushes: 0 })))
      runs.raw.push(await timed(() => raw.page(50), rawBg))
    }
    await new Promise((resolve) => setImmediate(resolve)) // the observer reports a GC after it ends
    const row = (rs: Run[]): PageRow => {
      const gcRuns = rs.map((r) => gc.inside(r.start, r.ms))
      const quiet = rs.filter((r, i) => !gcRuns[i] && !r.busy).map((r) => r.ms)
      return {
        ...summarize(rs.map((r) => r.ms)),
        gcRuns: gcRuns.filter(Boolean).length,
        busyRuns: rs.filter((r) => r.busy).length,
        quietP99: quiet.length > 0 ? summarize(quiet).p99 : null
      }
    }
    const pages: Partial<Record<PageName, PageRow>> = {}
    for (const n of opts.pages) pages[n] = row(runs[n])
    return { pages, rawPage: row(runs.raw), cpu: summarize(runs.cpu.map((r) => r.ms)), gc: gc.since(from), heapUsedMiB, idle }
  } finally {
    gc.stop()
  }
}

/** Opens the Shoal in `dir` and measures its page rows (see measurePages). */
export async function pageRowsIn (dir: string, raw: RawPageRead, root: MessageRef, opts: PageRowsOpts): Promise<PageRows> {
  const shoal = new Shoal(dir)
  await shoal.ready()
  try {
    return await measurePages(shoal, raw, root, opts)
  } finally {
    await shoal.close()
  }
}
