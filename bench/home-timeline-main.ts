/**
 * The home timeline rows of scale mode alone (`bench/scale.ts` runs them in its full run): on a
 * cached scale data set (see scale.ts; pass your own copy), the first home page with all, 60 and
 * 1 of the source identities followed, beside the CPU-only and raw RocksDB page controls, and what
 * the follows and unfollows between them took. Leaves the reader following everyone again.
 *
 *   node dist/bench/home-timeline-main.js --cache DIR [--runs 300] [--index]
 *
 * `--index` first removes the reader's views and indexes it again (needed once after a
 * VIEWS_VERSION change).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { followFirst, homeTimeline, type FollowChange, type HomeRun } from './home-phase.js'
import { Shoal } from '../src/node/shoal.js'
import { printMachine, readLoad, readMachine } from './machine.js'
import { RawPageRead } from './raw-page-read.js'
import { fmt } from './report.js'
import { openCachedScale } from './source-feeds.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const { values: argv } = parseArgs({ options: { cache: { type: 'string' }, runs: { type: 'string', default: '300' }, index: { type: 'boolean', default: false } } })
if (argv.cache === undefined) throw new Error('--cache DIR is required (a copy of a scale data set)')
const CACHE = path.resolve(argv.cache)
const RUNS = Number(argv.runs)
const tmp = new TmpDirs()

function log (msg: string): void {
  process.stderr.write(`[home ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

function p (s: HomeRun['timeline'] | null): string {
  return s === null ? '-' : `p50 ${fmt(s.p50, 2)} / p99 ${fmt(s.p99, 2)} ms`
}

runBench('home-timeline', tmp, async () => {
  const machine = readMachine()
  printMachine(machine)
  const { meta, source, reader } = await openCachedScale(CACHE)
  const raw = new RawPageRead(await tmp.make('raw-page'))
  try {
    if (argv.index === true) {
      await fs.rm(path.join(reader, 'views'), { recursive: true, force: true })
      const start = performance.now()
      const shoal = new Shoal(reader)
      await shoal.ready()
      for (const f of source.feeds) await shoal.addFeed(f.key)
      await Promise.all(source.feeds.map((f) => shoal.waitForIndexed(f.key, source.length)))
      const messages = shoal.totals().messages
      await shoal.close()
      log(`indexed again (untimed row; see scale.ts): ${fmt(messages)} msgs in ${fmt(performance.now() - start)} ms`)
    }
    await raw.open(Math.min(source.messages, 100_000), 120)
    const rows: Array<{ follows: number, change: FollowChange, run: HomeRun }> = []
    for (const keep of [meta.feeds, 60, 1]) {
      const change = await followFirst(reader, source, keep)
      const run = await homeTimeline(reader, RUNS, raw)
      rows.push({ follows: keep, change, run })
      log(`${keep} followed (${change.changed} follow changes in ${fmt(change.ms)} ms): home ${p(run.timeline)}; CPU control ${p(run.cpu)}; raw page ${p(run.rawPage)}`)
    }
    const back = await followFirst(reader, source, meta.feeds)
    log(`following all ${meta.feeds} again: ${back.changed} follows in ${fmt(back.ms)} ms`)
    console.log(JSON.stringify({ date: new Date().toISOString(), machine: { ...machine, loadAtEnd: readLoad() }, runs: RUNS, rows, back }))
  } finally {
    await raw.close()
    await source.close()
  }
})
