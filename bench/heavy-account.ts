/**
 * Heavy account: what each API method the app calls (on start, on a timer, on every change) costs
 * on a given storage folder, in process: wall time of three calls, the bytes answered and the
 * views' native reads of the first (docs/BENCHMARKS.md "Heavy account: commands").
 *
 *   node dist/bench/heavy-account.js STORAGE [REACTED]
 *
 * REACTED > 0 first writes that many posts, each with a reaction of mine (so the notifications
 * look up who reacted to them): run it on a copy of the folder, never on shared data.
 */
import type { ShoalApp } from '../src/node/app.js'
import { Shoal } from '../src/node/shoal.js'
import { createHandlers, dispatch } from '../src/api/dispatch.js'
import type { Method } from '../src/api/protocol.js'

const [storage, reacted] = [process.argv[2], Number(process.argv[3] ?? 0)]
if (storage === undefined) throw new Error('usage: node dist/bench/heavy-account.js STORAGE [REACTED]')

const opened = performance.now()
const shoal = new Shoal(storage)
await shoal.ready()
await shoal.indexed()
console.log(`open and index ${(performance.now() - opened).toFixed(0)} ms, ${shoal.trackedCount} feeds tracked`)
for (let i = 0; i < reacted; i++) await shoal.react(await shoal.post({ text: `post ${i}` }), '👍')

const app = { shoal, need: () => shoal } as unknown as ShoalApp
const handlers = createHandlers('offline')
const first = await dispatch(handlers, app, 'timeline', { limit: 1 }) as { result?: { items: Array<{ id: string }> } }
const post = first.result?.items[0]?.id
const calls: Array<[Method, Record<string, unknown>]> = [['state', {}], ['status', {}], ['timeline', { limit: 20 }], ['notifications', {}], ['mentions', { limit: 50 }],
  ['profile', {}], ['following', {}], ['followers', {}], ['blocked', {}], ['dmList', {}], ['dmRequests', {}], ['roomList', {}]]
if (post !== undefined) calls.push(['thread', { id: post }], ['reactors', { id: post }], ['posts', { ids: [post] }])
for (const [method, params] of calls) {
  const ms: string[] = []
  let reads = ''
  let bytes = 0
  for (let i = 0; i < 3; i++) {
    const before = { ...shoal.views.io() }
    const t = performance.now()
    const r = await dispatch(handlers, app, method, params)
    ms.push((performance.now() - t).toFixed(1))
    if (i > 0) continue
    const after = shoal.views.io()
    bytes = JSON.stringify(r).length
    reads = `keys ${after.gets - before.gets} in ${after.readBatches - before.readBatches} batches, ${after.scans - before.scans} scans`
  }
  console.log(`${method.padEnd(14)} ${ms.join(' / ')} ms  ${bytes} B  ${reads}`)
}
const t = performance.now()
for (let i = 0; i < 1000; i++) shoal.statusStamp()
console.log(`statusStamp    ${((performance.now() - t) / 1000).toFixed(3)} ms (what the API server reads each second while the app is open)`)
console.log(`rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`)
await shoal.close()
