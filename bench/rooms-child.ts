/**
 * One side of the rooms benchmark in its own process (`runChild('rooms-child', input)`), so its
 * peak RSS is its own: the raw Autobase side or the room side, four replicas in-process.
 */
import { childMain } from './child.js'
import { readLoad } from './machine.js'
import { RssSampler } from './rss-sampler.js'
import { rawSide } from './rooms-raw.js'
import { roomSide } from './rooms-room.js'
import type { SideResult } from './rooms-mesh.js'

export interface RoomsChildInput { side: 'raw' | 'room', dirs: string[], n: number, burst: number, text: string, msgBytes: number }
export interface RoomsChildResult extends SideResult {
  /** Peak RSS of the whole side (setup, writes, catch-up). */
  peakRss: number
  /** Peak RSS until the three writers converged (before the offline replica connects). */
  writePeakRss: number
  peakHeapUsed: number
  loadAtStart: number[]
  loadAtEnd: number[]
}

childMain<RoomsChildInput, RoomsChildResult>(async (input) => {
  const loadAtStart = readLoad()
  const rss = new RssSampler()
  rss.start(100)
  let writePeakRss = 0
  const onWritten = (): void => { rss.sample(); writePeakRss = rss.peak.rss }
  const r = input.side === 'raw'
    ? await rawSide(input.dirs, input.n, input.burst, input.msgBytes, onWritten)
    : await roomSide(input.dirs, input.n, input.burst, input.text, onWritten)
  rss.stop()
  return { ...r, peakRss: rss.peak.rss, writePeakRss, peakHeapUsed: rss.peak.heapUsed, loadAtStart, loadAtEnd: readLoad() }
})
