/**
 * The DM phase: (1) DM send rate against plain post rate (alternating chunks, one node);
 * (2) receiving and decrypting N DMs against indexing N plain posts, both replicated in-process
 * from a writer the reader just started tracking; (3) holding M boxes addressed to others (trial
 * decryption during indexing) against indexing M plain posts. Runnable alone:
 * `node dist/bench/dm-wire.js [sendCount] [receiveCount] [othersCount]`.
 */
import { fileURLToPath } from 'node:url'
import { Shoal } from '../src/node/shoal.js'
import { printMachine, readLoad, readMachine } from './machine.js'
import { fmt, formatTable, type Row } from './report.js'
import { round } from './stats.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

export const DM_TARGET = { sendRatio: 0.5, othersRatio: 1.5 }

export interface DmBench {
  send: { count: number, postPerSec: number, dmPerSec: number, ratio: number }
  receive: { count: number, postPerSec: number, dmPerSec: number, ratio: number }
  others: { count: number, postMs: number, boxMs: number, ratio: number, notForMe: number }
}

type MakeDir = (label: string) => Promise<string>

function link (a: Shoal, b: Shoal): () => void {
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  return () => { s1.destroy(); s2.destroy() }
}

async function track (reader: Shoal, writer: Shoal): Promise<number> {
  const start = performance.now()
  await reader.addFeed(writer.feedKey)
  await reader.waitForIndexed(writer.feedKey, writer.feedLength)
  return performance.now() - start
}

async function node (makeDir: MakeDir, name: string): Promise<Shoal> {
  return (await Shoal.init(await makeDir(`dm-${name}`), { name })).shoal
}

/** Writes `n` DMs from `a` to `b` (whose keys `a` holds) and `n` plain posts from `p`. */
async function fill (a: Shoal, b: Shoal, p: Shoal, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await a.dm.send({ to: [b.identity], text: `direct message number ${i}, a line of ordinary length` })
  for (let i = 0; i < n; i++) await p.post({ text: `plain post number ${i}, a line of ordinary length` })
}

export async function dmBench (makeDir: MakeDir, opts: { send: number, receive: number, others: number, log: (m: string) => void }): Promise<DmBench> {
  const chunk = 250
  // 1. send rate -------------------------------------------------------------------------------
  const a = await node(makeDir, 'sender')
  const b = await node(makeDir, 'recipient')
  const close: Array<() => Promise<void> | void> = [() => a.close(), () => b.close()]
  try {
    close.unshift(link(a, b))
    await track(a, b)
    await track(b, a)
    let postMs = 0
    let dmMs = 0
    for (let at = 0; at < opts.send; at += chunk) {
      const n = Math.min(chunk, opts.send - at)
      let t = performance.now()
      for (let i = 0; i < n; i++) await a.post({ text: `plain post ${at + i}, a line of ordinary length` })
      postMs += performance.now() - t
      t = performance.now()
      for (let i = 0; i < n; i++) await a.dm.send({ to: [b.identity], text: `direct message ${at + i}, a line of ordinary length` })
      dmMs += performance.now() - t
    }
    const send = { count: opts.send, postPerSec: opts.send / (postMs / 1000), dmPerSec: opts.send / (dmMs / 1000), ratio: postMs / dmMs }
    opts.log(`dm send: ${fmt(send.dmPerSec)}/s vs posts ${fmt(send.postPerSec)}/s, ${fmt(send.ratio, 2)}x`)

    // 2. receive and decrypt ---------------------------------------------------------------------
    const s = await node(makeDir, 'dm-writer')
    const p = await node(makeDir, 'post-writer')
    const r = await node(makeDir, 'reader')
    close.unshift(() => s.close(), () => p.close(), () => r.close())
    close.unshift(link(s, r), link(p, r))
    await track(s, r)
    await fill(s, r, p, opts.receive)
    const postMsR = await track(r, p)
    const dmMsR = await track(r, s)
    const opened = r.dm.stats.opened
    if (opened !== opts.receive) throw new Error(`dm receive: opened ${opened} of ${opts.receive}`)
    const receive = { count: opts.receive, postPerSec: opts.receive / (postMsR / 1000), dmPerSec: opts.receive / (dmMsR / 1000), ratio: postMsR / dmMsR }
    opts.log(`dm receive+decrypt: ${fmt(receive.dmPerSec)}/s vs plain indexing ${fmt(receive.postPerSec)}/s, ${fmt(receive.ratio, 2)}x`)

    // 3. boxes addressed to others -------------------------------------------------------------
    const s2 = await node(makeDir, 'others-dm-writer')
    const p2 = await node(makeDir, 'others-post-writer')
    const c = await node(makeDir, 'bystander')
    close.unshift(() => s2.close(), () => p2.close(), () => c.close())
    close.unshift(link(s2, b), link(s2, c), link(p2, c))
    await track(s2, b)
    const t0 = performance.now()
    await fill(s2, b, p2, opts.others)
    opts.log(`wrote ${opts.others} boxes and ${opts.others} posts in ${fmt((performance.now() - t0) / 1000, 1)} s`)
    const postMsO = await track(c, p2)
    const boxMsO = await track(c, s2)
    const others = { count: opts.others, postMs: postMsO, boxMs: boxMsO, ratio: boxMsO / postMsO, notForMe: c.dm.stats.notForMe }
    if (others.notForMe !== opts.others) throw new Error(`dm others: ${others.notForMe} of ${opts.others} boxes tried`)
    opts.log(`boxes for others: ${fmt(boxMsO)} ms vs ${fmt(postMsO)} ms for posts, ${fmt(others.ratio, 2)}x`)
    return { send, receive, others }
  } finally {
    for (const fn of close) await fn()
  }
}

