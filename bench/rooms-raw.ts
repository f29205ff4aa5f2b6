/**
 * The rooms benchmark's baseline: a raw Autobase with the room's view (a Hyperbee with binary
 * keys), its indexer layout (the creator is the only indexer, the others are added with
 * `{ indexer: false }`), the same encryption, ack and replication set-up. Its apply stores each
 * block under (writer, length) and counts them: one get and two puts per message, against the
 * room's three gets and three puts. A fourth writer, added before the run and offline for all of
 * it, then catches up by applying every node (fast-forward off, as on the room side).
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import sodium from 'sodium-universal'
import { mesh, writeThenCatchUp, type SideResult } from './rooms-mesh.js'

const COUNT = b4a.from([0])

function u32 (n: number): Uint8Array {
  const b = b4a.alloc(4)
  new DataView(b.buffer, b.byteOffset).setUint32(0, n)
  return b
}

async function count (view: Hyperbee | Hyperbee.Batch): Promise<number> {
  const c = await view.get(COUNT)
  return c === null ? 0 : new DataView(c.value.buffer, c.value.byteOffset).getUint32(0)
}

/** Raw Autobase side: 3 writers x n messages in bursts (`onWritten` when all hold them), then the offline fourth replica catches up. */
export async function rawSide (dirs: string[], n: number, burst: number, msgBytes: number, onWritten: () => void): Promise<SideResult> {
  const stores = dirs.map(d => new Corestore(d))
  const encryptionKey = b4a.alloc(32)
  sodium.randombytes_buf(encryptionKey)
  const stats = { applied: 0 }
  const open = (store: { get (name: string): unknown }): Hyperbee => new Hyperbee(store.get('view'), { keyEncoding: 'binary', valueEncoding: 'binary', extension: false })
  const apply = (counted: boolean) => async (nodes: Autobase.Node[], view: Hyperbee, host: Autobase.Host): Promise<void> => {
    if (counted) stats.applied += nodes.length
    for (const node of nodes) {
      if (node.value === null) continue
      if (node.value[0] === 0) { await host.addWriter(node.value.subarray(1), { indexer: false }); continue }
      const b = view.batch()
      const c = await count(b)
      await b.put(b4a.concat([b4a.from([1]), node.from.key, u32(node.length)]), node.value)
      await b.put(COUNT, u32(c + 1))
      await b.flush()
    }
  }
  const mk = (i: number, key: Uint8Array | null): Autobase<Hyperbee> =>
    new Autobase<Hyperbee>(stores[i]!.namespace('bench'), key, { open, apply: apply(i === 3), close: v => v.close(), encryptionKey, ackInterval: 0, ...(i === 3 ? { fastForward: false } : {}) })
  const first = mk(0, null)
  await first.ready()
  const bases = [first, mk(1, first.key), mk(2, first.key), mk(3, first.key)]
  await Promise.all(bases.map(b => b.ready()))
  const late = bases[3]!
  const writers = bases.slice(0, 3)
  const stop = mesh(stores, bases.map(b => [b.wakeupProtocol]))
  for (const b of bases.slice(1)) {
    await first.append(b4a.concat([b4a.from([0]), b.local.key!]))
    if (!b.writable) await new Promise<void>(resolve => b.once('writable', () => resolve()))
  }
  stop()
  const msg = b4a.concat([b4a.from([1]), b4a.alloc(msgBytes - 1, 'x')])
  const result = await writeThenCatchUp({
    stores,
    writers,
    late,
    links: b => [b.wakeupProtocol],
    post: async b => b.append(msg),
    messages: async b => count(b.view),
    indexer: first,
    stats
  }, n, burst, onWritten)
  for (const b of bases) await b.close()
  for (const s of stores) await s.close()
  return result
}
