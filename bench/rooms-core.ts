/**
 * Rooms benchmark (runnable alone: `node dist/bench/rooms-core.js [N] [burst]`; a phase of
 * `npm run bench`): three writers each post N messages into one room while replicating
 * in-process, until all three replicas hold all 3N. Writers post in bursts (`burst` posts issued
 * together, then the next burst), as a chat client sends what was typed while it is busy; the
 * indexer (the creator) acks after every update. Baseline: a raw Autobase with the same view (a
 * Hyperbee), the same indexer layout, encryption, acks and replication, whose apply only stores
 * each block. On both sides a fourth replica, added before the run and offline for all of it,
 * then connects to the three and catches up with fast-forward off: messages/s and how many nodes
 * its apply was given per message (1 + what reorders re-apply). Results: docs/BENCHMARKS.md.
 * Each side runs in its own process, so each peak RSS is that side's alone.
 */
import { runChild } from './child.js'
import { readLoad } from './machine.js'
import { MiB } from './rss-sampler.js'
import { fmt, type Row } from './report.js'
import { round } from './stats.js'
import { postOpBytes } from './rooms-room.js'
import { TmpDirs, runBench } from './tmp-dirs.js'
import { readMachine, printMachine } from './machine.js'
import type { RoomsChildInput, RoomsChildResult } from './rooms-child.js'

const TEXT = 'x'.repeat(100)
/** Posts each writer issues together before awaiting them. */
export const ROOM_BURST = 50
export const ROOMS_TARGET = { ratio: 0.8, appliesPerMessage: 5 }

export interface RoomsResult {
  n: number
  burst: number
  raw: RoomsChildResult
  room: RoomsChildResult
  /** Room throughput over raw throughput, both measured in this run. */
  ratio: number
  /** Room catch-up messages/s over raw catch-up messages/s. */
  catchupRatio: number
}

async function side (tmp: TmpDirs, which: 'raw' | 'room', n: number, burst: number): Promise<RoomsChildResult> {
  const dirs: string[] = []
  for (let i = 0; i < 4; i++) dirs.push(await tmp.make(`${which}-${i}`))
  const input: RoomsChildInput = { side: which, dirs, n, burst, text: TEXT, msgBytes: postOpBytes(TEXT) }
  return (await runChild<RoomsChildResult>('rooms-child', input)).result
}

/** The rooms phase: raw Autobase, then the room, each in a child process, 3 writers x n messages. */
export async function roomsBench (tmp: TmpDirs, n: number, burst = ROOM_BURST, log: (m: string) => void = () => {}): Promise<RoomsResult> {
  const raw = await side(tmp, 'raw', n, burst)
  log(`rooms raw: ${(raw.ms / 1000).toFixed(1)} s, catch-up ${(raw.catchupMs / 1000).toFixed(1)} s`)
  const room = await side(tmp, 'room', n, burst)
  log(`rooms room: ${(room.ms / 1000).toFixed(1)} s, catch-up ${(room.catchupMs / 1000).toFixed(1)} s`)
  return { n, burst, raw, room, ratio: raw.ms / room.ms, catchupRatio: raw.catchupMs / room.catchupMs }
}

/** Rows of the `npm run bench` table. */
export function roomsRows (r: RoomsResult): Row[] {
  const total = 3 * r.n
  const perSec = (ms: number): string => `${fmt(total / (ms / 1000))} msgs/s`
  return [
    { metric: `room, 3 writers x ${fmt(r.n)} msgs (bursts of ${r.burst}), 3 replicas converged`, shoal: perSec(r.room.ms), baseline: `${perSec(r.raw.ms)} (raw Autobase, same view and indexer)`, ratio: `${fmt(r.ratio, 2)}x`, target: '>= 0.8x', met: r.ratio >= ROOMS_TARGET.ratio },
    { metric: 'room catch-up, member offline for all of it', shoal: `${perSec(r.room.catchupMs)}, ${fmt(r.room.appliesPerMessage, 2)} applies/msg`, baseline: `${perSec(r.raw.catchupMs)}, ${fmt(r.raw.appliesPerMessage, 2)} applies/msg`, ratio: `${fmt(r.catchupRatio, 2)}x`, target: '<= 5 applies/msg', met: r.room.appliesPerMessage <= ROOMS_TARGET.appliesPerMessage },
    { metric: 'peak RSS, rooms phase (4 replicas in one process)', shoal: `${fmt(r.room.peakRss / MiB)} MiB (${fmt(r.room.writePeakRss / MiB)} until written)`, baseline: `${fmt(r.raw.peakRss / MiB)} MiB (${fmt(r.raw.writePeakRss / MiB)} until written)`, ratio: '-', target: 'report', met: null }
  ]
}

