/**
 * Rooms benchmark (runnable alone: `node dist/bench/rooms-core.js [N]`; a phase of `npm run bench`):
 * three writers each post N messages into one room while replicating in-process, until all three
 * replicas hold all 3N. Baseline: a raw Autobase with the same view (a Hyperbee), the same indexer
 * (the creator) and the same encryption key, whose apply only stores each block. Both ack every 64
 * blocks. Then a fourth member, invited before and offline for all of it, connects and catches up:
 * messages/s and how many nodes its apply was given per message (reorders apply nodes again).
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import sodium from 'sodium-universal'
import { Room, MemoryRoomKeyStore, memoryChannelPair } from '../src/groups/index.js'
import type { SignKeyPair } from '../src/groups/room-crypto.js'
import { TmpDirs, runBench } from './tmp-dirs.js'
import { readMachine, printMachine } from './machine.js'

import { RssSampler, MiB } from './rss-sampler.js'

const ACK_EVERY = 64
const TEXT = 'x'.repeat(100)

interface Replicable { addStream (s: unknown): void }

function identity (): SignKeyPair {
  const publicKey = b4a.alloc(32)
  const secretKey = b4a.alloc(64)
  const seed = b4a.alloc(32)
  sodium.randombytes_buf(seed)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}

/** Full mesh of store replication; every stream joins each base's wakeup protocol. */
function mesh (stores: Corestore[], bases: Replicable[][]): () => void {
  const streams: Array<{ destroy (): void }> = []
  for (let i = 0; i < stores.length; i++) {
    for (let j = i + 1; j < stores.length; j++) {
      const s1 = stores[i]!.replicate(true)
      const s2 = stores[j]!.replicate(false)
      s1.pipe(s2).pipe(s1)
      for (const b of bases[i]!) b.addStream(s1)
      for (const b of bases[j]!) b.addStream(s2)
      streams.push(s1, s2)
    }
  }
  return () => { for (const s of streams) s.destroy() }
}

/** Resolves when `done()` holds, re-checking on every update event of the given emitters. */
async function until (emitters: Array<{ on (e: string, f: () => void): unknown, off (e: string, f: () => void): unknown }>, done: () => Promise<boolean>): Promise<void> {
  for (;;) {
    let wake!: () => void
    const next = new Promise<void>(resolve => { wake = resolve })
    for (const e of emitters) e.on('update', wake)
    try {
      if (await done()) return
      await next
    } finally {
      for (const e of emitters) e.off('update', wake)
    }
  }
}

export interface RoomsResult { n: number, rawMs: number, roomMs: number, catchupMs: number, appliesPerMessage: number, peakRss: number }

async function benchRoom (tmp: TmpDirs, N: number): Promise<{ ms: number, catchupMs: number, appliesPerMessage: number }> {
  const stores = await Promise.all([0, 1, 2, 3].map(async i => new Corestore(await tmp.make('room-' + i))))
  const ids = [identity(), identity(), identity(), identity()]
  const keys = [0, 1, 2, 3].map(() => new MemoryRoomKeyStore())
  const stats = { applied: 0 }
  const opts = (i: number): ConstructorParameters<typeof Room>[2] => ({ namespace: 'bench', identity: ids[i]!, keys: keys[i]!, ackInterval: 0, name: 'bench', ...(i === 3 ? { stats } : {}) })
  const rooms: Room[] = []
  const links = [[], [], []] as Replicable[][]
  const creator = new Room(stores[0]!, null, opts(0))
  await creator.ready()
  rooms.push(creator)
  links[0]!.push(creator)
  const stop = mesh(stores.slice(0, 3), links)
  for (const i of [1, 2]) {
    const { invite } = await creator.createInvite()
    const [a, b] = memoryChannelPair()
    const [, room] = await Promise.all([creator.answerInvite(a), Room.join(stores[i]!, b, invite, opts(i))])
    rooms.push(room)
    await room.whenWritable()
  }
  // the offline member: invited over a link to the creator that is cut before the run
  const cut4 = mesh([stores[0]!, stores[3]!], [[creator], []])
  const { invite } = await creator.createInvite()
  const [ca, cb] = memoryChannelPair()
  const [, late] = await Promise.all([creator.answerInvite(ca), Room.join(stores[3]!, cb, invite, opts(3))])
  await late.whenWritable()
  cut4()
  // streams made before these rooms opened: re-run the mesh so wakeup reaches every base
  const stop2 = mesh(stores.slice(0, 3), rooms.map(r => [r]))
  const before = (await creator.info())!.messages
  const start = performance.now()
  await Promise.all(rooms.map(async (r, i) => {
    for (let k = 0; k < N; k++) {
      await r.post(TEXT)
      if (i === 0 && k % ACK_EVERY === ACK_EVERY - 1) await r.base.ack()
    }
  }))
  await until(rooms, async () => {
    for (const r of rooms) if ((await r.info())!.messages !== before + 3 * N) return false
    return true
  })
  const ms = performance.now() - start
  // catch-up: the offline member connects to all three
  const appliedBefore = stats.applied
  const t0 = performance.now()
  const stops3 = [0, 1, 2].map(i => mesh([stores[i]!, stores[3]!], [[rooms[i]!], [late]]))
  await until([late], async () => (await late.info())!.messages === before + 3 * N)
  const catchupMs = performance.now() - t0
  const appliesPerMessage = (stats.applied - appliedBefore) / (3 * N)
  stop()
  stop2()
  for (const s of stops3) s()
  for (const r of [...rooms, late]) await r.close()
  for (const s of stores) await s.close()
  return { ms, catchupMs, appliesPerMessage }
}

