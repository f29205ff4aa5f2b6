/**
 * The memory row alone: indexes a cached scale data set (`bench/scale.ts --cache DIR`) in a child
 * process and prints the child's peak memory. Its views/ are removed first, so run it only on your
 * own copy of the data (`node dist/bench/memory-index.js --cache DIR`).
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runChild } from './child.js'
import type { IndexInput, IndexOutput } from './index-child.js'
import { MiB } from './rss-sampler.js'

async function main (): Promise<void> {
  const at = process.argv.indexOf('--cache')
  if (at < 0) throw new Error('usage: memory-index --cache DIR')
  const cache = process.argv[at + 1]
  const meta = JSON.parse(await fs.readFile(path.join(cache, 'meta.json'), 'utf8')) as { source: { length: number, feeds: Array<{ key: string }> } }
  const dir = path.join(cache, 'reader')
  await fs.rm(path.join(dir, 'views'), { recursive: true, force: true })
  const feeds = meta.source.feeds.map((f) => f.key)
  const length = meta.source.length
  const input: IndexInput = { dir, feeds, length, rebuild: true }
  const load = os.loadavg()
  const { result } = await runChild<IndexOutput>('index-child', input)
  const mib = (n: number): string => (n / MiB).toFixed(0)
  console.log(JSON.stringify({
    date: new Date().toISOString(),
    feeds: feeds.length,
    messages: result.messages,
    ms: Math.round(result.ms),
    msgsPerSec: Math.round(result.messages / (result.ms / 1000)),
    maxRssMiB: mib(result.maxRss),
    rssAfterOpenMiB: mib(result.rssBeforeIndex),
    peaksMiB: Object.fromEntries(Object.entries(result.sampled).map(([k, v]) => [k, mib(v)])),
    rssEvery5sMiB: result.rssEvery5s.map((n) => Math.round(n / MiB)).join(' '),
    load: [load, os.loadavg()].map((l) => l.map((x) => x.toFixed(2)).join(' '))
  }))
}

main().catch((err) => { console.error(err); process.exit(1) })
