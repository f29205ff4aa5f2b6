/**
 * Reads a frame recording (ui-browser.ts): frame gaps, long tasks, and where the time of the long
 * frames went (Long Animation Frames), lined up with what the page's socket received.
 */
import type { FrameRecording } from './ui-browser.js'
import { percentile, round } from './stats.js'

export const FRAME_BUDGET_MS = 100

export interface FrameSummary {
  /** Frames (requestAnimationFrame callbacks) in the window, and the window's length. */
  frames: number
  windowMs: number
  maxGapMs: number
  p50GapMs: number
  p99GapMs: number
  over50: number
  over100: number
  /** Share of the window spent in frames longer than 100 ms. */
  over100Share: number
  longTasks: { count: number, maxMs: number, totalMs: number, over100: number }
}

export interface SocketSummary {
  changedEvents: number
  statusEvents: number
  timelineCalls: number
  /** The `limit` each timeline call asked for: value → count. */
  timelineLimits: Record<string, number>
  timelineBytes: { mean: number, max: number }
  /** From sending a timeline call to its answer arriving (page clock). */
  timelineLatencyMs: { p50: number, max: number }
}

export interface LongFrameCause {
  /** Long animation frames over 100 ms, and their total. */
  count: number
  totalMs: number
  /** Of that total: script, style and layout forced by script, and the frame's own style/layout/paint. */
  scriptMs: number
  forcedLayoutMs: number
  renderMs: number
  /** How many of those frames began within one frame after a timeline answer arrived. */
  afterTimelineAnswer: number
  /** Script time by what started it (invoker), largest first. */
  invokers: Array<{ invoker: string, ms: number, count: number }>
}

export function summarizeFrames (rec: FrameRecording, from: number, to: number): FrameSummary {
  const t = rec.frames.filter((x) => x >= from && x <= to)
  const gaps: number[] = []
  for (let i = 1; i < t.length; i++) gaps.push(t[i] - t[i - 1])
  const sorted = [...gaps].sort((a, b) => a - b)
  const long = rec.longTasks.filter((x) => x.start >= from && x.start <= to)
  const over100 = gaps.filter((g) => g > FRAME_BUDGET_MS)
  const windowMs = t.length > 1 ? t[t.length - 1] - t[0] : 0
  return {
    frames: t.length,
    windowMs: round(windowMs),
    maxGapMs: round(sorted.length > 0 ? sorted[sorted.length - 1] : 0),
    p50GapMs: round(sorted.length > 0 ? percentile(sorted, 50) : 0),
    p99GapMs: round(sorted.length > 0 ? percentile(sorted, 99) : 0),
    over50: gaps.filter((g) => g > 50).length,
    over100: over100.length,
    over100Share: windowMs > 0 ? round(over100.reduce((a, b) => a + b, 0) / windowMs) : 0,
    longTasks: {
      count: long.length,
      maxMs: round(Math.max(0, ...long.map((x) => x.duration))),
      totalMs: round(long.reduce((a, b) => a + b.duration, 0)),
      over100: long.filter((x) => x.duration > FRAME_BUDGET_MS).length
    }
  }
}

export function summarizeSocket (rec: FrameRecording, from: number, to: number): SocketSummary {
  const received = rec.ws.received.filter((r) => r.t >= from && r.t <= to)
  const sent = rec.ws.sent.filter((s) => s.t >= from && s.t <= to && s.method === 'timeline')
  const limits: Record<string, number> = {}
  const bytes: number[] = []
  const latency: number[] = []
  for (const s of sent) {
    limits[String(s.limit)] = (limits[String(s.limit)] ?? 0) + 1
    const answer = rec.ws.received.find((r) => r.kind === 'response' && r.id === s.id)
    if (answer !== undefined) {
      bytes.push(answer.bytes)
      latency.push(answer.t - s.t)
    }
  }
  const sortedLatency = [...latency].sort((a, b) => a - b)
  return {
    changedEvents: received.filter((r) => r.kind === 'changed').length,
    statusEvents: received.filter((r) => r.kind === 'status').length,
    timelineCalls: sent.length,
    timelineLimits: limits,
    timelineBytes: { mean: round(bytes.reduce((a, b) => a + b, 0) / Math.max(1, bytes.length)), max: Math.max(0, ...bytes) },
    timelineLatencyMs: {
      p50: round(sortedLatency.length > 0 ? percentile(sortedLatency, 50) : 0),
      max: round(sortedLatency.length > 0 ? sortedLatency[sortedLatency.length - 1] : 0)
    }
  }
}

export function longFrameCauses (rec: FrameRecording, from: number, to: number): LongFrameCause {
  const loafs = rec.loafs.filter((l) => l.start >= from && l.start <= to && l.duration > FRAME_BUDGET_MS)
  const answers = new Set(rec.ws.sent.filter((s) => s.method === 'timeline').map((s) => s.id))
  const answerTimes = rec.ws.received.filter((r) => r.kind === 'response' && r.id !== null && answers.has(r.id)).map((r) => r.t)
  const invokers = new Map<string, { ms: number, count: number }>()
  let scriptMs = 0
  let forcedLayoutMs = 0
  let renderMs = 0
  let afterTimelineAnswer = 0
  for (const l of loafs) {
    for (const s of l.scripts) {
      scriptMs += s.duration
      forcedLayoutMs += s.forced
      const key = `${s.type} ${s.invoker}`
      const cur = invokers.get(key) ?? { ms: 0, count: 0 }
      cur.ms += s.duration
      cur.count++
      invokers.set(key, cur)
    }
    const renderFrom = l.renderStart > 0 ? l.renderStart : l.start + l.duration
    renderMs += l.start + l.duration - renderFrom
    if (answerTimes.some((t) => t >= l.start - 17 && t <= l.start + l.duration)) afterTimelineAnswer++
  }
  return {
    count: loafs.length,
    totalMs: round(loafs.reduce((a, b) => a + b.duration, 0)),
    scriptMs: round(scriptMs),
    forcedLayoutMs: round(forcedLayoutMs),
    renderMs: round(renderMs),
    afterTimelineAnswer,
    invokers: [...invokers.entries()].map(([invoker, v]) => ({ invoker, ms: round(v.ms), count: v.count })).sort((a, b) => b.ms - a.ms).slice(0, 6)
  }
}

/**
 * Of the page's frames over 100 ms, how many overlap a stall (a frame over 50 ms) of the control
 * page, which does nothing but draw frames: those were at least partly the machine, not the UI.
 * Both recordings are put on the wall clock through their pages' timeOrigin.
 */
export function overlapsWithControl (rec: FrameRecording, control: FrameRecording, from: number, to: number): number {
  const gaps = (r: FrameRecording, over: number): Array<[number, number]> => {
    const out: Array<[number, number]> = []
    for (let i = 1; i < r.frames.length; i++) {
      if (r.frames[i] - r.frames[i - 1] > over) out.push([r.timeOrigin + r.frames[i - 1], r.timeOrigin + r.frames[i]])
    }
    return out
  }
  const stalls = gaps(control, 50)
  const long = gaps(rec, FRAME_BUDGET_MS).filter(([a]) => a >= rec.timeOrigin + from && a <= rec.timeOrigin + to)
  return long.filter(([a, b]) => stalls.some(([c, d]) => c < b && d > a)).length
}
