/**
 * Debian's Chromium driven by playwright-core (loopback only), and the probes the UI bench puts in
 * the page. The probes are plain JS strings: this project compiles without the DOM library.
 *
 * - STARTUP_PROBE (an init script, before the app's own code): when the first post enters the
 *   DOM, and the frame after it was painted (two requestAnimationFrame callbacks later), plus the
 *   browser's own paint entries (first-contentful-paint, largest-contentful-paint).
 * - WS_PROBE (an init script): wraps the page's WebSocket to log, in the page's clock, each request
 *   sent (method, limit) and each message received (kind, size). It only reads strings.
 * - the frame recorder (installed on demand): a requestAnimationFrame loop, the Long Tasks API and
 *   Long Animation Frames (with their script attribution).
 */
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env.SHOAL_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export function launchChromium (): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
}

export const STARTUP_PROBE = `(() => {
  const m = window.__uiStartup = { postsInDom: null, postCount: 0, firstFrame: null, painted: null, fcp: null, lcp: [] }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') m.fcp = e.startTime
    }).observe({ type: 'paint', buffered: true })
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const el = e.element
        m.lcp.push({ t: e.renderTime || e.startTime, size: e.size, inPost: !!(el && el.closest && el.closest('[data-testid="post"]')) })
      }
    }).observe({ type: 'largest-contentful-paint', buffered: true })
  } catch (err) {
    m.observerError = String(err)
  }
  const check = () => {
    if (m.postsInDom !== null) return
    const posts = document.querySelectorAll('[data-testid="post"]')
    if (posts.length === 0) return
    m.postsInDom = performance.now()
    m.postCount = posts.length
    observer.disconnect()
    // The first callback runs in the frame that paints the posts; the second after that paint.
    requestAnimationFrame(() => {
      m.firstFrame = performance.now()
      requestAnimationFrame(() => { m.painted = performance.now() })
    })
  }
  const observer = new MutationObserver(check)
  observer.observe(document, { childList: true, subtree: true })
})()`

export const WS_PROBE = `(() => {
  const log = window.__uiWs = { opened: null, sent: [], received: [] }
  const Native = window.WebSocket
  const methodRe = /"method":"([a-zA-Z]+)"/
  const limitRe = /"limit":([0-9]+)/
  const idRe = /"id":([0-9]+)/
  window.WebSocket = class extends Native {
    constructor (...args) {
      super(...args)
      this.addEventListener('open', () => { if (log.opened === null) log.opened = performance.now() })
      this.addEventListener('message', (ev) => {
        const d = typeof ev.data === 'string' ? ev.data : ''
        const head = d.slice(0, 48)
        const kind = head.startsWith('{"type":"event"') ? (head.match(/"event":"([a-z]+)"/) || [])[1] || 'event' : 'response'
        const id = kind === 'response' ? Number((head.match(idRe) || [])[1]) : null
        log.received.push({ t: performance.now(), kind, id, bytes: d.length })
      })
    }
    send (data) {
      if (typeof data === 'string') {
        const limit = data.match(limitRe)
        log.sent.push({ t: performance.now(), id: Number((data.match(idRe) || [])[1]), method: (data.match(methodRe) || [])[1] || '?', limit: limit ? Number(limit[1]) : null })
      }
      return super.send(data)
    }
  }
})()`

export interface StartupMarks {
  timeOrigin: number
  postsInDom: number
  postCount: number
  firstFrame: number
  painted: number
  fcp: number | null
  lcp: Array<{ t: number, size: number, inPost: boolean }>
  nav: { responseEnd: number, domContentLoaded: number, loadEventEnd: number }
  /** The script bundle's fetch, and the launch-code exchange (resource timing). */
  scriptEnd: number | null
  launchEnd: number | null
  wsOpened: number | null
  /** The first answer carrying timeline items. */
  firstTimelineAt: number | null
}

