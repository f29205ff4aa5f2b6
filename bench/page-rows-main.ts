/**
 * The scale run's page rows alone: on a cached, indexed scale data set (a copy of
 * /tmp/shoal-scale-FxP, see scale.ts), builds and settles the raw page control as scale.ts does,
 * then runs the reader-only child (page-rows-child.ts) `--rounds` times with every source author
 * followed, and prints each round's rows with their GC counts and the load average. The
 * source feeds are not opened: the child opens only the reader, as `shoal serve` would.
 *
 *   node --max-semi-space-size=2 --heap-growing-percent=50 dist/bench/page-rows-main.js
 *        --cache DIR [--runs 300] [--rounds 2] [--child-flags=--trace-gc]
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { runChild } from './child.js'
import { printMachine, readLoad, readMachine } from './machine.js'
import type { PageRows } from './page-rows.js'
import type { PageRowsInput } from './page-rows-child.js'
import { RawPageRead } from './raw-page-read.js'
import { fmt } from './report.js'
import type { SourceMeta } from './source-feeds.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const { values: argv } = parseArgs({ options: { cache: { type: 'string' }, runs: { type: 'string', default: '300' }, rounds: { type: 'string', default: '2' }, 'child-flags': { type: 'string', default: '' } } })
if (argv.cache === undefined) throw new Error('--cache DIR is required (an indexed copy of a scale data set)')
const CACHE = path.resolve(argv.cache)
const RUNS = Number(argv.runs)
const ROUNDS = Number(argv.rounds)
const CHILD_FLAGS = argv['child-flags'] === '' ? [] : argv['child-flags'].split(' ')
const tmp = new TmpDirs()
const IDLE = '1 s before the timed runs'

function log (msg: string): void {
  process.stderr.write(`[page-rows ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

runBench('page-rows', tmp, async () => {
  const machine = readMachine()
  printMachine(machine)
  const meta = JSON.parse(await fs.readFile(path.join(CACHE, 'meta.json'), 'utf8')) as { feeds: number, source: SourceMeta }
  const rawDir = await tmp.make('raw-page')
  const raw = new RawPageRead(rawDir)
  await raw.open(meta.source.messages, 120)
  await raw.settle()
  await raw.close()
  log(`raw control: ${fmt(meta.source.messages)} entries written and settled`)
  const input: PageRowsInput = { pages: ['thread', 'more', 'home'], warmup: 100, runs: RUNS, replies: meta.source.threadReplies, dir: path.join(CACHE, 'reader'), rawDir, root: meta.source.threadRoot }
  const rounds: Array<{ load: [number[], number[]], rows: PageRows }> = []
  for (let i = 0; i < ROUNDS; i++) {
    const before = readLoad()
    const rows = (await runChild<PageRows>('page-rows-child', input, CHILD_FLAGS)).result
    const load: [number[], number[]] = [before, readLoad()]
    const pages = Object.entries(rows.pages).map(([n, r]) => `${n} ${fmt(r.p50, 2)}/${fmt(r.p99, 2)} (GC ${r.gcRuns}, RocksDB busy ${r.busyRuns}, neither p99 ${r.quietP99 === null ? '-' : fmt(r.quietP99, 2)})`)
    log(`round ${i + 1}, load ${load[0].join(' ')} -> ${load[1].join(' ')}, p50/p99 ms: ${pages.join('; ')}; raw page ${fmt(rows.rawPage.p50, 2)}/${fmt(rows.rawPage.p99, 2)}; CPU control ${fmt(rows.cpu.p50, 2)}/${fmt(rows.cpu.p99, 2)}; GCs minor ${rows.gc.minor}, major ${rows.gc.major} (${fmt(rows.gc.ms, 1)} ms); heap ${fmt(rows.heapUsedMiB)} MiB; idle ${IDLE}: event loop ${fmt(rows.idle.elu * 100, 2)}%, CPU ${fmt(rows.idle.cpuMs, 1)} ms`)
    rounds.push({ load, rows })
  }
  console.log(JSON.stringify({ date: new Date().toISOString(), runs: RUNS, execArgv: process.execArgv, rounds }))
})
