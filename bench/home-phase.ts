/**
 * The home timeline as the follow density changes: follow exactly the first `keep` source
 * identities (timing the follows and unfollows that takes: each adds or removes the home rows of
 * one author's posts), then time the first home page warm, beside the two controls of query.ts (a
 * CPU-only task of the page's median duration and the raw RocksDB page).
 */
import b4a from 'b4a'
import { Shoal } from '../src/node/shoal.js'
import { CpuControl } from './cpu-control.js'
import type { RawPageRead } from './raw-page-read.js'
import type { SourceSet } from './source-feeds.js'
import { median, summarize, type Summary } from './stats.js'

export interface FollowChange { changed: number, ms: number }
export interface HomeRun { timeline: Summary, cpu: Summary | null, rawPage: Summary | null }

async function timed (fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

/** Follows exactly the first `keep` source identities (unfollows or follows the others). */
export async function followFirst (dir: string, source: SourceSet, keep: number): Promise<FollowChange> {
  const shoal = new Shoal(dir)
  await shoal.ready()
  try {
    const following = new Set((await shoal.views.following(shoal.identity)).map((k) => b4a.toString(k, 'hex')))
    let changed = 0
    const start = performance.now()
    for (const [i, f] of source.feeds.entries()) {
      const on = following.has(b4a.toString(f.identity, 'hex'))
      if (i < keep && !on) { await shoal.follow(f.identity); changed++ }
      if (i >= keep && on) { await shoal.unfollow(f.identity); changed++ }
    }
    return { changed, ms: performance.now() - start }
  } finally {
    await shoal.close()
  }
}

/** Home timeline first page (50), warm; with `raw`, each run is followed by the two controls. */
export async function homeTimeline (dir: string, runs: number, raw: RawPageRead | null = null): Promise<HomeRun> {
  const shoal = new Shoal(dir)
  await shoal.ready()
  try {
    const page = (): Promise<unknown> => shoal.timeline({ limit: 50 })
    const warm: number[] = []
    for (let i = 0; i < 50; i++) warm.push(await timed(page))
    const cpu = new CpuControl()
    cpu.calibrate(median(warm.slice(-25)))
    const samples = { timeline: [] as number[], cpu: [] as number[], rawPage: [] as number[] }
    for (let i = 0; i < runs; i++) {
      samples.timeline.push(await timed(page))
      if (raw === null) continue
      samples.cpu.push(await timed(async () => cpu.run()))
      samples.rawPage.push(await timed(() => raw.page(50)))
    }
    return {
      timeline: summarize(samples.timeline),
      cpu: raw === null ? null : summarize(samples.cpu),
      rawPage: raw === null ? null : summarize(samples.rawPage)
    }
  } finally {
    await shoal.close()
  }
}
