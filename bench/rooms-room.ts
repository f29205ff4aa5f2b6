/**
 * The rooms benchmark's Shoal side: a room made by the first of three members (its only indexer),
 * two more joined by invite, and a fourth invited before the run and offline for all of it. The
 * three post n messages each in bursts while replicating in-process; then the fourth connects to
 * all three and catches up. It applies every node itself (fast-forward off: with it on, a member
 * that missed a fully indexed history skips to the signed view and applies nothing), and its
 * `stats` count the nodes its apply is given: 1 per message, plus what reorders apply again.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import sodium from 'sodium-universal'
import { Room, MemoryRoomKeyStore, memoryChannelPair } from '../src/groups/index.js'
import { randomKey, sealBody, type SignKeyPair } from '../src/groups/room-crypto.js'
import { OP_VERSION } from '../src/groups/room-caps.js'
import { encode, encodeOp, messageBody, OP } from '../src/groups/room-schema.js'
import { ackOnUpdate, mesh, until, writeBursts, type Replicable, type SideResult } from './rooms-mesh.js'

function identity (): SignKeyPair {
  const publicKey = b4a.alloc(32)
  const secretKey = b4a.alloc(64)
  const seed = b4a.alloc(32)
  sodium.randombytes_buf(seed)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}

/** Bytes of a room post op of `text` (what the raw side appends per message). */
export function postOpBytes (text: string): number {
  const { nonce, body } = sealBody(randomKey(), encode(messageBody, { text, timestamp: Date.now() }))
  return encodeOp(OP.post, OP_VERSION, { epoch: 0, nonce, body, replyTo: null }).byteLength
}

/** Room side: 3 writers x n posts of `text` in bursts (`onWritten` when all hold them), then the offline fourth member catches up. */
export async function roomSide (dirs: string[], n: number, burst: number, text: string, onWritten: () => void): Promise<SideResult> {
  const stores = dirs.map(d => new Corestore(d))
  const ids = stores.map(() => identity())
  const keys = stores.map(() => new MemoryRoomKeyStore())
  const stats = { applied: 0 }
  const opts = (i: number): ConstructorParameters<typeof Room>[2] => ({ namespace: 'bench', identity: ids[i]!, keys: keys[i]!, ackInterval: 0, name: 'bench', ...(i === 3 ? { stats, fastForward: false } : {}) })
  const creator = new Room(stores[0]!, null, opts(0))
  await creator.ready()
  const rooms: Room[] = [creator]
  const links: Replicable[][] = [[creator], [], [], []]
  const stop = mesh(stores, links)
  for (const i of [1, 2, 3]) {
    const { invite } = await creator.createInvite()
    const [a, b] = memoryChannelPair()
    const [, room] = await Promise.all([creator.answerInvite(a), Room.join(stores[i]!, b, invite, opts(i))])
    rooms.push(room)
    await room.whenWritable()
  }
  const late = rooms[3]!
  const writers = rooms.slice(0, 3)
  stop()
  // streams made before the joined rooms opened: a new mesh so wakeup reaches every base
  const stopWriters = mesh(stores.slice(0, 3), writers.map(r => [r]))
  const before = (await creator.info())!.messages
  const start = performance.now()
  const stopAcks = ackOnUpdate(creator.base)
  await Promise.all(writers.map(async r => writeBursts(n, burst, async () => r.post(text))))
  await until(writers, async () => {
    for (const r of writers) if ((await r.info())!.messages !== before + 3 * n) return false
    return true
  })
  const ms = performance.now() - start
  onWritten()
  await stopAcks()
  const appliedBefore = stats.applied
  const t0 = performance.now()
  const stops = [0, 1, 2].map(i => mesh([stores[i]!, stores[3]!], [[writers[i]!], [late]]))
  await until([late], async () => (await late.info())!.messages === before + 3 * n)
  const catchupMs = performance.now() - t0
  const appliesPerMessage = (stats.applied - appliedBefore) / (3 * n)
  stopWriters()
  for (const s of stops) s()
  for (const r of rooms) await r.close()
  for (const s of stores) await s.close()
  return { ms, catchupMs, appliesPerMessage }
}
