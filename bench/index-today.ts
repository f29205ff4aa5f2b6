/**
 * The index phase of `npm run bench` alone (100 feeds × 1,000 posts by default): builds the source
 * feeds and the reader in temp folders, indexes in a child process and prints its peak memory.
 * `node dist/bench/index-today.js [FEEDS POSTS]`.
 */
import os from 'node:os'
import { indexInChild, prepareIndexedShoal } from './index-phase.js'
import { MiB } from './rss-sampler.js'
import { buildSourceFeeds } from './source-feeds.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const FEEDS = Number(process.argv[2] ?? 100)
const POSTS = Number(process.argv[3] ?? 1000)
const tmp = new TmpDirs()

runBench('index-today', tmp, async () => {
  const source = await buildSourceFeeds(await tmp.make('source'), { feeds: FEEDS, posts: POSTS })
  try {
    const reader = await tmp.make('reader')
    await prepareIndexedShoal(reader, source)
    const load = os.loadavg()
    const run = await indexInChild(reader, source)
    const mib = (n: number): number => Math.round(n / MiB)
    console.log(JSON.stringify({
      date: new Date().toISOString(),
      feeds: FEEDS,
      messages: run.messages,
      msgsPerSec: Math.round(run.perSec),
      maxRssMiB: mib(run.maxRss),
      rssAfterOpenMiB: mib(run.rssBeforeIndex),
      heapUsedPeakMiB: mib(run.sampled.heapUsed),
      load: [load, os.loadavg()].map((l) => l.map((x) => x.toFixed(2)).join(' '))
    }))
  } finally {
    await source.close()
    await tmp.removeAll()
  }
})
