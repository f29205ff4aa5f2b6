/**
 * Indexing cost per record must not grow with what came before it. One feed of N records of one
 * shape (distinct reactions on one post, replies in one thread that mention me, edits of one post,
 * follows of distinct identities, one reaction toggled on and off) is indexed from a local core
 * into a fresh views database and timed against N plain posts indexed the same way in the same
 * run (after one uncounted warm-up round). Also: how long my own one post waits while a backlog of
 * N reactions is being indexed.
 *
 * `node dist/bench/index-cost-main.js [N] [rounds]` runs it alone; `npm run bench` runs it as one phase.
 */
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { createHeader } from '../src/feeds/header.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { encodeRecord, type MessageRecord } from '../src/feeds/schema.js'
import type { FeedKey, IdentityKey, MessageRef } from '../src/ids.js'
import { Indexer } from '../src/views/indexer.js'
import { ViewDb } from '../src/views/view-db.js'
import { fmt, type Row } from './report.js'
import { median } from './stats.js'

export const SHAPES = ['plain posts', 'distinct reactions on one post', 'replies in one thread, each mentioning me', 'edits of one post', 'follows of distinct identities', 'one reaction toggled on and off'] as const
export type Shape = typeof SHAPES[number]

/**
 * `ms` is wall-clock time; `cpuMs` is this process's CPU time (user + system, RocksDB's threads
 * included) over the same span, which other work on a shared machine disturbs much less.
 */
export interface ShapeRun { shape: Shape, records: number, ms: number[], medianMs: number, ratio: number, cpuMs: number[], medianCpuMs: number, cpuRatio: number }
export interface IndexCost { records: number, rounds: number, shapes: ShapeRun[], ownPostWaitMs: number[], backlogMs: number[] }

/** The N records of one shape, after a first post (seq 1) that they refer to. */
function records (shape: Shape, n: number, feed: FeedKey, me: IdentityKey, t0: number): MessageRecord[] {
  const first: MessageRef = { feed, seq: 1 }
  const out: MessageRecord[] = [{ type: 'post', timestamp: t0, text: 'the first post', root: null, parent: null, cw: null, mentions: [] }]
  for (let i = 0; i < n; i++) {
    const timestamp = t0 + 1 + i
    switch (shape) {
      case 'plain posts': out.push({ type: 'post', timestamp, text: `plain post number ${i}`, root: null, parent: null, cw: null, mentions: [] }); break
      case 'distinct reactions on one post': out.push({ type: 'reaction', timestamp, target: first, emoji: `r${i}`, remove: false }); break
      case 'replies in one thread, each mentioning me': out.push({ type: 'post', timestamp, text: `reply number ${i}`, root: first, parent: first, cw: null, mentions: [me] }); break
      case 'edits of one post': out.push({ type: 'edit', timestamp, target: first, text: `edit number ${i}` }); break
      case 'follows of distinct identities': out.push({ type: 'follow', timestamp, target: keyPairFromSeed(createSeed()).publicKey }); break
      case 'one reaction toggled on and off': out.push({ type: 'reaction', timestamp, target: first, emoji: '👍', remove: i % 2 === 1 }); break
    }
  }
  return out
}

/** Writes a header and the records `make` gives for the new feed's key into a new core of `store`. */
async function writeFeed (store: Corestore, name: string, make: (feed: FeedKey) => MessageRecord[], t0: number): Promise<Hypercore> {
  const identity = keyPairFromSeed(createSeed())
  const core = store.get({ name })
  await core.ready()
  const feed = core.key as FeedKey
  const blocks = [encodeRecord(createHeader(identity, feed, name, t0)), ...make(feed).map(encodeRecord)]
  for (let i = 0; i < blocks.length; i += 5000) await core.append(blocks.slice(i, i + 5000))
  return core
}

async function withIndexer<T> (dir: string, me: IdentityKey, fn: (indexer: Indexer) => Promise<T>): Promise<T> {
  const db = new ViewDb(dir)
  await db.ready()
  const indexer = new Indexer(db, { me })
  try {
    return await fn(indexer)
  } finally {
    await indexer.close()
    await db.close()
  }
}

