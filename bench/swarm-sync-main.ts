/**
 * The swarm sync phase alone: builds the data set and a serving node, then runs swarm-sync.ts and
 * prints its figures. `npm run bench` runs the same phase as part of the full run.
 *
 *   node dist/bench/swarm-sync-main.js [rounds] [--cache DIR] [--shoal-only]
 *
 * `--cache DIR` keeps the data set and the serving node in DIR (built on the first run, reused
 * after: only ever a benchmark folder). `--shoal-only` skips the raw runs (no ratios): for
 * comparing B's per-block I/O counts, which do not depend on the machine's load.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildSourceFeeds, openSourceFeeds, sourceMeta, type SourceMeta, type SourceSet } from './source-feeds.js'
import { MiB } from './rss-sampler.js'
import { RAW_CONCURRENCY, describeIo, describeMarks, prepareServingShoal, swarmSync } from './swarm-sync.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const FEEDS = 100
const POSTS = 1000
const { values: argv, positionals } = parseArgs({ allowPositionals: true, options: { cache: { type: 'string' }, 'shoal-only': { type: 'boolean', default: false } } })
const ROUNDS = Number(positionals[0] ?? 2)

function log (msg: string): void {
  process.stderr.write(`[swarm ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

const tmp = new TmpDirs()

/** The source set and the serving node: in temp folders, or kept in `cache` across runs. */
async function prepare (cache: string | undefined): Promise<{ source: SourceSet, servingDir: string }> {
  if (cache === undefined) {
    const source = await buildSourceFeeds(await tmp.make('source'), { feeds: FEEDS, posts: POSTS })
    const servingDir = await tmp.make('swarm-a')
    await prepareServingShoal(servingDir, source)
    return { source, servingDir }
  }
  const metaFile = path.join(cache, 'meta.json')
  const servingDir = path.join(cache, 'serving')
  const meta = await fs.readFile(metaFile, 'utf8').then((s) => JSON.parse(s) as SourceMeta, () => null)
  if (meta !== null) return { source: await openSourceFeeds(path.join(cache, 'source'), meta), servingDir }
  await fs.rm(cache, { recursive: true, force: true })
  await fs.mkdir(servingDir, { recursive: true })
  const source = await buildSourceFeeds(path.join(cache, 'source'), { feeds: FEEDS, posts: POSTS })
  await prepareServingShoal(servingDir, source)
  await fs.writeFile(metaFile, JSON.stringify(sourceMeta(source)))
  return { source, servingDir }
}

async function main (): Promise<void> {
  try {
    const { source, servingDir } = await prepare(argv.cache)
    try {
      log('serving node prepared')
      const r = await swarmSync({ servingDir, source, makeDir: (label) => tmp.make(label), rounds: ROUNDS, timeoutMs: 600_000, log, raw: !argv['shoal-only'] })
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
