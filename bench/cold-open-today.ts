/**
 * The cold-open row of `npm run bench` alone (today's size, 100 feeds x 1,000 posts):
 * `node dist/bench/cold-open-today.js [runs]` builds the data set and an indexed reader in temp
 * folders with the same helpers, then opens the reader `runs` times in process and `runs` times
 * in a fresh process, and prints each time to the first page with its CPU time.
 */
import os from 'node:os'
import { runChild } from './child.js'
import { coldOpen, type ColdOpen } from './cold-open.js'
import { indexInChild, prepareIndexedShoal } from './index-phase.js'
import { buildSourceFeeds } from './source-feeds.js'
import { median } from './stats.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const runs = Number(process.argv[2] ?? 3)
const tmp = new TmpDirs()

runBench('cold-open-today', tmp, async () => {
  try {
    console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`)
    const source = await buildSourceFeeds(await tmp.make('source'), { feeds: 100, posts: 1000 })
    const reader = await tmp.make('reader')
    try {
      await prepareIndexedShoal(reader, source)
      await indexInChild(reader, source)
    } finally {
      await source.close()
    }
    const inProcess: ColdOpen[] = []
    for (let i = 0; i < runs; i++) inProcess.push(await coldOpen(reader))
    const fresh: ColdOpen[] = []
    for (let i = 0; i < runs; i++) fresh.push((await runChild<ColdOpen>('cold-open-child', { dir: reader })).result)
    const show = (rs: ColdOpen[]): string => rs.map((r) => `${r.ms.toFixed(0)} ms (ready ${r.readyMs.toFixed(0)}; cpu ${r.cpuMs.toFixed(0)})`).join(' / ')
    console.log(`in process: ${show(inProcess)}; median ${median(inProcess.map((r) => r.ms)).toFixed(0)} ms`)
    console.log(`fresh process: ${show(fresh)}; median ${median(fresh.map((r) => r.ms)).toFixed(0)} ms`)
    console.log(`load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`)
  } finally {
    await tmp.removeAll()
  }
})
