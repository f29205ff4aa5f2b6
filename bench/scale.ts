/**
 * `npm run bench:scale`: the benchmark at a heavy user's size. Builds F identities × P posts
 * (default 3,000 × 333, about 1M messages; a thread of about F × P / 100 replies) once into a
 * cached folder (default /tmp/shoal-scale-FxP), then measures, in one run and beside their raw
 * baselines: indexing time and peak memory, the first page of the big thread and its next page,
 * the home timeline with every, 60 and 1 of the authors followed (page-rows.ts: in a child that
 * opens only the reader, and in this process), cold open to the first page
 * (fresh process), one-shot CLI `whoami`/`feed` against an empty node, the thin client through a
 * running `serve` against `node -e 0`, and optionally (--swarm-rounds) the swarm first sync at
 * 100 × 1,000. Prints a table and one JSON line (with the load average at start and end).
 *
 *   node dist/bench/scale.js [--feeds 3000] [--posts 333] [--reply-every 100] [--cache DIR]
 *                            [--runs 2000] [--swarm-rounds 0] [--fresh]
 *
 * The index phase takes both paths, each in its own child: every feed added to a reader that
 * tracks none (as a sync adds the feeds it fetches; idle ones close past `openFeeds`), and the
 * tracked feeds indexed at open, a few open at a time. The cached reader takes the first path
 * first on the cache's first run, and the second first on later runs; then it is made ready for
 * the other path (resetReader) and indexed again. The index row is the first index's; each path
 * has its RSS row, whose peak is the child's own (VmHWM, see rss-sampler.ts peakRss).
 */
import b4a from 'b4a'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Shoal } from '../src/node/shoal.js'
import { runChild } from './child.js'
import type { ColdOpen } from './cold-open.js'
import { followFirst } from './home-phase.js'
import { indexInChild, prepareIndexedShoal, resetReader } from './index-phase.js'
import { printMachine, readLoad, readMachine } from './machine.js'
import { pageRowsIn, type PageName, type PageRow, type PageRows } from './page-rows.js'
import type { PageRowsInput } from './page-rows-child.js'
import { RawPageRead } from './raw-page-read.js'
import { rawReplication } from './raw-replication.js'
import { fmt, formatTable, type Row } from './report.js'
import { MiB } from './rss-sampler.js'
import { cliWall, nodeFloor, thinClient } from './scale-cli.js'
import { buildSourceFeeds, openSourceFeeds, sourceMeta, type SourceMeta, type SourceSet } from './source-feeds.js'
import { median, round, type Summary } from './stats.js'
import { swarmSync } from './swarm-sync.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const TARGET = { p99Ms: 5, coldMs: 300, rssMiB: 250, cliRatio: 2, oneShotRatio: 1.5, swarmRatio: 1.5, indexRatio: 2 }

const { values: argv } = parseArgs({
  options: {
    feeds: { type: 'string', default: '3000' },
    posts: { type: 'string', default: '333' },
    'reply-every': { type: 'string', default: '100' },
    cache: { type: 'string' },
    runs: { type: 'string', default: '2000' },
    'swarm-rounds': { type: 'string', default: '0' },
    fresh: { type: 'boolean', default: false }
  }
})
const FEEDS = Number(argv.feeds)
const POSTS = Number(argv.posts)
const REPLY_EVERY = Number(argv['reply-every'])
const RUNS = Number(argv.runs)
const SWARM_ROUNDS = Number(argv['swarm-rounds'])
const CACHE = path.resolve(argv.cache ?? `/tmp/shoal-scale-${FEEDS}x${POSTS}`)
const CLI_RUNS = 5
const RAW_FEEDS = 300
const COLD_RUNS = 3

