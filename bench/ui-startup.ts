/**
 * UI startup: from spawning `node bin/shoal.js desktop --port 0 --json` (what `npm start` runs) on
 * a storage folder holding 100,000 indexed messages, to the first timeline page painted in
 * Chromium. `shoal desktop` starts a stand-in browser (ui-process.ts) that records the `--app=`
 * URL (the owner-only launch page holding the single-use code); the bench opens that URL in a
 * real Chromium, either one already running (warm) or one launched at that moment (cold).
 * `shoal desktop` prints its ready line only once the window traded the code.
 */
import fs from 'node:fs'
import type { Browser } from 'playwright-core'
import { Shoal } from '../src/node/shoal.js'
import { prepareIndexedShoal } from './index-phase.js'
import type { SourceSet } from './source-feeds.js'
import { launchChromium, readStartupMarks, STARTUP_PROBE, WS_PROBE, type StartupMarks } from './ui-browser.js'
import { epochNow, spawnShoal, waitForFile, writeFakeBrowser } from './ui-process.js'

/** Follows every source identity, holds every source feed and has indexed them all. */
export async function prepareStartupStorage (dir: string, source: SourceSet): Promise<{ messages: number }> {
  await prepareIndexedShoal(dir, source)
  const shoal = new Shoal(dir)
  await shoal.ready()
  try {
    for (const f of source.feeds) await shoal.addFeed(f.key)
    await Promise.all(source.feeds.map((f) => shoal.waitForIndexed(f.key, source.length)))
    const page = await shoal.timeline({ limit: 20 })
    if (page.items.length !== 20) throw new Error(`startup storage: the first page has ${page.items.length} items`)
    return { messages: shoal.totals().messages }
  } finally {
    await shoal.close()
  }
}

export interface StartupRun {
  browser: 'warm' | 'cold'
  /** Spawn to first timeline page painted (the frame after the posts' frame), ms. */
  totalMs: number
  /** Spawn to the ready line of `shoal desktop`. */
  nodeReadyMs: number
  /** Spawn to the stand-in browser having the launch URL. */
  urlMs: number
  /** Cold only: chromium.launch() and a new page. */
  browserLaunchMs: number | null
  /** From asking the browser to navigate to the first page painted. */
  browserMs: number
  /** Inside the page, from its navigation start (ms). */
  page: {
    navStartFromSpawn: number
    htmlEnd: number
    scriptEnd: number | null
    domContentLoaded: number
    launchCodeTraded: number | null
    socketOpen: number | null
    timelineAnswer: number | null
    postsInDom: number
    postsFrame: number
    painted: number
    /** largest-contentful-paint inside a post, when the browser reported one. */
    lcpPost: number | null
    fcp: number | null
  }
  posts: number
  exitCode: number | null
}

export interface StartupOptions {
  storage: string
  bootstrap: string
  /** A folder for the stand-in browser and its output. */
  workDir: string
  /** A running browser (warm), or null to launch one once the URL is known (cold). */
  browser: Browser | null
  timeoutMs: number
}

export async function startupRun (opts: StartupOptions): Promise<StartupRun> {
  const fake = writeFakeBrowser(opts.workDir)
  fs.rmSync(fake.out, { force: true })
  let browser = opts.browser
  let context = browser === null ? null : await browser.newContext({ viewport: { width: 900, height: 1000 } })
  let page = context === null ? null : await context.newPage()
  if (context !== null) {
    await context.addInitScript(STARTUP_PROBE)
    await context.addInitScript(WS_PROBE)
  }

  const proc = spawnShoal(['desktop', '--port', '0', '--json'], {
    SHOAL_STORAGE: opts.storage,
    SHOAL_BOOTSTRAP: opts.bootstrap,
    SHOAL_BROWSER: fake.bin,
    DISPLAY: ':bench' // any value: the stand-in browser needs no display, but desktop only opens a window when one is set
  })
  try {
    const readyLine = withTimeout(proc.ready, opts.timeoutMs, 'shoal desktop ready line')
    readyLine.catch(() => {}) // awaited below, after the window traded the code
    const seen = await waitForFile(fake.out, opts.timeoutMs)
    const app = seen.text.split('\n').find((a) => a.startsWith('--app='))
    if (app === undefined) throw new Error(`the stand-in browser got no --app= argument: ${seen.text}`)
    const url = app.slice('--app='.length)

    let browserLaunchMs: number | null = null
    if (browser === null) {
      const t = epochNow()
      browser = await launchChromium()
      context = await browser.newContext({ viewport: { width: 900, height: 1000 } })
      await context.addInitScript(STARTUP_PROBE)
      await context.addInitScript(WS_PROBE)
      page = await context.newPage()
      browserLaunchMs = epochNow() - t
    }
    if (page === null) throw new Error('no page')
    const navAt = epochNow()
    await page.goto(url, { waitUntil: 'commit', timeout: opts.timeoutMs })
    await page.waitForURL((u) => u.protocol === 'http:', { waitUntil: 'commit', timeout: opts.timeoutMs }) // the launch page moves on
    const m: StartupMarks = await readStartupMarks(page, opts.timeoutMs)
    const ready = await readyLine
    const spawned = proc.spawnedAt
    const lcp = m.lcp.filter((e) => e.inPost)
    const run: StartupRun = {
      browser: opts.browser === null ? 'cold' : 'warm',
      totalMs: m.timeOrigin + m.painted - spawned,
      nodeReadyMs: ready.at - spawned,
      urlMs: seen.at - spawned,
      browserLaunchMs,
      browserMs: m.timeOrigin + m.painted - navAt,
      page: {
        navStartFromSpawn: m.timeOrigin - spawned,
        htmlEnd: m.nav.responseEnd,
        scriptEnd: m.scriptEnd,
        domContentLoaded: m.nav.domContentLoaded,
        launchCodeTraded: m.launchEnd,
        socketOpen: m.wsOpened,
        timelineAnswer: m.firstTimelineAt,
        postsInDom: m.postsInDom,
        postsFrame: m.firstFrame,
        painted: m.painted,
        lcpPost: lcp.length > 0 ? lcp[lcp.length - 1].t : null,
        fcp: m.fcp
      },
      posts: m.postCount,
      exitCode: null
    }
    await context?.close()
    context = null
    run.exitCode = await proc.stop()
    return run
  } catch (err) {
    throw new Error(`startup run failed: ${(err as Error).message}\n--- shoal stderr ---\n${proc.stderr()}`, { cause: err })
  } finally {
    await context?.close()
    await proc.stop()
    if (opts.browser === null && browser !== null) await browser.close()
  }
}

function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | null = null
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms) })
  return Promise.race([p, timeout]).finally(() => { if (timer !== null) clearTimeout(timer) })
}
