/**
 * The swarm sync phase alone (`node dist/bench/swarm-sync-main.js [rounds]`): builds the data set
 * and a serving node, then runs swarm-sync.ts and prints its figures. `npm run bench` runs the
 * same phase as part of the full run.
 */
import { buildSourceFeeds } from './source-feeds.js'
import { MiB } from './rss-sampler.js'
import { RAW_CONCURRENCY, describeIo, describeMarks, prepareServingShoal, swarmSync } from './swarm-sync.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const FEEDS = 100
const POSTS = 1000
const ROUNDS = Number(process.argv[2] ?? 2)

function log (msg: string): void {
  process.stderr.write(`[swarm ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

const tmp = new TmpDirs()

async function main (): Promise<void> {
  try {
    const source = await buildSourceFeeds(await tmp.make('source'), { feeds: FEEDS, posts: POSTS })
    try {
      const servingDir = await tmp.make('swarm-a')
      await prepareServingShoal(servingDir, source)
      log('serving node prepared')
      const r = await swarmSync({ servingDir, source, makeDir: (label) => tmp.make(label), rounds: ROUNDS, timeoutMs: 600_000, log })
      for (const b of r.raw) console.log(`raw: all at once ${Math.round(b.all.ms)} ms (peak RSS ${Math.round(b.all.maxRss / MiB)} MiB), ${RAW_CONCURRENCY} at a time ${Math.round(b.bounded.ms)} ms (${Math.round(b.bounded.maxRss / MiB)} MiB)`)
      for (const x of r.rounds) {
        console.log(`shoal ${Math.round(x.shoal.ms)} ms: ${x.ratio.toFixed(2)}x (like for like ${x.likeForLikeRatio.toFixed(2)}x); B peak RSS ${Math.round(x.shoal.maxRss / MiB)} MiB (${describeMarks(x.shoal)}); ${describeIo(x.shoal)}`)
      }
      console.log(`ratio ${r.ratio.toFixed(2)}x (like for like ${r.likeForLikeRatio.toFixed(2)}x), mean of ${r.rounds.length} (target <= 1.5x)`)
      console.log(JSON.stringify(r))
    } finally {
      await source.close()
    }
  } finally {
    await tmp.removeAll()
  }
}

runBench('bench:swarm', tmp, main)