/** The rooms phase in the JSON line (times in ms, memory in MiB). */
export function roomsJson (r: RoomsResult): unknown {
  const s = (x: RoomsChildResult): Record<string, unknown> => ({
    ms: round(x.ms), perSec: round(3 * r.n / (x.ms / 1000)), catchupMs: round(x.catchupMs), catchupPerSec: round(3 * r.n / (x.catchupMs / 1000)),
    appliesPerMessage: round(x.appliesPerMessage), peakRssMiB: round(x.peakRss / MiB), writePeakRssMiB: round(x.writePeakRss / MiB), peakHeapUsedMiB: round(x.peakHeapUsed / MiB), loadAtStart: x.loadAtStart, loadAtEnd: x.loadAtEnd
  })
  return { n: r.n, burst: r.burst, raw: s(r.raw), room: s(r.room), ratio: round(r.ratio), catchupRatio: round(r.catchupRatio), target: ROOMS_TARGET, met: r.ratio >= ROOMS_TARGET.ratio && r.room.appliesPerMessage <= ROOMS_TARGET.appliesPerMessage }
}

/** Lines for a RoomsResult. */
export function roomsLines (r: RoomsResult): string[] {
  const total = 3 * r.n
  const rate = (ms: number): string => `${ms.toFixed(0).padStart(8)} ms  ${(total / (ms / 1000)).toFixed(0).padStart(6)} msgs/s`
  const load = (s: RoomsChildResult): string => `load ${s.loadAtStart[0]} -> ${s.loadAtEnd[0]}`
  return [
    `rooms: 3 writers x ${r.n} messages in bursts of ${r.burst}, 3 replicas in-process, converged; each side in its own process`,
    `raw        write ${rate(r.raw.ms)}   catch-up ${rate(r.raw.catchupMs)}  ${r.raw.appliesPerMessage.toFixed(2)} applies/msg  peak RSS ${(r.raw.writePeakRss / MiB).toFixed(0)} MiB writing, ${(r.raw.peakRss / MiB).toFixed(0)} MiB in all  (${load(r.raw)})`,
    `room       write ${rate(r.room.ms)}   catch-up ${rate(r.room.catchupMs)}  ${r.room.appliesPerMessage.toFixed(2)} applies/msg  peak RSS ${(r.room.writePeakRss / MiB).toFixed(0)} MiB writing, ${(r.room.peakRss / MiB).toFixed(0)} MiB in all  (${load(r.room)})`,
    `room throughput / raw   ${r.ratio.toFixed(2)}x (target >= 0.8x)`,
    `room catch-up / raw     ${r.catchupRatio.toFixed(2)}x; ${r.room.appliesPerMessage.toFixed(2)} applies per message (target <= 5)`
  ]
}

if (process.argv[1]?.endsWith('rooms-core.js')) {
  const tmp = new TmpDirs()
  const n = Number(process.argv[2] ?? 300)
  const burst = Number(process.argv[3] ?? ROOM_BURST)
  runBench('bench:rooms-core', tmp, async () => {
    const machine = readMachine()
    printMachine(machine)
    try {
      const r = await roomsBench(tmp, n, burst, m => console.error(`[rooms] ${m}`))
      for (const l of roomsLines(r)) console.log(l)
      const loadAtEnd = readLoad()
      console.log(`load     ${loadAtEnd.join(' ')} (1/5/15 min, at the end)`)
      console.log(JSON.stringify({ date: machine.date, command: `node dist/bench/rooms-core.js ${n} ${burst}`, revision: machine.revision, loadAtStart: machine.load, loadAtEnd, rooms: roomsJson(r) }))
    } finally {
      await tmp.removeAll()
    }
  })
}
