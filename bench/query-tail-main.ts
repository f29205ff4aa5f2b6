/**
 * Where the p99 of a warm page comes from, on a cached scale data set that is already indexed
 * (a copy of /tmp/shoal-scale-FxP, see scale.ts): opens the reader once per follow density and
 * times, turn by turn, the big thread's first page, its "more replies" page, the home timeline
 * and the raw RocksDB page control. For each query it prints p50/p99, the native RocksDB calls
 * per page (ViewDb.stats), and how many runs had a V8 garbage collection inside them (a
 * perf_hooks `gc` observer) with the p99 of the runs without one. Leaves the follows as it found
 * them only when the last density given is every source identity.
 *
 * With `--alloc`, it also prints the bytes each page allocates (V8's sampling heap profiler,
 * counting objects a GC has already collected), measured after the timed runs.
 *
 *   node --max-semi-space-size=2 dist/bench/query-tail-main.js --cache DIR [--runs 300]
 *        [--follows 3000,60,1,3000] [--alloc]
 */
import path from 'node:path'
import { Session } from 'node:inspector/promises'
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Shoal } from '../src/node/shoal.js'
import { followFirst } from './home-phase.js'
import { printMachine, readLoad, readMachine } from './machine.js'
import { RawPageRead } from './raw-page-read.js'
import { fmt } from './report.js'
import { openCachedScale } from './source-feeds.js'
import { summarize } from './stats.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const { values: argv } = parseArgs({ options: { cache: { type: 'string' }, runs: { type: 'string', default: '300' }, follows: { type: 'string' }, alloc: { type: 'boolean', default: false } } })
if (argv.cache === undefined) throw new Error('--cache DIR is required (an indexed copy of a scale data set)')
const CACHE = path.resolve(argv.cache)
const RUNS = Number(argv.runs)
const WARMUP = 50
const tmp = new TmpDirs()

interface Sample { start: number, ms: number, batches: number, gets: number, scans: number }

const gcs: PerformanceEntry[] = []
const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcs.push(e) })
observer.observe({ entryTypes: ['gc'] })

