import test from 'brittle'
import b4a from 'b4a'
import type { Room } from '../src/groups/index.js'
import { OP_VERSION } from '../src/groups/room-caps.js'
import { encode, encodeOp, messageBody, OP } from '../src/groups/room-schema.js'
import { sealBody } from '../src/groups/room-crypto.js'
import { makeDevice, openRoom, mesh, invite, converge } from './helpers/rooms.js'

/** The blocks of a room's view core, hex: what its indexers sign. */
async function viewBlocks (room: Room): Promise<string[]> {
  const core = (room.base.view as unknown as { core: { length: number, get (i: number): Promise<Uint8Array | null> } }).core
  const out: string[] = []
  for (let i = 0; i < core.length; i++) out.push(b4a.toString((await core.get(i))!, 'hex'))
  return out
}

test('room apply – an append batch of posts with invalid ones among them: the valid ones, in order, and byte-identical views', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  mesh(t, [a, b])
  const ra = await openRoom(t, a, null, { name: 'runs' })
  const rb = await invite(t, ra, b)
  const first = await rb.post('first')
  await converge([ra, rb])
  const before = (await rb.info())!.messages
  const key = (await rb.epochKey(0))!
  const post = (text: string, replyTo: typeof first | null = null, epoch = 0): Uint8Array => {
    const { nonce, body } = sealBody(key, encode(messageBody, { text, timestamp: 1 }))
    return encodeOp(OP.post, OP_VERSION, { epoch, nonce, body, replyTo })
  }
  const missing = { writer: b4a.alloc(32, 9), length: 1 }
  await rb.base.append([
    post('one'),
    post('reply to nothing', missing), // invalid: the target is not a message
    post('two', first),
    b4a.from([0xff, 0xff]), // not an op
    post('future epoch', null, 5), // invalid: no such epoch yet
    encodeOp(OP.react, OP_VERSION, { target: first, emoji: '+1', add: true }),
    post('three')
  ])
  await converge([ra, rb])
  for (const r of [ra, rb]) {
    const msgs = (await r.messages()).slice(before)
    t.alike(msgs.map(m => m.text), ['one', 'two', 'three'], 'the valid posts, in order')
    t.alike(msgs.map(m => m.seq), [before, before + 1, before + 2], 'with consecutive seqs')
    t.alike(msgs[1]!.replyTo, first)
    const target = (await r.messages()).find(m => m.id.length === first.length && b4a.equals(m.id.writer, first.writer))!
    t.is(target.reactions.length, 1, 'the reaction in the run applied')
  }
  t.is((await ra.info())!.messages, before + 3)
  await ra.base.ack()
  await converge([ra, rb])
  t.alike(await viewBlocks(ra), await viewBlocks(rb), 'the writer (applying its own batch) and the indexer hold the same view blocks')
})
