/**
 * The unreachable-follows phase alone (`node dist/bench/unreachable-follows-main.js [N] [rounds]
 * [--one-process]`, default 5000 and 3): prints the machine, each round and the ratios; `npm run
 * bench` runs the same phase. The testnet and the online peers run in a child process unless
 * `--one-process` is given (see unreachable-follows.ts). With SHOAL_BENCH_PROFILE=DIR, the sync
 * and the close of each loaded round are CPU-profiled into DIR/follows-N-sync.cpuprofile and
 * DIR/follows-N-close.cpuprofile (this process: the measured node, and with --one-process the
 * testnet and the peers too; open them in Chrome DevTools). With SHOAL_BENCH_HEAP=1 (or =DIR, which also keeps the
 * profiles as DIR/follows-join-N.heapprofile), the join of
 * each loaded round is heap-sampled (objects later collected included) and the MB it allocated
 * is logged with the functions that allocated most (`join allocated …`).
 */
import fs from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { printMachine, readLoad, readMachine } from './machine.js'
import { TmpDirs, runBench } from './tmp-dirs.js'
import { unreachableFollows, type Around } from './unreachable-follows.js'

const N = Number(process.argv[2] ?? 5000)
const ROUNDS = Number(process.argv[3] ?? 3)
/** `--one-process`: the testnet and the peers in this process too (see unreachable-follows.ts). */
const LAYOUT = process.argv.includes('--one-process') ? 'one-process' : 'peer-process'
/** `--cli-rounds K`: rounds of the `shoal sync` command per node (default: as many as the other rounds). */
const CLI_AT = process.argv.indexOf('--cli-rounds')
const CLI_ROUNDS = CLI_AT === -1 ? ROUNDS : Number(process.argv[CLI_AT + 1])

function log (msg: string): void {
  process.stderr.write(`[follows ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

const tmp = new TmpDirs()
const PROFILE_DIR = process.env.SHOAL_BENCH_PROFILE

/** Wraps a loaded round's sync and close in CPU profiles written to PROFILE_DIR (when set). */
function profiler (): Around | undefined {
  if (PROFILE_DIR === undefined || PROFILE_DIR === '') return undefined
  let n = 0
  return async (step, fn) => {
    if (step === 'join') n++
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    try {
      return await fn()
    } finally {
      const { profile } = await session.post('Profiler.stop')
      await fs.mkdir(PROFILE_DIR, { recursive: true })
      const file = path.join(PROFILE_DIR, `follows-${n}-${step}.cpuprofile`)
      await fs.writeFile(file, JSON.stringify(profile))
      log(`profile written: ${file}`)
      session.disconnect()
    }
  }
}

/** Wraps a loaded round's join in a sampled heap profile (every allocation, collected ones too) and logs its MB. */
function heapSampler (): Around | undefined {
  if (process.env.SHOAL_BENCH_HEAP === undefined || process.env.SHOAL_BENCH_HEAP === '') return undefined
  let joins = 0
  return async (step, fn) => {
    if (step !== 'join') return await fn()
    const session = new Session()
    session.connect()
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as any)
    try {
      return await fn()
    } finally {
      const { profile } = await session.post('HeapProfiler.stopSampling')
      session.disconnect()
      const dir = process.env.SHOAL_BENCH_HEAP ?? ''
      if (dir !== '1') {
        await fs.mkdir(dir, { recursive: true })
        await fs.writeFile(path.join(dir, `follows-join-${++joins}.heapprofile`), JSON.stringify(profile))
      }
      const self = new Map<string, number>()
      let total = 0
      const within = new Map<string, number>()
      const visit = (node: any, above: Set<string>): number => {
        const size = (node.selfSize as number)
        total += size
        const name = `${node.callFrame.functionName || '(anon)'} ${String(node.callFrame.url).split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`
        self.set(name, (self.get(name) ?? 0) + size)
        const mine = !above.has(name) && String(node.callFrame.url).includes('/dist/src/')
        const next = mine ? new Set([...above, name]) : above
        let sum = size
        for (const c of node.children) sum += visit(c, next)
        if (mine) within.set(name, (within.get(name) ?? 0) + sum)
        return sum
      }
      visit(profile.head, new Set())
      const list = (m: Map<string, number>, n: number): string => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, b]) => `${(b / 1e6).toFixed(2)} ${k}`).join('\n  ')
      log(`join allocated ${(total / 1e6).toFixed(1)} MB (sampled); top self:\n  ${list(self, 12)}\nshoal functions, with callees:\n  ${list(within, 20)}`)
    }
  }
}

async function main (): Promise<void> {
  printMachine(readMachine())
  try {
    const r = await unreachableFollows({ unreachable: N, rounds: ROUNDS, timeoutMs: 600_000, makeDir: (label) => tmp.make(label), log, around: profiler() ?? heapSampler(), layout: LAYOUT, cliRounds: CLI_ROUNDS })
    const ms = (xs: number[]): string => xs.map((x) => Math.round(x)).join(' / ')
    console.log(`1 follow:                 sync ${ms(r.base.map((x) => x.syncMs))} ms, close ${ms(r.base.map((x) => x.closeMs))} ms`)
    console.log(`${N} unreachable + 1: sync ${ms(r.loaded.map((x) => x.syncMs))} ms, close ${ms(r.loaded.map((x) => x.closeMs))} ms`)
    console.log(`1 follow:                 join ${ms(r.base.map((x) => x.joinMs))} ms; \`shoal sync\` ${ms(r.cliBase.map((x) => x.ms))} ms`)
    console.log(`${N} unreachable + 1: join ${ms(r.loaded.map((x) => x.joinMs))} ms; \`shoal sync\` ${ms(r.cliLoaded.map((x) => x.ms))} ms`)
    console.log(`1 follow:                 CPU sync ${ms(r.base.map((x) => x.syncCpuMs))} ms, close ${ms(r.base.map((x) => x.closeCpuMs))} ms`)
    console.log(`${N} unreachable + 1: CPU sync ${ms(r.loaded.map((x) => x.syncCpuMs))} ms, close ${ms(r.loaded.map((x) => x.closeCpuMs))} ms`)
    console.log(`layout   ${r.layout}`)
    console.log(`CPU time: sync ${r.syncCpuRatio.toFixed(2)}x, close ${r.closeCpuRatio.toFixed(2)}x of 1 follow (this process, every thread; medians)`)
    console.log(`sync ${r.syncRatio.toFixed(2)}x, join + sync ${r.joinSyncRatio.toFixed(2)}x, close ${r.closeRatio.toFixed(2)}x, \`shoal sync\` ${r.cliRatio === null ? '-' : r.cliRatio.toFixed(2) + 'x'} of 1 follow (medians of ${ROUNDS}; target <= 2x each)`)
    console.log(`load     ${readLoad().join(' ')} (1/5/15 min, at the end)`)
    console.log(JSON.stringify(r))
  } finally {
    await tmp.removeAll()
  }
}

runBench('bench:follows', tmp, main)
