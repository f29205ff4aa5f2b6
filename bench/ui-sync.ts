/**
 * UI responsiveness while a sync lands: B (`node bin/shoal.js serve`, in a child process, on the
 * storage with 100,000 messages) shows its home timeline in Chromium; A (a Shoal in this process,
 * on the same local testnet) already holds N posts. B follows A through its API, then syncs and
 * indexes A's feed live while the page refetches on every `changed` event. The page records its
 * frames from the follow until A's newest post is in B's timeline and the page has settled.
 *
 * A control page (an empty page with only the frame recorder) runs in the same browser during the
 * sync: long frames there too would mean the machine, not the UI, was the bottleneck.
 */
import type { Browser, Page } from 'playwright-core'
import safetyCatch from 'safety-catch'
import { Shoal } from '../src/node/shoal.js'
import type createTestnet from 'hyperdht/testnet.js'
import { apiCall, apiTarget, type ApiTarget } from './ui-api.js'
import { startFrameRecorder, stopFrameRecorder, WS_PROBE, type FrameRecording } from './ui-browser.js'
import { longFrameCauses, overlapsWithControl, summarizeFrames, summarizeSocket, type FrameSummary, type LongFrameCause, type SocketSummary } from './ui-frames.js'
import { epochNow, spawnShoal, type ShoalProcess } from './ui-process.js'
import { postText } from './source-feeds.js'

export type Testnet = Awaited<ReturnType<typeof createTestnet>>

export interface SyncScenario {
  /** "top", or "scrolled" when older pages were loaded first (`load`). */
  position: 'top' | 'scrolled'
  posts: number
  /** Posts in B's page when the sync started. */
  postsShownBefore: number
  /** Follow call to A's newest post in B's DOM. */
  syncMs: number
  /** The recording window: follow call to the end of the settle time after the newest post. */
  frames: FrameSummary
  idle: FrameSummary
  control: FrameSummary
  /** Frames over 100 ms in B's page that overlap a stall of the control page. */
  over100DuringControlStall: number
  socket: SocketSummary
  causes: LongFrameCause
  postsShownAfter: number
  /** A's posts in B's DOM at the end, and how many that belong in the list between them are missing. */
  writerPostsShown: number
  writerPostsMissing: number
  /** The cost of one live refresh at the list sizes before and after the sync (see refreshCost). */
  refreshBefore: RefreshCost
  refreshAfter: RefreshCost
}

/** B posts REFRESH_PROBES times (each a `changed` → one refetch and re-render); the longest frame. */
export interface RefreshCost { postsShown: number, refreshes: number, maxGapMs: number, maxLoafMs: number, over100: number }

/** A writer: a Shoal holding `posts` posts, joined to the testnet and announced. */
export async function createWriter (dir: string, name: string, posts: number, testnet: Testnet): Promise<{ shoal: Shoal, newest: string }> {
  const { shoal } = await Shoal.init(dir, { name })
  let newest = ''
  for (let i = 1; i <= posts; i++) {
    newest = `${name} ${postText(7, i)}`
    await shoal.post({ text: newest })
  }
  const replicator = await shoal.joinNetwork({ dht: testnet.createNode() })
  await replicator.flush()
  return { shoal, newest }
}

export interface ReaderNode { proc: ShoalProcess, url: string, api: ApiTarget }