async function benchRaw (tmp: TmpDirs, N: number): Promise<number> {
  const stores = await Promise.all([0, 1, 2].map(async i => new Corestore(await tmp.make('raw-' + i))))
  const encryptionKey = b4a.alloc(32)
  sodium.randombytes_buf(encryptionKey)
  const COUNT = b4a.from([0])
  const open = (store: { get (name: string): unknown }): Hyperbee => new Hyperbee(store.get('view'), { keyEncoding: 'binary', valueEncoding: 'binary', extension: false })
  const apply = async (nodes: Autobase.Node[], view: Hyperbee, host: Autobase.Host): Promise<void> => {
    for (const node of nodes) {
      if (node.value === null) continue
      if (node.value[0] === 0) { await host.addWriter(node.value.subarray(1), { indexer: false }); continue }
      const b = view.batch()
      const count = await b.get(COUNT)
      const n = count === null ? 0 : new DataView(count.value.buffer, count.value.byteOffset).getUint32(0)
      const key = b4a.alloc(36)
      key.set(node.from.key, 0)
      new DataView(key.buffer, key.byteOffset).setUint32(32, node.length)
      await b.put(b4a.concat([b4a.from([1]), key]), node.value)
      const next = b4a.alloc(4)
      new DataView(next.buffer, next.byteOffset).setUint32(0, n + 1)
      await b.put(COUNT, next)
      await b.flush()
    }
  }
  const mk = (i: number, key: Uint8Array | null): Autobase<Hyperbee> => new Autobase<Hyperbee>(stores[i]!.namespace('bench'), key, { open, apply, close: v => v.close(), encryptionKey, ackInterval: 0 })
  const first = mk(0, null)
  await first.ready()
  const bases = [first, mk(1, first.key), mk(2, first.key)]
  await Promise.all(bases.map(b => b.ready()))
  const stop = mesh(stores, bases.map(b => [b.wakeupProtocol]))
  for (const b of bases.slice(1)) {
    await first.append(b4a.concat([b4a.from([0]), b.local.key!]))
    if (!b.writable) await new Promise<void>(resolve => b.once('writable', () => resolve()))
  }
  const msg = b4a.concat([b4a.from([1]), b4a.from(TEXT), b4a.alloc(40)]) // about a room post's size
  const start = performance.now()
  await Promise.all(bases.map(async (b, i) => {
    for (let k = 0; k < N; k++) {
      await b.append(msg)
      if (i === 0 && k % ACK_EVERY === ACK_EVERY - 1) await b.ack()
    }
  }))
  await until(bases, async () => {
    for (const b of bases) {
      const c = await b.view.get(COUNT)
      if (c === null || new DataView(c.value.buffer, c.value.byteOffset).getUint32(0) !== 3 * N) return false
    }
    return true
  })
  const ms = performance.now() - start
  stop()
  for (const b of bases) await b.close()
  for (const s of stores) await s.close()
  return ms
}

/** The rooms phase: raw Autobase vs room with 3 writers x n messages, then an offline member's catch-up. */
export async function roomsBench (tmp: TmpDirs, n: number): Promise<RoomsResult> {
  const rss = new RssSampler()
  rss.start(50)
  const rawMs = await benchRaw(tmp, n)
  const room = await benchRoom(tmp, n)
  rss.stop()
  return { n, rawMs, roomMs: room.ms, catchupMs: room.catchupMs, appliesPerMessage: room.appliesPerMessage, peakRss: rss.peak.rss }
}

/** Lines for a RoomsResult. */
export function roomsLines (r: RoomsResult): string[] {
  const total = 3 * r.n
  const line = (name: string, ms: number): string => `${name.padEnd(10)} ${total} msgs  ${ms.toFixed(0).padStart(7)} ms  ${(total / (ms / 1000)).toFixed(0).padStart(6)} msgs/s`
  return [
    `rooms: 3 writers x ${r.n} messages, 3 replicas in-process, converged`,
    line('raw', r.rawMs),
    line('room', r.roomMs),
    `room throughput / raw   ${(r.rawMs / r.roomMs).toFixed(2)}x (target >= 0.8x)`,
    line('catch-up', r.catchupMs) + `  (a member offline for all of it)`,
    `catch-up apply count per message   ${r.appliesPerMessage.toFixed(2)} (target <= 5)`,
    `peak RSS   ${(r.peakRss / MiB).toFixed(0)} MiB`
  ]
}

if (process.argv[1]?.endsWith('rooms-core.js')) {
  const tmp = new TmpDirs()
  const N = Number(process.argv[2] ?? 300)
  runBench('bench:rooms-core', tmp, async () => {
    printMachine(readMachine())
    for (const l of roomsLines(await roomsBench(tmp, N))) console.log(l)
    await tmp.removeAll()
  })
}
