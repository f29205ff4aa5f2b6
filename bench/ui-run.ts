/**
 * `npm run bench:ui`: the UI in a real browser (Debian's Chromium, headless, loopback only).
 *
 * 1. Startup: `node bin/shoal.js desktop` on a storage folder holding 100,000 indexed messages,
 *    to the first timeline page painted; warm browser (already running) and cold (launched then).
 * 2. Responsiveness: frames in B's page while B syncs and indexes 10,000 posts from A, with the
 *    reader at the top of the timeline and with 500 posts loaded and scrolled into the list.
 *
 * Every node is on a local HyperDHT testnet on 127.0.0.1. Prints the machine, a results table and
 * one JSON line; temp folders are removed at the end.
 */
import createTestnet from 'hyperdht/testnet.js'
import type { Browser } from 'playwright-core'
import { printMachine, readLoad, readMachine } from './machine.js'
import { fmt, formatTable, type Row } from './report.js'
import { buildSourceFeeds } from './source-feeds.js'
import { median, round } from './stats.js'
import { TmpDirs, runBench } from './tmp-dirs.js'
import { launchChromium } from './ui-browser.js'
import { FRAME_BUDGET_MS } from './ui-frames.js'
import { prepareStartupStorage, startupRun, type StartupRun } from './ui-startup.js'
import { createWriter, startReader, syncScenario, type SyncScenario } from './ui-sync.js'

/** SHOAL_BENCH_UI_SMALL=1: a quick smoke run of the harness on a tiny data set (numbers meaningless). */
const SMALL = process.env.SHOAL_BENCH_UI_SMALL === '1'
const FEEDS = SMALL ? 10 : 100
const POSTS = SMALL ? 100 : 1000
const WARM_RUNS = SMALL ? 1 : 5
const COLD_RUNS = SMALL ? 1 : 2
const SYNC_POSTS = SMALL ? 1000 : 10_000
/**
 * One sync scenario per entry, each with its own writer: posts the reader loads by scrolling
 * before the sync (pages of 20, sometimes two at once). 0 stays at the top. A live refresh
 * refetches the whole loaded range up to 500 posts (MAX_REFRESH in ui/src/use-timeline.ts): 460
 * ends at 460–500 loaded, inside that range; with 1,000 the UI keeps the older loaded posts below
 * the 500 it refetched.
 */
const LOADED_BEFORE_SYNC = [0, 460, 1000]
const WRITERS = ['alice', 'carol', 'dave']
const TIMEOUT_MS = 60_000
const TARGET = { startupMs: 1500, frameMs: FRAME_BUDGET_MS }

function log (msg: string): void {
  process.stderr.write(`[bench:ui ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`)
}

const tmp = new TmpDirs()

function describeRun (r: StartupRun): string {
  const p = r.page
  return `total ${fmt(r.totalMs)} ms = node ready ${fmt(r.nodeReadyMs)} (URL at ${fmt(r.urlMs)})` +
    (r.browserLaunchMs !== null ? ` + browser launch ${fmt(r.browserLaunchMs)}` : '') +
    ` + browser ${fmt(r.browserMs)} [html ${fmt(p.htmlEnd)}, script ${fmt(p.scriptEnd ?? NaN)}, launch code ${fmt(p.launchCodeTraded ?? NaN)}, socket ${fmt(p.socketOpen ?? NaN)}, timeline answer ${fmt(p.timelineAnswer ?? NaN)}, posts in DOM ${fmt(p.postsInDom)}, painted ${fmt(p.painted)}]; ${r.posts} posts; exit ${r.exitCode}`
}