function log (msg: string): void {
  process.stderr.write(`[scale ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

const tmp = new TmpDirs()

/** The index path a run took (IndexInput.rebuild), as the RSS rows name it. */
function pathName (atOpen: boolean): string {
  return atOpen ? 'tracked feeds indexed at open, a few open at a time' : 'every feed added, idle ones closed past openFeeds'
}

interface CacheMeta { feeds: number, posts: number, replyEvery: number, source: SourceMeta, builtMs: number, prepareMs: number }

/** The source feeds and an unindexed reader that follows every source identity, built once. */
async function cached (): Promise<{ meta: CacheMeta, source: SourceSet }> {
  const metaFile = path.join(CACHE, 'meta.json')
  if (!argv.fresh) {
    try {
      const meta = JSON.parse(await fs.readFile(metaFile, 'utf8')) as CacheMeta
      if (meta.feeds === FEEDS && meta.posts === POSTS && meta.replyEvery === REPLY_EVERY) {
        log(`reusing the data set cached in ${CACHE}`)
        return { meta, source: await openSourceFeeds(path.join(CACHE, 'source'), meta.source) }
      }
    } catch {
      // No (or another) cached set: build it below.
    }
  }
  await fs.rm(CACHE, { recursive: true, force: true })
  await fs.mkdir(CACHE, { recursive: true, mode: 0o700 })
  let t = performance.now()
  const source = await buildSourceFeeds(path.join(CACHE, 'source'), { feeds: FEEDS, posts: POSTS, replyEvery: REPLY_EVERY })
  const builtMs = performance.now() - t
  log(`built ${FEEDS} feeds x ${POSTS} posts in ${fmt(builtMs)} ms`)
  t = performance.now()
  await prepareIndexedShoal(path.join(CACHE, 'reader'), source)
  const prepareMs = performance.now() - t
  log(`reader prepared (follows + feeds copied in, unindexed) in ${fmt(prepareMs)} ms`)
  const meta: CacheMeta = { feeds: FEEDS, posts: POSTS, replyEvery: REPLY_EVERY, source: sourceMeta(source), builtMs, prepareMs }
  await fs.writeFile(metaFile, JSON.stringify(meta))
  return { meta, source }
}

/** The cached reader, its views removed when it was indexed before (a copy would refuse to open). */
async function cachedReader (): Promise<{ dir: string, rebuild: boolean }> {
  const dir = path.join(CACHE, 'reader')
  const marker = path.join(CACHE, 'indexed-once')
  const rebuild = await fs.access(marker).then(() => true, () => false)
  if (rebuild) await fs.rm(path.join(dir, 'views'), { recursive: true, force: true })
  await fs.writeFile(marker, '')
  return { dir, rebuild }
}

/**
 * The page rows twice: in this process (which holds the source feeds open and the heap of the
 * phases before) and in a child that opens only the reader, as `shoal serve` would. The raw
 * control's database (`rawDir`, built and settled once) goes with each.
 */
async function pageRows (reader: string, rawDir: string, source: SourceSet, pages: PageName[]): Promise<{ here: PageRows, child: PageRows }> {
  const opts = { pages, warmup: 100, runs: RUNS, replies: source.threadReplies }
  const raw = new RawPageRead(rawDir)
  await raw.open(0, 0)
  let here: PageRows
  try {
    here = await pageRowsIn(reader, raw, source.threadRoot, opts)
  } finally {
    await raw.close()
  }
  const input: PageRowsInput = { ...opts, dir: reader, rawDir, root: { feed: b4a.toString(source.threadRoot.feed, 'hex'), seq: source.threadRoot.seq } }
  const child = (await runChild<PageRows>('page-rows-child', input)).result
  for (const [where, r] of [['this process', here], ['child', child]] as const) {
    const rows = Object.entries(r.pages).map(([n, row]) => `${n} ${fmt(row.p50, 2)}/${fmt(row.p99, 2)} (GC ${row.gcRuns}, RocksDB busy ${row.busyRuns}, neither p99 ${row.quietP99 === null ? '-' : fmt(row.quietP99, 2)})`)
    log(`pages in ${where}, p50/p99 ms: ${rows.join('; ')}; raw page ${fmt(r.rawPage.p50, 2)}/${fmt(r.rawPage.p99, 2)}; CPU control ${fmt(r.cpu.p50, 2)}/${fmt(r.cpu.p99, 2)}; GCs minor ${r.gc.minor}, major ${r.gc.major} (${fmt(r.gc.ms, 1)} ms); heap ${fmt(r.heapUsedMiB)} MiB; idle 1 s before: event loop ${fmt(r.idle.elu * 100, 2)}%, CPU ${fmt(r.idle.cpuMs, 1)} ms`)
  }
  return { here, child }
}

async function main (): Promise<void> {
  const machine = readMachine()
  printMachine(machine)
  const { meta, source } = await cached()
  try {
    // raw baseline: the same feeds replicated into a bare Corestore, one after another ----------
    // (a sample of RAW_FEEDS feeds: the rate is per block, and all 3,000 would take minutes)
    const rawSample = { ...source, feeds: source.feeds.slice(0, RAW_FEEDS) }
    const rawSeq = await rawReplication(await tmp.make('raw-seq'), rawSample, 'sequential')
    log(`raw replication, one core after another (${rawSample.feeds.length} feeds): ${fmt(rawSeq.blocksPerSec)} blocks/s`)

    // index (child process: time and peak memory) ---------------------------------------------
    const { dir: reader, rebuild } = await cachedReader()
    const indexed = await indexInChild(reader, source, rebuild)
    log(`index only: ${fmt(indexed.perSec)} msgs/s, child max RSS ${fmt(indexed.maxRss / MiB)} MiB`)
    // The other index path, on the same reader made ready for it: both RSS rows in every run.
    await resetReader(reader, !rebuild)
    const other = await indexInChild(reader, source, !rebuild)
    log(`index only, other path (${pathName(!rebuild)}): ${fmt(other.perSec)} msgs/s, child max RSS ${fmt(other.maxRss / MiB)} MiB`)

    // cold open (fresh process): the feeds were all indexed at the child's clean close ----------
    const cold: Array<ColdOpen & { sinceProcessStartMs: number }> = []
    for (let i = 0; i < COLD_RUNS; i++) cold.push((await runChild<ColdOpen & { sinceProcessStartMs: number }>('cold-open-child', { dir: reader })).result)
    log(`cold open + first page (fresh process): ${cold.map((c) => fmt(c.ms)).join(' / ')} ms (ready ${cold.map((c) => fmt(c.readyMs)).join(' / ')} ms)`)

    // queries -----------------------------------------------------------------------------------
    const rawDir = await tmp.make('raw-page')
    const rawPage = new RawPageRead(rawDir)
    await rawPage.open(source.messages, 120)
    await rawPage.settle()
    await rawPage.close()
    const all = await pageRows(reader, rawDir, source, ['thread', 'more', 'home'])

    // one-shot CLI: my node with every feed against a node with none ----------------------------
    const empty = await tmp.make('empty')
    await (await Shoal.init(empty, { name: 'empty' })).shoal.close()
    const oneShot = {
      whoami: await cliWall(reader, ['whoami', '--json'], CLI_RUNS),
      whoamiEmpty: await cliWall(empty, ['whoami', '--json'], CLI_RUNS),
      feed: await cliWall(reader, ['feed', '--json'], CLI_RUNS),
      feedEmpty: await cliWall(empty, ['feed', '--json'], CLI_RUNS),
      node: await nodeFloor(CLI_RUNS)
    }
    const whoamiRatio = median(oneShot.whoami) / median(oneShot.whoamiEmpty)
    const feedRatio = median(oneShot.feed) / median(oneShot.feedEmpty)
    log(`one-shot whoami ${fmt(median(oneShot.whoami))} ms (empty node ${fmt(median(oneShot.whoamiEmpty))}), feed ${fmt(median(oneShot.feed))} ms (empty node ${fmt(median(oneShot.feedEmpty))})`)

    // the thin client through a running serve ---------------------------------------------------
    const thin = await thinClient(empty, CLI_RUNS * 2)
    log(`through serve: whoami ${fmt(median(thin.whoamiMs))} ms, node -e 0 ${fmt(median(thin.nodeMs))} ms (${fmt(thin.ratio, 2)}x)`)

    // sparse home timelines (then every follow again, for the next run) --------------------------
    await followFirst(reader, source, 60)
    const follow60 = await pageRows(reader, rawDir, source, ['home'])
    await followFirst(reader, source, 1)
    const follow1 = await pageRows(reader, rawDir, source, ['home'])
    await followFirst(reader, source, FEEDS)

    // swarm first sync at today's size (optional: it takes minutes) -------------------------------
    let swarm: Awaited<ReturnType<typeof swarmSync>> | null = null
    if (SWARM_ROUNDS > 0) {
      const small = await buildSourceFeeds(await tmp.make('swarm-source'), { feeds: 100, posts: 1000 })
      try {
        const serving = await tmp.make('swarm-serving')
        await prepareIndexedShoal(serving, small)
        await indexInChild(serving, small)
        swarm = await swarmSync({ servingDir: serving, source: small, makeDir: (label) => tmp.make(label), rounds: SWARM_ROUNDS, timeoutMs: 600_000, log })
      } finally {
        await small.close()
      }
    }

    const indexRatio = indexed.perSec / rawSeq.blocksPerSec
    const coldMs = median(cold.map((c) => c.ms))
    const rssRow = (run: typeof indexed, atOpen: boolean): Row => {
      const peakMiB = run.maxRss / MiB
      return { metric: `peak RSS while indexing ${fmt(source.messages)} msgs, ${FEEDS} feeds (child; ${pathName(atOpen)})`, shoal: `${fmt(peakMiB)} MiB`, baseline: `${fmt(run.rssBeforeIndex / MiB)} MiB after open; JS heap peak ${fmt(run.sampled.heapTotal / MiB)} MiB; ${fmt(run.perSec)} msgs/s`, ratio: '-', target: `<= ${TARGET.rssMiB} MiB`, met: peakMiB <= TARGET.rssMiB }
    }
    const p = (s: Summary): string => `p50 ${fmt(s.p50, 2)} / p99 ${fmt(s.p99, 2)} ms`
    // A page row is measured in a process that opens only the reader (page-rows-child.ts); the
    // same pages timed in this process, and the controls timed beside them, are the baseline.
    const pageRow = (metric: string, r: { here: PageRows, child: PageRows }, n: PageName): Row => {
      const c = r.child.pages[n] as PageRow
      const h = r.here.pages[n] as PageRow
      return { metric: `${metric}, reader-only process`, shoal: p(c), baseline: `in the bench process ${p(h)}; raw page ${p(r.child.rawPage)}; CPU control ${p(r.child.cpu)}`, ratio: '-', target: `p99 <= ${TARGET.p99Ms} ms`, met: c.p99 <= TARGET.p99Ms }
    }
    const rowsJson = (r: { here: PageRows, child: PageRows }): unknown => ({ child: roundDeep(r.child), benchProcess: roundDeep(r.here) })
    const ms = (xs: number[]): string => `${fmt(median(xs))} ms`
    const rows: Row[] = [
      { metric: `index only (${fmt(source.messages)} msgs, ${FEEDS} local feeds)`, shoal: `${fmt(indexed.perSec)} msgs/s`, baseline: `${fmt(rawSeq.blocksPerSec)} blocks/s (raw replication, one core after another, ${Math.min(RAW_FEEDS, FEEDS)} feeds)`, ratio: `${fmt(indexRatio, 2)}x`, target: `>= ${TARGET.indexRatio}x`, met: indexRatio >= TARGET.indexRatio },
      pageRow(`thread of ${fmt(source.threadReplies)} replies, first page of 50 (${RUNS} runs)`, all, 'thread'),
      pageRow('thread, "more replies" (second page of 50)', all, 'more'),
      pageRow(`home timeline, all ${FEEDS} followed`, all, 'home'),
      pageRow(`home timeline, 60 of ${FEEDS} followed`, follow60, 'home'),
      pageRow(`home timeline, 1 of ${FEEDS} followed`, follow1, 'home'),
      { metric: `cold open + first page, fresh process (median of ${COLD_RUNS})`, shoal: `${fmt(coldMs)} ms (ready ${fmt(median(cold.map((c) => c.readyMs)))} ms; ${fmt(median(cold.map((c) => c.sinceProcessStartMs)))} ms incl. node start + imports)`, baseline: '-', ratio: '-', target: `<= ${TARGET.coldMs} ms`, met: coldMs <= TARGET.coldMs },
      { metric: `one-shot \`shoal whoami\`, ${FEEDS} feeds (median of ${CLI_RUNS})`, shoal: ms(oneShot.whoami), baseline: `node with no feeds ${ms(oneShot.whoamiEmpty)}; node -e 0 ${ms(oneShot.node)}`, ratio: `${fmt(whoamiRatio, 2)}x`, target: `<= ${TARGET.oneShotRatio}x (independent of feeds)`, met: whoamiRatio <= TARGET.oneShotRatio },
      { metric: `one-shot \`shoal feed\`, ${FEEDS} feeds (median of ${CLI_RUNS})`, shoal: ms(oneShot.feed), baseline: `node with no feeds ${ms(oneShot.feedEmpty)}`, ratio: `${fmt(feedRatio, 2)}x`, target: `<= ${TARGET.oneShotRatio}x (independent of feeds)`, met: feedRatio <= TARGET.oneShotRatio },
      { metric: `\`shoal whoami\` through a running serve (median of ${CLI_RUNS * 2})`, shoal: ms(thin.whoamiMs), baseline: `node -e 0 ${ms(thin.nodeMs)}; feed ${ms(thin.feedMs)}`, ratio: `${fmt(thin.ratio, 2)}x`, target: `<= ${TARGET.cliRatio}x`, met: thin.ratio <= TARGET.cliRatio },
      rssRow(rebuild ? indexed : other, true),
      rssRow(rebuild ? other : indexed, false)
    ]
    if (swarm !== null) {
      rows.push({ metric: `first sync over local swarm, 100 x 1,000 (${SWARM_ROUNDS} runs)`, shoal: swarm.rounds.map((r) => fmt(r.shoal.ms / 1000, 1)).join(' / ') + ' s', baseline: 'fastest raw run around each', ratio: swarm.rounds.map((r) => fmt(r.ratio, 2)).join(' / ') + 'x', target: `<= ${TARGET.swarmRatio}x every run`, met: swarm.rounds.every((r) => r.ratio <= TARGET.swarmRatio) })
    }
    console.log(formatTable(rows))
    console.log()
    console.log(JSON.stringify({
      date: machine.date,
      machine: { nproc: machine.nproc, memTotalGiB: machine.memTotalGiB, node: machine.node, cpu: machine.cpu, revision: machine.revision, loadAtStart: machine.load, loadAtEnd: readLoad() },
      command: `node dist/bench/scale.js --feeds ${FEEDS} --posts ${POSTS} --reply-every ${REPLY_EVERY} --runs ${RUNS} --swarm-rounds ${SWARM_ROUNDS}`,
      dataSet: { feeds: FEEDS, posts: POSTS, messages: source.messages, threadReplies: source.threadReplies, recordBytes: source.bytes, builtMs: round(meta.builtMs), prepareMs: round(meta.prepareMs) },
      index: { path: pathName(rebuild), ms: round(indexed.ms), perSec: round(indexed.perSec), rawSequentialBlocksPerSec: round(rawSeq.blocksPerSec), ratio: round(indexRatio), peakRssMiB: round(indexed.maxRss / MiB), rssAfterOpenMiB: round(indexed.rssBeforeIndex / MiB) },
      indexOtherPath: { path: pathName(!rebuild), ms: round(other.ms), perSec: round(other.perSec), peakRssMiB: round(other.maxRss / MiB), rssAfterOpenMiB: round(other.rssBeforeIndex / MiB) },
      pages: { all: rowsJson(all), follow60: rowsJson(follow60), follow1: rowsJson(follow1) },
      coldOpen: { ms: cold.map((c) => round(c.ms)), readyMs: cold.map((c) => round(c.readyMs)), sinceProcessStartMs: cold.map((c) => round(c.sinceProcessStartMs)) },
      oneShot: Object.fromEntries(Object.entries(oneShot).map(([k, v]) => [k, v.map(round)])),
      thinClient: { nodeMs: thin.nodeMs.map(round), whoamiMs: thin.whoamiMs.map(round), feedMs: thin.feedMs.map(round), ratio: round(thin.ratio) },
      swarm: swarm === null ? null : { shoalMs: swarm.rounds.map((r) => round(r.shoal.ms)), ratios: swarm.rounds.map((r) => round(r.ratio)) }
    }))
  } finally {
    await source.close()
    await tmp.removeAll()
  }
}

function roundDeep (o: unknown): unknown {
  if (typeof o === 'number') return round(o)
  if (o === null || typeof o !== 'object') return o
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, roundDeep(v)]))
}

runBench('bench:scale', tmp, main)