export function dmRows (d: DmBench): Row[] {
  return [
    { metric: `DM send (${d.send.count}, alternating chunks with posts)`, shoal: `${fmt(d.send.dmPerSec)} DMs/s`, baseline: `${fmt(d.send.postPerSec)} posts/s`, ratio: `${fmt(d.send.ratio, 2)}x`, target: `>= ${DM_TARGET.sendRatio}x`, met: d.send.ratio >= DM_TARGET.sendRatio },
    { metric: `DM receive + decrypt (${d.receive.count} DMs, replicate + index)`, shoal: `${fmt(d.receive.dmPerSec)} DMs/s`, baseline: `${fmt(d.receive.postPerSec)} posts/s`, ratio: `${fmt(d.receive.ratio, 2)}x`, target: 'report', met: null },
    { metric: `hold ${d.others.count} boxes for others (trial decryption)`, shoal: `${fmt(d.others.boxMs)} ms`, baseline: `${fmt(d.others.postMs)} ms for as many posts`, ratio: `${fmt(d.others.ratio, 2)}x`, target: `<= ${DM_TARGET.othersRatio}x`, met: d.others.ratio <= DM_TARGET.othersRatio }
  ]
}

export function dmJson (d: DmBench): unknown {
  const r = (o: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]))
  return {
    send: { ...r(d.send), target: DM_TARGET.sendRatio, met: d.send.ratio >= DM_TARGET.sendRatio },
    receive: r(d.receive),
    others: { ...r(d.others), target: DM_TARGET.othersRatio, met: d.others.ratio <= DM_TARGET.othersRatio }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = new TmpDirs()
  const [send, receive, others] = process.argv.slice(2).map(Number)
  runBench('dm bench', tmp, async () => {
    const machine = readMachine()
    printMachine(machine)
    try {
      const log = (m: string): void => { process.stderr.write(`[dm bench ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`) }
      const d = await dmBench((label) => tmp.make(label), { send: send || 2000, receive: receive || 10_000, others: others || 100_000, log })
      console.log(formatTable(dmRows(d)))
      console.log(JSON.stringify({ date: machine.date, command: 'node dist/bench/dm-wire.js', loadAtStart: machine.load, loadAtEnd: readLoad(), dm: dmJson(d) }))
    } finally {
      await tmp.removeAll()
    }
  })
}