function startupSummary (runs: StartupRun[]): Record<string, { median: number, max: number, all: number[] }> {
  const pick = (f: (r: StartupRun) => number): { median: number, max: number, all: number[] } => {
    const all = runs.map((r) => round(f(r)))
    return { median: round(median(all)), max: Math.max(...all), all }
  }
  return {
    total: pick((r) => r.totalMs),
    nodeReady: pick((r) => r.nodeReadyMs),
    url: pick((r) => r.urlMs),
    browser: pick((r) => r.browserMs),
    browserLaunch: pick((r) => r.browserLaunchMs ?? 0),
    navStartFromSpawn: pick((r) => r.page.navStartFromSpawn),
    htmlEnd: pick((r) => r.page.htmlEnd),
    scriptEnd: pick((r) => r.page.scriptEnd ?? NaN),
    launchCodeTraded: pick((r) => r.page.launchCodeTraded ?? NaN),
    socketOpen: pick((r) => r.page.socketOpen ?? NaN),
    timelineAnswer: pick((r) => r.page.timelineAnswer ?? NaN),
    postsInDom: pick((r) => r.page.postsInDom),
    painted: pick((r) => r.page.painted),
    lcpPost: pick((r) => r.page.lcpPost ?? NaN)
  }
}

function where (s: SyncScenario): string {
  return s.position === 'top' ? `at the top (${s.postsShownBefore} loaded)` : `scrolled, ${s.postsShownBefore} loaded`
}

function syncRow (s: SyncScenario): Row {
  const f = s.frames
  return {
    metric: `frames while ${fmt(s.posts)} posts sync, reader ${where(s)}`,
    shoal: `max ${fmt(f.maxGapMs)} ms, p99 ${fmt(f.p99GapMs)} ms, ${f.over100} over 100 ms of ${fmt(f.frames)}; ${f.longTasks.count} long tasks (max ${fmt(f.longTasks.maxMs)} ms)`,
    baseline: `idle: max ${fmt(s.idle.maxGapMs)} ms; control page: max ${fmt(s.control.maxGapMs)} ms, ${s.control.over100} over 100 ms; ${s.over100DuringControlStall} of the ${f.over100} during a control stall`,
    ratio: '',
    target: `no frame > ${TARGET.frameMs} ms`,
    met: f.over100 === 0
  }
}

