/**
 * The unreachable-follows phase alone (`node dist/bench/unreachable-follows-main.js [N] [rounds]
 * [--one-process]`, default 5000 and 3): prints the machine, each round and the ratios; `npm run
 * bench` runs the same phase. The testnet and the online peers run in a child process unless
 * `--one-process` is given (see unreachable-follows.ts). With SHOAL_BENCH_PROFILE=DIR, the sync
 * and the close of each loaded round are CPU-profiled into DIR/follows-N-sync.cpuprofile and
 * DIR/follows-N-close.cpuprofile (this process: the measured node, and with --one-process the
 * testnet and the peers too; open them in Chrome DevTools).
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

async function main (): Promise<void> {
  printMachine(readMachine())
  try {
    const r = await unreachableFollows({ unreachable: N, rounds: ROUNDS, timeoutMs: 600_000, makeDir: (label) => tmp.make(label), log, around: profiler(), layout: LAYOUT, cliRounds: CLI_ROUNDS })
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
