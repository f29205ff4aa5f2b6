/**
 * The memory row alone: indexes a cached scale data set (`bench/scale.ts --cache DIR`) in a child
 * process and prints the child's peak memory. Its views/ are removed first, so run it only on your
 * own copy of the data (`node dist/bench/memory-index.js --cache DIR [--probe] [--no-launch-flags]`).
 * The child runs with the product's launch flags (NODE_FLAGS) after this process's own, unless
 * `--no-launch-flags`; `--probe` adds where RSS sits at its peak and every 5 s (bench/memory-probe.ts).
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { NODE_FLAGS } from '../src/cli/node-flags.js'
import { runChild } from './child.js'
import type { IndexInput, IndexOutput } from './index-child.js'
import type { MemoryBreakdown } from './memory-probe.js'
import { MiB } from './rss-sampler.js'

/** The probe's breakdown in MiB. */
function breakdownMiB (b: MemoryBreakdown): Record<string, unknown> {
  const mib = (n: number): number => Math.round(n / MiB * 10) / 10
  return { rss: mib(b.rss), file: mib(b.file), brkHeap: mib(b.brkHeap), arenas: mib(b.arenas), arenaCount: b.arenaCount, otherAnon: mib(b.otherAnon), external: mib(b.external), v8: Object.fromEntries(Object.entries(b.v8Spaces).map(([k, v]) => [k, mib(v)])) }
}

async function main (): Promise<void> {
  const at = process.argv.indexOf('--cache')
  if (at < 0) throw new Error('usage: memory-index --cache DIR [--probe] [--no-launch-flags]')
  const cache = process.argv[at + 1]
  const meta = JSON.parse(await fs.readFile(path.join(cache, 'meta.json'), 'utf8')) as { source: { length: number, feeds: Array<{ key: string }> } }
  const dir = path.join(cache, 'reader')
  await fs.rm(path.join(dir, 'views'), { recursive: true, force: true })
  const feeds = meta.source.feeds.map((f) => f.key)
  const length = meta.source.length
  const input: IndexInput = { dir, feeds, length, rebuild: true, probe: process.argv.includes('--probe') }
  // --no-launch-flags: the child runs with this process's node flags only (to measure the flags themselves).
  const launchFlags = process.argv.includes('--no-launch-flags') ? [] : NODE_FLAGS
  const load = os.loadavg()
  const { result } = await runChild<IndexOutput>('index-child', input, launchFlags) // launched as bin/shoal.js launches the node
  const mib = (n: number): string => (n / MiB).toFixed(0)
  console.log(JSON.stringify({
    date: new Date().toISOString(),
    childFlags: [...process.execArgv, ...launchFlags].join(' '),
    feeds: feeds.length,
    messages: result.messages,
    ms: Math.round(result.ms),
    msgsPerSec: Math.round(result.messages / (result.ms / 1000)),
    maxRssMiB: mib(result.maxRss),
    rssAfterOpenMiB: mib(result.rssBeforeIndex),
    peaksMiB: Object.fromEntries(Object.entries(result.sampled).map(([k, v]) => [k, mib(v)])),
    rssEvery5sMiB: result.rssEvery5s.map((n) => Math.round(n / MiB)).join(' '),
    ...(result.breakdown == null ? {} : { atPeakMiB: breakdownMiB(result.breakdown) }),
    ...(result.breakdownEvery5s === undefined || result.breakdownEvery5s.length === 0
      ? {}
      : { every5sMiB: ['arenas', 'brkHeap', 'otherAnon', 'file'].map((k) => `${k} ${result.breakdownEvery5s?.map((b) => Math.round(b[k as 'arenas'] / MiB)).join(' ')}`) }),
    load: [load, os.loadavg()].map((l) => l.map((x) => x.toFixed(2)).join(' '))
  }))
}

main().catch((err) => { console.error(err); process.exit(1) })
