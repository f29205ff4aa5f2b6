/**
 * One runtime's run of the publish, index and query phases (runs on Node and on Bare):
 * `<runtime> dist/bench/runtime-phases.js DIR COUNT` prints one line `RESULT {json}` with each
 * phase's operations, wall milliseconds and CPU milliseconds (user + system of this process).
 * bench/runtimes.ts runs it under both runtimes and compares them.
 */
import process from '#process'
import { Shoal } from '../src/node/shoal.js'
import type { MessageRef } from '../src/ids.js'

export interface PhaseCost { ops: number, wallMs: number, cpuMs: number }
export interface RuntimeResult { runtime: string, publish: PhaseCost, index: PhaseCost, query: PhaseCost }

async function phase (ops: number, fn: () => Promise<void>): Promise<PhaseCost> {
  const cpu = process.cpuUsage()
  const start = Date.now()
  await fn()
  const wallMs = Date.now() - start
  const used = process.cpuUsage(cpu)
  return { ops, wallMs, cpuMs: (used.user + used.system) / 1000 }
}

async function main (dir: string, count: number): Promise<RuntimeResult> {
  const { shoal } = await Shoal.init(dir, { name: 'bench' })
  try {
    const refs: MessageRef[] = []
    // Publish: posts, every 5th a reply in a thread, every 7th also reacted to (encode, append, index).
    const publish = await phase(count, async () => {
      for (let i = 0; i < count; i++) {
        const reply = i % 5 === 4 && refs.length > 0 ? refs[refs.length - 1] : null
        const ref = await shoal.post({ text: `post ${i}: the quick brown fox jumps over the lazy dog`, reply })
        refs.push(ref)
        if (i % 7 === 6) await shoal.react(ref, '👍')
      }
    })
    const messages = shoal.totals().messages
    // Index: rebuild every view from the feed on disk, three times.
    const index = await phase(3 * messages, async () => {
      for (let round = 0; round < 3; round++) {
        const totals = await shoal.reindex()
        if (totals.messages < count) throw new Error(`reindex indexed ${totals.messages} of ${count} posts`)
      }
    })
    // Query: page through the whole timeline (50 a page) five times, and read 200 threads.
    let pages = 0
    const query = await phase(0, async () => {
      for (let round = 0; round < 5; round++) {
        let before: string | null = null
        do {
          const page = await shoal.timeline({ limit: 50, before })
          pages++
          before = page.next
        } while (before !== null)
      }
      for (let i = 0; i < 200; i++) await shoal.thread(refs[(i * 37) % refs.length])
    })
    query.ops = pages + 200
    return { runtime: typeof (globalThis as { Bare?: unknown }).Bare === 'object' ? 'bare' : 'node', publish, index, query }
  } finally {
    await shoal.close()
  }
}

const args = process.argv.slice(-2)
const result = await main(args[0], Number(args[1]))
console.log('RESULT ' + JSON.stringify(result))
