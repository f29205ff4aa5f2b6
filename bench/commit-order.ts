/**
 * `node dist/bench/commit-order.js [records] [rounds]`: what the order of a batch's rows costs
 * RocksDB. The rows a chunk of replies writes (author, thread and mention rows, then the message
 * rows; keys from src/views/keys.ts, 512 records to a batch as the indexer commits them) are
 * written into a fresh database with the views' options, once in record order (each record's
 * three index rows in turn, as ViewTxn committed them before) and once index by index (as it
 * commits them now). The two alternate round by round; medians of wall-clock and CPU time.
 */
import RocksDB from 'rocksdb-native'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import type { FeedKey, MessageRef } from '../src/ids.js'
import { keys } from '../src/views/keys.js'
import { ROCKS_OPTIONS } from '../src/views/view-db.js'
import { printMachine, readLoad, readMachine } from './machine.js'
import { median } from './stats.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const CHUNK = 512
const ORDERS = ['record by record', 'index by index'] as const
type Order = typeof ORDERS[number]

const tmp = new TmpDirs()

/** Writes `n` replies' rows in `order`; wall-clock and CPU ms (RocksDB's threads included). */
async function writeRows (dir: string, n: number, order: Order): Promise<[number, number]> {
  const author = keyPairFromSeed(createSeed()).publicKey
  const me = keyPairFromSeed(createSeed()).publicKey
  const feed = keyPairFromSeed(createSeed()).publicKey as unknown as FeedKey
  const root: MessageRef = { feed, seq: 1 }
  const value = new Uint8Array(121).fill(7) // a reply's stored post, as long as the index-cost bench's
  const db = new RocksDB(dir, { ...ROCKS_OPTIONS, createIfMissing: true })
  await db.ready()
  const start = performance.now()
  const cpu = process.cpuUsage()
  for (let at = 0; at < n; at += CHUNK) {
    const runs: Uint8Array[][] = [[], [], []]
    const messages: Uint8Array[] = []
    for (let i = at; i < Math.min(n, at + CHUNK); i++) {
      const ref = { feed, seq: i + 2 }
      const ts = 1_700_000_000_000 + i
      runs[0].push(keys.byAuthor(author, ts, ref))
      runs[1].push(keys.thread(root, ts, ref))
      runs[2].push(keys.mention(me, ts, ref))
      messages.push(keys.message(ref))
    }
    const w = db.write({ capacity: runs[0].length * 4, autoDestroy: true })
    if (order === 'record by record') {
      for (let i = 0; i < runs[0].length; i++) for (let r = 0; r < 3; r++) w.tryPut(runs[r][i], r === 2 ? author : value)
    } else {
      for (let r = 0; r < 3; r++) for (const k of runs[r]) w.tryPut(k, r === 2 ? author : value)
    }
    for (const k of messages) w.tryPut(k, value)
    await w.flush()
  }
  const used = process.cpuUsage(cpu)
  const ms = performance.now() - start
  await db.close()
  return [ms, (used.user + used.system) / 1000]
}

async function main (): Promise<void> {
  const records = Number(process.argv[2] ?? 20_000)
  const rounds = Number(process.argv[3] ?? 15)
  const machine = readMachine()
  printMachine(machine)
  const times = new Map<Order, Array<[number, number]>>(ORDERS.map((o) => [o, []]))
  try {
    // Round 0 warms up and is not counted; the order within a round alternates.
    for (let round = 0; round <= rounds; round++) {
      for (const order of round % 2 === 0 ? ORDERS : [...ORDERS].reverse()) {
        const t = await writeRows(await tmp.make('commit-order'), records, order)
        if (round > 0) times.get(order)?.push(t)
      }
    }
  } finally {
    await tmp.removeAll()
  }
  const result = ORDERS.map((order) => {
    const t = times.get(order) as Array<[number, number]>
    return { order, ms: median(t.map((x) => x[0])), cpuMs: median(t.map((x) => x[1])) }
  })
  for (const r of result) console.log(`${records} replies' rows, ${r.order}: ${r.ms.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms (median of ${rounds})`)
  console.log(`record by record / index by index: ${(result[0].ms / result[1].ms).toFixed(2)}x wall, ${(result[0].cpuMs / result[1].cpuMs).toFixed(2)}x CPU`)
  console.log(JSON.stringify({ date: machine.date, command: `node dist/bench/commit-order.js ${records} ${rounds}`, loadAtStart: machine.load, loadAtEnd: readLoad(), revision: machine.revision, result }))
}

runBench('commit-order', tmp, main)