function log (msg: string): void {
  process.stderr.write(`[tail ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

/** The runs during which a GC started or ran. */
function withGc (samples: Sample[]): boolean[] {
  return samples.map((s) => gcs.some((g) => g.startTime < s.start + s.ms && g.startTime + g.duration > s.start))
}

/** GC time that fell inside one run (ms). */
function gcTime (s: Sample): number {
  let ms = 0
  for (const g of gcs) ms += Math.max(0, Math.min(g.startTime + g.duration, s.start + s.ms) - Math.max(g.startTime, s.start))
  return ms
}

function report (name: string, samples: Sample[]): Record<string, number> {
  const all = summarize(samples.map((s) => s.ms))
  const gc = withGc(samples)
  const clean = samples.filter((_, i) => !gc[i]).map((s) => s.ms)
  const dirty = samples.filter((_, i) => gc[i]).map((s) => s.ms)
  const cleanS = clean.length > 0 ? summarize(clean) : null
  const dirtyS = dirty.length > 0 ? summarize(dirty) : null
  const slowest = samples.map((s, i) => [s.ms, i]).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, i]) => i + 1)
  const batches = samples.reduce((a, s) => a + s.batches, 0) / samples.length
  const gets = samples.reduce((a, s) => a + s.gets, 0) / samples.length
  const scans = samples.reduce((a, s) => a + s.scans, 0) / samples.length
  const gcMs = samples.reduce((a, s) => a + gcTime(s), 0) / samples.length
  log(`${name}: p50 ${fmt(all.p50, 2)} / p99 ${fmt(all.p99, 2)} / max ${fmt(all.max, 2)} ms; ${fmt(scans, 1)} scans + ${fmt(batches, 1)} read batches (${fmt(gets)} keys)/page; GC ${fmt(gcMs, 3)} ms/page; ` +
    `${dirty.length}/${samples.length} runs with a GC (their p50 ${dirtyS === null ? '-' : fmt(dirtyS.p50, 2)} ms), runs without: p99 ${cleanS === null ? '-' : fmt(cleanS.p99, 2)} ms; ` +
    `slowest runs: #${slowest.join(', #')} of ${samples.length} (early runs there would mean a cold start)`)
  return { p50: all.p50, p99: all.p99, max: all.max, scans, readBatches: batches, gets, gcMsPerPage: gcMs, runsWithGc: dirty.length, p99WithoutGc: cleanS?.p99 ?? NaN }
}

interface SamplingNode { selfSize: number, children: SamplingNode[] }

/** Bytes allocated per call of `fn` (sampled every 256 bytes, collected objects included). */
async function allocated (fn: () => Promise<unknown>, calls: number): Promise<number> {
  const session = new Session()
  session.connect()
  try {
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    for (let i = 0; i < calls; i++) await fn()
    const { profile } = await session.post('HeapProfiler.stopSampling') as { profile: { head: SamplingNode } }
    let total = 0
    const walk = (n: SamplingNode): void => { total += n.selfSize; for (const c of n.children) walk(c) }
    walk(profile.head)
    return total / calls
  } finally {
    session.disconnect()
  }
}

runBench('query-tail', tmp, async () => {
  const machine = readMachine()
  printMachine(machine)
  const { meta, source, reader } = await openCachedScale(CACHE)
  const raw = new RawPageRead(await tmp.make('raw-page'))
  const densities = (argv.follows ?? String(meta.feeds)).split(',').map(Number)
  const out: Record<string, unknown> = {}
  try {
    await raw.open(Math.min(source.messages, 100_000), 120)
    for (const keep of densities) {
      const change = await followFirst(reader, source, keep)
      if (change.changed > 0) log(`${keep} followed: ${change.changed} follow changes in ${fmt(change.ms)} ms`)
      const shoal = new Shoal(reader)
      await shoal.ready()
      try {
        // A views version change rebuilds the views in the background: measure only once indexed.
        const t = performance.now()
        for (const f of source.feeds) await shoal.waitForIndexed(f.key, source.length)
        log(`indexed (${fmt(shoal.totals().messages)} msgs) after ${fmt(performance.now() - t)} ms`)
        const first = await shoal.thread(source.threadRoot, { limit: 50 })
        if (first.next === null) throw new Error('thread: expected more than one page')
        const next = first.next
        const queries: Record<string, () => Promise<unknown>> = {
          thread: () => shoal.thread(source.threadRoot, { limit: 50 }),
          more: () => shoal.thread(source.threadRoot, { limit: 50, before: next }),
          home: () => shoal.timeline({ limit: 50 }),
          raw: () => raw.page(50)
        }
        const names = keep === meta.feeds ? Object.keys(queries) : ['home', 'raw']
        const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]))
        for (let i = 0; i < WARMUP + RUNS; i++) {
          for (const n of names) {
            const before = n === 'raw' ? null : shoal.views.io()
            const start = performance.now()
            await queries[n]()
            const ms = performance.now() - start
            const after = n === 'raw' ? null : shoal.views.io()
            const batches = before === null || after === null ? 1 : after.readBatches - before.readBatches
            const gets = before === null || after === null ? 50 : after.gets - before.gets
            const scans = before === null || after === null ? 1 : after.scans - before.scans
            if (i >= WARMUP) samples[n].push({ start, ms, batches, gets, scans })
          }
        }
        await new Promise((resolve) => setImmediate(resolve))
        const row: Record<string, unknown> = {}
        for (const n of names) row[n] = report(`${keep} followed, ${n}`, samples[n])
        if (argv.alloc === true) {
          for (const n of names) {
            const bytes = await allocated(queries[n], 200)
            log(`${keep} followed, ${n}: ${fmt(bytes / 1024)} KiB allocated per page`)
            ;(row[n] as Record<string, number>).allocatedKiB = bytes / 1024
          }
        }
        out[String(keep)] = row
      } finally {
        await shoal.close()
      }
    }
    console.log(JSON.stringify({ date: new Date().toISOString(), load: [machine.load, readLoad()], runs: RUNS, execArgv: process.execArgv, out }))
  } finally {
    observer.disconnect()
    await raw.close()
    await source.close()
  }
})