async function main (): Promise<void> {
  const machine = readMachine()
  printMachine(machine)

  const testnet = await createTestnet(3)
  const bootstrap = `${testnet.bootstrap[0].host}:${testnet.bootstrap[0].port}`
  if (!bootstrap.startsWith('127.0.0.1:')) throw new Error(`the testnet is not on loopback: ${bootstrap}`)
  let browser: Browser | null = null
  try {
    // data ---------------------------------------------------------------------------------
    const source = await buildSourceFeeds(await tmp.make('source'), { feeds: FEEDS, posts: POSTS })
    const storage = await tmp.make('reader')
    let messages: number
    try {
      messages = (await prepareStartupStorage(storage, source)).messages
    } finally {
      await source.close()
    }
    log(`storage ready: ${fmt(messages)} messages indexed, following ${FEEDS} identities`)

    // startup ------------------------------------------------------------------------------
    browser = await launchChromium()
    log(`Chromium ${browser.version()}`)
    const work = await tmp.make('startup')
    const warmup = await startupRun({ storage, bootstrap, workDir: work, browser, timeoutMs: TIMEOUT_MS })
    log(`warm-up (not counted): ${describeRun(warmup)}`)
    const warm: StartupRun[] = []
    for (let i = 0; i < WARM_RUNS; i++) {
      const r = await startupRun({ storage, bootstrap, workDir: work, browser, timeoutMs: TIMEOUT_MS })
      warm.push(r)
      log(`warm ${i + 1}: ${describeRun(r)}`)
    }
    const cold: StartupRun[] = []
    for (let i = 0; i < COLD_RUNS; i++) {
      const r = await startupRun({ storage, bootstrap, workDir: work, browser: null, timeoutMs: TIMEOUT_MS })
      cold.push(r)
      log(`cold ${i + 1}: ${describeRun(r)}`)
    }

    // responsiveness -----------------------------------------------------------------------
    log(`writing ${fmt(SYNC_POSTS)} posts on each of ${WRITERS.length} writers`)
    const writers = []
    for (const name of WRITERS) writers.push(await createWriter(await tmp.make(`writer-${name}`), name, SYNC_POSTS, testnet))
    const scenarios: SyncScenario[] = []
    const reader = await startReader(storage, bootstrap, TIMEOUT_MS)
    try {
      for (let i = 0; i < LOADED_BEFORE_SYNC.length; i++) {
        scenarios.push(await syncScenario({ browser, reader, writer: writers[i], posts: SYNC_POSTS, load: LOADED_BEFORE_SYNC[i], timeoutMs: 120_000, log }))
      }
    } finally {
      await reader.proc.stop()
      for (const w of writers) await w.shoal.close()
    }
    for (const s of scenarios) log(`${s.position} ${s.postsShownBefore}: ${JSON.stringify(s)}`)

    // report -------------------------------------------------------------------------------
    const w = startupSummary(warm)
    const c = startupSummary(cold)
    const rows: Row[] = [
      {
        metric: `startup to first timeline page painted (${fmt(messages)} msgs), warm browser, ${WARM_RUNS} runs`,
        shoal: `median ${fmt(w.total.median)} ms, max ${fmt(w.total.max)} ms`,
        baseline: '',
        ratio: '',
        target: `<= ${TARGET.startupMs} ms`,
        met: w.total.max <= TARGET.startupMs
      },
      {
        metric: '  spawn to ready line of `shoal desktop`',
        shoal: `median ${fmt(w.nodeReady.median)} ms, max ${fmt(w.nodeReady.max)} ms`, baseline: '', ratio: '', target: '', met: null
      },
      {
        metric: '  browser: navigation to first page painted',
        shoal: `median ${fmt(w.browser.median)} ms, max ${fmt(w.browser.max)} ms`, baseline: '', ratio: '', target: '', met: null
      },
      {
        metric: `startup, cold browser (launched when the URL is known), ${COLD_RUNS} runs`,
        shoal: `median ${fmt(c.total.median)} ms, max ${fmt(c.total.max)} ms (launch ${fmt(c.browserLaunch.median)} ms)`,
        baseline: '',
        ratio: '',
        target: `<= ${TARGET.startupMs} ms`,
        met: c.total.max <= TARGET.startupMs
      },
      ...scenarios.map(syncRow),
      ...scenarios.map((s): Row => ({
        metric: `  one live refresh, reader ${where(s)}: longest frame at N posts loaded`,
        shoal: `${fmt(s.refreshBefore.maxGapMs)} ms at N=${s.refreshBefore.postsShown}; ${fmt(s.refreshAfter.maxGapMs)} ms at N=${s.refreshAfter.postsShown}`,
        baseline: '',
        ratio: '',
        target: '',
        met: null
      })),
      ...scenarios.map((s): Row => ({
        metric: `  writer's posts missing from the loaded list after the sync, reader ${where(s)}`,
        shoal: `${fmt(s.writerPostsMissing)} missing (${fmt(s.writerPostsShown)} shown)`,
        baseline: '',
        ratio: '',
        target: '0',
        met: s.writerPostsMissing === 0
      }))
    ]
    console.log(formatTable(rows))
    console.log()
    console.log(JSON.stringify({
      date: machine.date,
      machine: { nproc: machine.nproc, memTotalGiB: machine.memTotalGiB, node: machine.node, cpu: machine.cpu, platform: machine.platform, revision: machine.revision, loadAtStart: machine.load, loadAtEnd: readLoad() },
      command: 'npm run bench:ui',
      chromium: browser.version(),
      startup: { messages, targetMs: TARGET.startupMs, warm: w, cold: c, warmup: warmup.totalMs, runs: { warm, cold } },
      sync: { targetFrameMs: TARGET.frameMs, scenarios }
    }))
  } finally {
    if (browser !== null) await browser.close()
    await testnet.destroy()
    await tmp.removeAll()
  }
}

runBench('bench:ui', tmp, main)
