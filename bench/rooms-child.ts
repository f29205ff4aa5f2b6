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
export interface RoomsChildResult extends SideResult { peakRss: number, peakHeapUsed: number, loadAtStart: number[], loadAtEnd: number[] }

childMain<RoomsChildInput, RoomsChildResult>(async (input) => {
  const loadAtStart = readLoad()
  const rss = new RssSampler()
  rss.start(100)
  const r = input.side === 'raw'
    ? await rawSide(input.dirs, input.n, input.burst, input.msgBytes)
    : await roomSide(input.dirs, input.n, input.burst, input.text)
  rss.stop()
  return { ...r, peakRss: rss.peak.rss, peakHeapUsed: rss.peak.heapUsed, loadAtStart, loadAtEnd: readLoad() }
})
