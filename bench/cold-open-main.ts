/**
 * The cold-open row alone: `node dist/bench/cold-open-main.js DIR [runs]` opens the (indexed,
 * cleanly closed) node in DIR in a fresh process per run and prints the time to `ready()` and to
 * the first home timeline page, with the load average. DIR is changed (its views and state are
 * written on close), so use a copy of benchmark data, never a shared folder.
 */
import os from 'node:os'
import { runChild } from './child.js'
import type { ColdOpen } from './cold-open.js'

const dir = process.argv[2]
const runs = Number(process.argv[3] ?? 5)
if (dir === undefined || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node dist/bench/cold-open-main.js DIR [runs]')
  process.exit(2)
}
console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`)
const out: Array<ColdOpen & { sinceProcessStartMs: number }> = []
for (let i = 0; i < runs; i++) {
  const { result } = await runChild<ColdOpen & { sinceProcessStartMs: number }>('cold-open-child', { dir })
  out.push(result)
  console.log(`run ${i + 1}: first page ${result.ms.toFixed(0)} ms (cpu ${result.cpuMs.toFixed(0)} ms), ready ${result.readyMs.toFixed(0)} ms (cpu ${result.readyCpuMs.toFixed(0)} ms), since process start ${result.sinceProcessStartMs.toFixed(0)} ms`)
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`median: first page ${med(out.map((r) => r.ms)).toFixed(0)} ms (cpu ${med(out.map((r) => r.cpuMs)).toFixed(0)} ms), ready ${med(out.map((r) => r.readyMs)).toFixed(0)} ms (cpu ${med(out.map((r) => r.readyCpuMs)).toFixed(0)} ms)`)
console.log(`load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`)
