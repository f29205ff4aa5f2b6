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
import { Room, MemoryRoomKeyStore, memoryChannelPair } from '../src/groups/index.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { randomKey, sealBody, type SignKeyPair } from '../src/groups/room-crypto.js'
import { OP_VERSION } from '../src/groups/room-caps.js'
import { encode, encodeOp, messageBody, OP } from '../src/groups/room-schema.js'
import { mesh, writeThenCatchUp, type Replicable, type SideResult } from './rooms-mesh.js'

/** Bytes of a room post op of `text` (what the raw side appends per message). */
export function postOpBytes (text: string): number {
  const { nonce, body } = sealBody(randomKey(), encode(messageBody, { text, timestamp: Date.now() }))
  return encodeOp(OP.post, OP_VERSION, { epoch: 0, nonce, body, replyTo: null }).byteLength
}

/** Room side: 3 writers x n posts of `text` in bursts (`onWritten` when all hold them), then the offline fourth member catches up. */
export async function roomSide (dirs: string[], n: number, burst: number, text: string, onWritten: () => void): Promise<SideResult> {
  const stores = dirs.map(d => new Corestore(d))
  const ids: SignKeyPair[] = stores.map(() => keyPairFromSeed(createSeed()))
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
  // writeThenCatchUp makes new streams: made before the joined rooms opened, wakeup would miss some
  const before = (await creator.info())!.messages
  const result = await writeThenCatchUp({
    stores,
    writers,
    late,
    links: r => [r],
    post: async r => r.post(text),
    messages: async r => (await r.info())!.messages - before,
    indexer: creator.base,
    stats
  }, n, burst, onWritten)
  for (const r of rooms) await r.close()
  for (const s of stores) await s.close()
  return result
}