/** Runs every shape `rounds` times (interleaved, so drift in machine load hits all alike). */
export async function indexCost (makeDir: (label: string) => Promise<string>, opts: { records: number, rounds: number, log?: (msg: string) => void }): Promise<IndexCost> {
  const n = opts.records
  const me = keyPairFromSeed(createSeed()).publicKey
  const t0 = Date.now() - 24 * 3_600_000
  const store = new Corestore(await makeDir('index-cost-source'))
  await store.ready()
  try {
    const cores = new Map<Shape, Hypercore>()
    for (const shape of SHAPES) {
      cores.set(shape, await writeFeed(store, `shape-${SHAPES.indexOf(shape)}`, (feed) => records(shape, n, feed, me, t0), t0))
    }
    const times = new Map<Shape, number[]>(SHAPES.map((s) => [s, []]))
    const cpuTimes = new Map<Shape, number[]>(SHAPES.map((s) => [s, []]))
    // Round 0 warms the JIT and the page cache for every shape and is not counted.
    for (let round = 0; round <= opts.rounds; round++) {
      for (const shape of SHAPES) {
        const core = cores.get(shape) as Hypercore
        const [ms, cpuMs] = await withIndexer(await makeDir('index-cost-views'), me, async (indexer) => {
          const start = performance.now()
          const cpu = process.cpuUsage()
          await indexer.add(core)
          await indexer.waitFor(core.key as Uint8Array, core.length)
          const used = process.cpuUsage(cpu)
          return [performance.now() - start, (used.user + used.system) / 1000]
        })
        if (round > 0) {
          times.get(shape)?.push(ms)
          cpuTimes.get(shape)?.push(cpuMs)
        }
        opts.log?.(`index cost ${round === 0 ? 'warm-up' : `round ${round}`}: ${shape}: ${Math.round(ms)} ms (${Math.round(cpuMs)} ms CPU)`)
      }
    }

    // My own post while the reaction backlog is indexed.
    const ownPostWaitMs: number[] = []
    const backlogMs: number[] = []
    const backlog = cores.get('distinct reactions on one post') as Hypercore
    for (let round = 0; round < opts.rounds; round++) {
      const own = store.get({ name: `own-${round}` })
      await own.ready()
      const myIdentity = keyPairFromSeed(createSeed())
      await own.append(encodeRecord(createHeader(myIdentity, own.key as FeedKey, 'mine', t0)))
      await withIndexer(await makeDir('index-cost-own'), myIdentity.publicKey, async (indexer) => {
        await indexer.add(own)
        await indexer.waitFor(own.key as Uint8Array, own.length)
        const start = performance.now()
        await indexer.add(backlog)
        const append = performance.now()
        await own.append(encodeRecord({ type: 'post', timestamp: Date.now(), text: 'mine', root: null, parent: null, cw: null, mentions: [] }))
        await indexer.waitFor(own.key as Uint8Array, own.length)
        ownPostWaitMs.push(performance.now() - append)
        await indexer.waitFor(backlog.key as Uint8Array, backlog.length)
        backlogMs.push(performance.now() - start)
      })
      await own.close()
    }

    const base = median(times.get('plain posts') as number[])
    const cpuBase = median(cpuTimes.get('plain posts') as number[])
    const shapes = SHAPES.map((shape) => {
      const ms = times.get(shape) as number[]
      const cpuMs = cpuTimes.get(shape) as number[]
      return { shape, records: n, ms, medianMs: median(ms), ratio: median(ms) / base, cpuMs, medianCpuMs: median(cpuMs), cpuRatio: median(cpuMs) / cpuBase }
    })
    for (const core of cores.values()) await core.close()
    return { records: n, rounds: opts.rounds, shapes, ownPostWaitMs, backlogMs }
  } finally {
    await store.close()
  }
}

/** Each shape may take at most this many times as long as the same number of plain posts. */
export const INDEX_COST_TARGET = 2

/** Table rows for the report. */
export function indexCostRows (cost: IndexCost): Row[] {
  const base = cost.shapes[0]
  const rows: Row[] = cost.shapes.map((s) => ({
    metric: `index ${fmt(s.records)} ${s.shape} (median of ${cost.rounds})`,
    shoal: `${fmt(s.medianMs)} ms (${s.ms.map((m) => fmt(m)).join(' / ')}); CPU ${fmt(s.medianCpuMs)} ms`,
    baseline: s === base ? '-' : `${fmt(base.medianMs)} ms, CPU ${fmt(base.medianCpuMs)} ms (plain posts)`,
    ratio: s === base ? '-' : `${fmt(s.ratio, 2)}x (CPU ${fmt(s.cpuRatio, 2)}x)`,
    target: s === base ? '-' : `<= ${INDEX_COST_TARGET}x`,
    met: s === base ? null : s.ratio <= INDEX_COST_TARGET && s.cpuRatio <= INDEX_COST_TARGET
  }))
  rows.push({
    metric: `my own post while ${fmt(cost.records)} remote reactions are indexed`,
    shoal: `${cost.ownPostWaitMs.map((m) => fmt(m, 1)).join(' / ')} ms to index it`,
    baseline: `backlog took ${cost.backlogMs.map((m) => fmt(m)).join(' / ')} ms`,
    ratio: '-',
    target: 'report',
    met: null
  })
  return rows
}