/** B: `shoal serve` on `storage`, on the testnet at `bootstrap`; resolves once it is ready. */
export async function startReader (storage: string, bootstrap: string, timeoutMs: number): Promise<ReaderNode> {
  const proc = spawnShoal(['serve', '--port', '0', '--json'], { SHOAL_STORAGE: storage, SHOAL_BOOTSTRAP: bootstrap })
  const timer = setTimeout(() => { proc.stop(0).catch(safetyCatch) }, timeoutMs) // a hung start fails the run below
  try {
    const ready = JSON.parse((await proc.ready).line) as { url: string }
    return { proc, url: ready.url, api: apiTarget(ready.url) }
  } catch (err) {
    throw new Error(`shoal serve did not start: ${(err as Error).message}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

const SETTLE_MS = 1000
const IDLE_MS = 2000

export interface SyncOptions {
  browser: Browser
  reader: ReaderNode
  writer: { shoal: Shoal, newest: string }
  posts: number
  /** Load at least this many posts by scrolling down before the sync (0: stay at the top). */
  load: number
  timeoutMs: number
  log: (msg: string) => void
}

export async function syncScenario (opts: SyncOptions): Promise<SyncScenario> {
  const { browser, reader, writer } = opts
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } })
  const controlContext = await browser.newContext({ viewport: { width: 900, height: 1000 } })
  try {
    await context.addInitScript(WS_PROBE)
    const page = await context.newPage()
    await page.goto(reader.url)
    await page.getByTestId('post').first().waitFor({ timeout: opts.timeoutMs })
    await page.waitForTimeout(500) // the first pages the end sentinel pulls in by itself
    if (opts.load > 0) await scrollUntil(page, opts.load, opts.timeoutMs)
    const postsShownBefore = await countPosts(page)
    const refreshBefore = await refreshCost(page, reader.api, 'before')
    const control = await controlContext.newPage()
    await control.setContent('<!doctype html><html><body><p>control</p></body></html>')

    // Idle: the same page with nothing arriving.
    const idleFrom = await startFrameRecorder(page)
    await page.waitForTimeout(IDLE_MS)
    const idleRec = await stopFrameRecorder(page)
    const idle = summarizeFrames(idleRec, idleFrom, idleRec.stoppedAt)

    const from = await startFrameRecorder(page)
    const controlFrom = await startFrameRecorder(control)
    const followAt = epochNow()
    await apiCall(reader.api, 'follow', { id: writer.shoal.id })
    const selector = `[data-testid="post"][data-author="${writer.shoal.id}"]`
    // Done when the newest post is shown, or (a reader scrolled down) when the UI offers the new
    // posts with its "show the newest" button and the node has indexed the newest post.
    await page.waitForFunction(([sel, text]) => {
      const doc = (globalThis as any).document
      const p = doc.querySelector(sel)
      return (p !== null && String(p.textContent).includes(text)) || doc.querySelector('[data-testid="show-new"]') !== null
    }, [selector, writer.newest], { timeout: opts.timeoutMs, polling: 200 })
    for (;;) {
      const top = await apiCall(reader.api, 'timeline', { limit: 1, author: writer.shoal.id }) as { items: Array<{ text: string }> }
      if (top.items[0]?.text.includes(writer.newest)) break
      await page.waitForTimeout(200)
    }
    const syncMs = epochNow() - followAt
    const position = opts.load > 0 ? 'scrolled' : 'top'
    opts.log(`  ${position} (${postsShownBefore} loaded): A's newest post is in B's timeline (or offered) after ${Math.round(syncMs)} ms`)
    await page.waitForTimeout(SETTLE_MS)
    const rec: FrameRecording = await stopFrameRecorder(page)
    const controlRec = await stopFrameRecorder(control)
    const offered = await page.getByTestId('show-new').count() > 0
    if (offered) {
      await page.getByTestId('show-new').click()
      await page.waitForFunction(([sel, text]) => {
        const p = (globalThis as any).document.querySelector(sel)
        return p !== null && String(p.textContent).includes(text)
      }, [selector, writer.newest], { timeout: opts.timeoutMs, polling: 100 })
      opts.log('  the reader clicked "show the newest": the newest post is shown')
    }
    const shown = await writerSeqsShown(page, writer.shoal.id)
    const refreshAfter = await refreshCost(page, reader.api, 'after')
    return {
      position,
      posts: opts.posts,
      postsShownBefore,
      syncMs,
      frames: summarizeFrames(rec, from, rec.stoppedAt),
      idle,
      control: summarizeFrames(controlRec, controlFrom, controlRec.stoppedAt),
      over100DuringControlStall: overlapsWithControl(rec, controlRec, from, rec.stoppedAt),
      socket: summarizeSocket(rec, from, rec.stoppedAt),
      causes: longFrameCauses(rec, from, rec.stoppedAt),
      postsShownAfter: rec.posts,
      writerPostsShown: shown.seqs.length,
      writerPostsMissing: missing(shown),
      refreshBefore,
      refreshAfter
    }
  } finally {
    await controlContext.close()
    await context.close()
  }
}

/** Posts of the writer that belong between its newest shown and what is shown below it. */
function missing ({ seqs, olderBelow }: { seqs: number[], olderBelow: boolean }): number {
  if (seqs.length === 0) return 0
  const newest = Math.max(...seqs)
  const oldest = olderBelow ? 1 : Math.min(...seqs)
  return newest - oldest + 1 - new Set(seqs).size
}

const REFRESH_PROBES = 3

/**
 * What one live refresh costs at the current list size: B posts through its API, which the page
 * sees as a `changed` event and answers with one refetch of the loaded range and a re-render.
 */
async function refreshCost (page: Page, api: ApiTarget, label: string): Promise<RefreshCost> {
  const postsShown = await countPosts(page)
  const from = await startFrameRecorder(page)
  for (let i = 0; i < REFRESH_PROBES; i++) {
    const text = `refresh probe ${label} ${i} ${Date.now()}`
    await apiCall(api, 'post', { text })
    await page.waitForFunction((t) => String((globalThis as any).document.querySelector('[data-testid="post"]')?.textContent).includes(t), text, { timeout: 30_000, polling: 50 })
    await page.waitForTimeout(300)
  }
  const rec = await stopFrameRecorder(page)
  const f = summarizeFrames(rec, from, rec.stoppedAt)
  return { postsShown, refreshes: REFRESH_PROBES, maxGapMs: f.maxGapMs, maxLoafMs: Math.max(0, ...rec.loafs.map((l) => l.duration)), over100: f.over100 }
}

/**
 * The numbers i of the writer's posts ("NAME post 7/i: …") in B's DOM, and whether older posts by
 * others are shown below them (then every one of the writer's posts up to the newest belongs in
 * the list: they are all newer than anything B held before).
 */
function writerSeqsShown (page: Page, author: string): Promise<{ seqs: number[], olderBelow: boolean }> {
  return page.evaluate((id) => {
    const seqs: number[] = []
    let olderBelow = false
    for (const el of (globalThis as any).document.querySelectorAll('[data-testid="post"]')) {
      if (el.dataset.author !== id) {
        if (seqs.length > 0) olderBelow = true
        continue
      }
      const m = /post 7\/([0-9]+):/.exec(String(el.textContent))
      if (m !== null) seqs.push(Number(m[1]))
    }
    return { seqs, olderBelow }
  }, author)
}

function countPosts (page: Page): Promise<number> {
  return page.evaluate('document.querySelectorAll(\'[data-testid="post"]\').length') as Promise<number>
}

/**
 * Scrolls down until at least `n` posts are loaded, one page at a time (the end sentinel is brought
 * just inside the timeline's 400 px load margin), then leaves the reader mid-list.
 */
async function scrollUntil (page: Page, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let before = await countPosts(page); before < n; before = await countPosts(page)) {
    if (Date.now() > deadline) throw new Error(`could not load ${n} posts by scrolling`)
    await page.evaluate(() => {
      const g = globalThis as any
      const sentinel = g.document.querySelector('.sentinel')
      g.scrollTo(0, g.scrollY + sentinel.getBoundingClientRect().top - g.innerHeight - 300)
    })
    await page.waitForFunction((k) => (globalThis as any).document.querySelectorAll('[data-testid="post"]').length > k, before, { timeout: timeoutMs })
  }
  await page.evaluate(() => { const g = globalThis as any; g.scrollTo(0, Math.round(g.document.documentElement.scrollHeight * 0.4)) })
  await page.waitForTimeout(300)
}