/** Waits until the startup probe saw the painted frame, then reads every mark (page clock, ms). */
export async function readStartupMarks (page: Page, timeoutMs: number): Promise<StartupMarks> {
  // A function, not a string: the app's CSP forbids eval, which string predicates need.
  await page.waitForFunction(() => (globalThis as any).__uiStartup?.painted != null, null, { timeout: timeoutMs, polling: 20 })
  return await page.evaluate(`(() => {
    const m = window.__uiStartup
    const ws = window.__uiWs
    const nav = performance.getEntriesByType('navigation')[0]
    const res = performance.getEntriesByType('resource')
    const script = res.find((r) => r.initiatorType === 'script' || r.name.endsWith('.js'))
    const launch = res.find((r) => r.name.includes('/api/launch'))
    const sentTimeline = ws ? ws.sent.find((s) => s.method === 'timeline') : undefined
    const answer = sentTimeline ? ws.received.find((r) => r.kind === 'response' && r.id === sentTimeline.id) : undefined
    return {
      timeOrigin: performance.timeOrigin,
      postsInDom: m.postsInDom, postCount: m.postCount, firstFrame: m.firstFrame, painted: m.painted, fcp: m.fcp, lcp: m.lcp,
      nav: { responseEnd: nav ? nav.responseEnd : 0, domContentLoaded: nav ? nav.domContentLoadedEventEnd : 0, loadEventEnd: nav ? nav.loadEventEnd : 0 },
      scriptEnd: script ? script.responseEnd : null,
      launchEnd: launch ? launch.responseEnd : null,
      wsOpened: ws ? ws.opened : null,
      firstTimelineAt: answer ? answer.t : null
    }
  })()`) as StartupMarks
}

export interface LoafEntry {
  start: number
  duration: number
  blocking: number
  renderStart: number
  styleAndLayoutStart: number
  scripts: Array<{ invoker: string, type: string, start: number, duration: number, forced: number, fn: string, source: string }>
}

export interface FrameRecording {
  timeOrigin: number
  /** requestAnimationFrame timestamps (ms, page clock). */
  frames: number[]
  longTasks: Array<{ start: number, duration: number }>
  loafs: LoafEntry[]
  ws: { sent: Array<{ t: number, id: number, method: string, limit: number | null }>, received: Array<{ t: number, kind: string, id: number | null, bytes: number }> }
  startedAt: number
  stoppedAt: number
  /** Posts in the DOM when the recording stopped. */
  posts: number
}

/** Starts the frame recorder in `page`; returns the page time it started at. */
export async function startFrameRecorder (page: Page): Promise<number> {
  return await page.evaluate(`(() => {
    const r = window.__uiFrames = { frames: [], longTasks: [], loafs: [], running: true, startedAt: performance.now(), observers: [] }
    const tick = (t) => { r.frames.push(t); if (r.running) requestAnimationFrame(tick) }
    requestAnimationFrame(tick)
    const onLongTasks = (entries) => { for (const e of entries) r.longTasks.push({ start: e.startTime, duration: e.duration }) }
    const onLoafs = (entries) => {
      for (const e of entries) {
        r.loafs.push({
          start: e.startTime, duration: e.duration, blocking: e.blockingDuration, renderStart: e.renderStart, styleAndLayoutStart: e.styleAndLayoutStart,
          scripts: e.scripts.map((s) => ({ invoker: s.invoker, type: s.invokerType, start: s.startTime, duration: s.duration, forced: s.forcedStyleAndLayoutDuration, fn: s.sourceFunctionName, source: s.sourceURL.split('/').pop() }))
        })
      }
    }
    const lt = new PerformanceObserver((list) => { onLongTasks(list.getEntries()) })
    lt.observe({ type: 'longtask' })
    r.observers.push({ o: lt, fn: onLongTasks })
    if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
      const lo = new PerformanceObserver((list) => { onLoafs(list.getEntries()) })
      lo.observe({ type: 'long-animation-frame' })
      r.observers.push({ o: lo, fn: onLoafs })
    }
    if (window.__uiWs) { window.__uiWs.sent.length = 0; window.__uiWs.received.length = 0 }
    return r.startedAt
  })()`) as number
}

/** Stops the recorder and returns what it saw (the observers' queued entries are flushed first). */
export async function stopFrameRecorder (page: Page): Promise<FrameRecording> {
  return await page.evaluate(`new Promise((resolve) => {
    const r = window.__uiFrames
    // One more frame so entries for the last long frame are delivered to the observers.
    requestAnimationFrame(() => setTimeout(() => {
      r.running = false
      for (const { o, fn } of r.observers) { const rest = o.takeRecords(); o.disconnect(); fn(rest) }
      const ws = window.__uiWs || { sent: [], received: [] }
      resolve({
        timeOrigin: performance.timeOrigin, frames: r.frames, longTasks: r.longTasks, loafs: r.loafs,
        ws: { sent: ws.sent.slice(), received: ws.received.slice() },
        startedAt: r.startedAt, stoppedAt: performance.now(), posts: document.querySelectorAll('[data-testid="post"]').length
      })
    }, 50))
  })`) as FrameRecording
}
