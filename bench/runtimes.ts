/**
 * Bare vs Node: `npm run bench:bare` runs bench/runtime-phases.ts (publish, index, query) under
 * both runtimes in one run, ROUNDS times, alternating which goes first, each in a fresh storage
 * folder, and prints per phase the median Bare ÷ Node ratio of throughput per CPU-second (the
 * figure that load from other processes disturbs least) and per wall-second, with the load
 * average. Options: SHOAL_BENCH_COUNT (posts, default 3000), SHOAL_BENCH_ROUNDS (default 3).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PhaseCost, RuntimeResult } from './runtime-phases.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const CHILD = path.join(ROOT, 'dist', 'bench', 'runtime-phases.js')
const RUNTIMES: Record<string, string> = { node: process.execPath, bare: path.join(ROOT, 'node_modules', '.bin', 'bare') }
const PHASES = ['publish', 'index', 'query'] as const

function runOnce (runtime: string, dir: string, count: number): Promise<RuntimeResult> {
  return new Promise((resolve, reject) => {
    execFile(RUNTIMES[runtime], [CHILD, dir, String(count)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))
      if (err !== null || line === undefined) reject(new Error(`${runtime}: ${err?.message ?? 'no result'}\n${stderr}`))
      else resolve(JSON.parse(line.slice(7)) as RuntimeResult)
    })
  })
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const perCpu = (c: PhaseCost): number => c.ops / (c.cpuMs / 1000)
const perWall = (c: PhaseCost): number => c.ops / (c.wallMs / 1000)

const count = Number(process.env.SHOAL_BENCH_COUNT ?? 3000)
const rounds = Number(process.env.SHOAL_BENCH_ROUNDS ?? 3)
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'shoal-runtimes-'))
const loadBefore = os.loadavg()
const results: Record<string, RuntimeResult[]> = { node: [], bare: [] }
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['node', 'bare'] : ['bare', 'node']
    for (const runtime of order) results[runtime].push(await runOnce(runtime, path.join(tmp, `${runtime}-${r}`), count))
  }
} finally {
  await fs.rm(tmp, { recursive: true, force: true })
}
const loadAfter = os.loadavg()

console.log(`# Bare ÷ Node, ${count} posts, ${rounds} rounds; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadAfter.map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`)
console.log('| phase | Node ops/CPU-s | Bare ops/CPU-s | Bare ÷ Node per CPU-s | Bare ÷ Node per wall-s |')
console.log('|---|---:|---:|---:|---:|')
for (const p of PHASES) {
  const cpuRatios = results.node.map((n, i) => perCpu(results.bare[i][p]) / perCpu(n[p]))
  const wallRatios = results.node.map((n, i) => perWall(results.bare[i][p]) / perWall(n[p]))
  const nodeCpu = median(results.node.map((x) => perCpu(x[p])))
  const bareCpu = median(results.bare.map((x) => perCpu(x[p])))
  console.log(`| ${p} | ${nodeCpu.toFixed(0)} | ${bareCpu.toFixed(0)} | ${median(cpuRatios).toFixed(2)}× | ${median(wallRatios).toFixed(2)}× |`)
}
