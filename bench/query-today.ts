/**
 * The query rows of `npm run bench` alone (100 feeds × 1,000 posts by default, the same warm-up
 * and runs): builds the source feeds and the reader in temp folders, indexes in a child process,
 * then times the home timeline page and the thread of 100 replies in turn with the CPU-only and
 * raw RocksDB page controls (bench/query.ts): in this process, which built the data set and holds
 * its source feeds, then in a child that opens only the reader. Prints p50/p99 of both, the GCs
 * of the child's runs and the load average before and after.
 * `node --max-semi-space-size=2 dist/bench/query-today.js [FEEDS POSTS]`.
 */
import os from 'node:os'
import { indexInChild, prepareIndexedShoal } from './index-phase.js'
import { childQueries, warmQueries } from './query.js'
import { buildSourceFeeds } from './source-feeds.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const FEEDS = Number(process.argv[2] ?? 100)
const POSTS = Number(process.argv[3] ?? 1000)
const QUERY_WARMUP = 200
const QUERY_RUNS = 500
const tmp = new TmpDirs()

runBench('query-today', tmp, async () => {
  const source = await buildSourceFeeds(await tmp.make('source'), { feeds: FEEDS, posts: POSTS })
  try {
    const reader = await tmp.make('reader')
    await prepareIndexedShoal(reader, source)
    await indexInChild(reader, source)
    const before = os.loadavg()
    const opts = { warmup: QUERY_WARMUP, runs: QUERY_RUNS, replies: FEEDS, messages: source.messages }
    const q = await warmQueries(reader, await tmp.make('raw-page'), source.threadRoot, opts)
    const child = await childQueries(reader, await tmp.make('raw-page-child'), source.threadRoot, opts)
    const ms = (s: { p50: number, p99: number }): string => `p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)}`
    const rows = (r: typeof q): Record<string, string> => ({ timeline: ms(r.timeline), thread: ms(r.thread), cpuControl: ms(r.cpu), rawPage: ms(r.rawPage) })
    const g = child.rows
    console.log(JSON.stringify({
      date: new Date().toISOString(),
      feeds: FEEDS,
      messages: source.messages,
      readerOnlyProcess: { ...rows(child), runsWithGc: { timeline: g.pages.home?.gcRuns, thread: g.pages.thread?.gcRuns }, gc: g.gc, heapUsedMiB: Math.round(g.heapUsedMiB) },
      benchProcess: rows(q),
      load: [before, os.loadavg()].map((l) => l.map((x) => x.toFixed(2)).join(' '))
    }))
  } finally {
    await source.close()
    await tmp.removeAll()
  }
})
