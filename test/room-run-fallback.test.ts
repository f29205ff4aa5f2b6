import test from 'brittle'
import b4a from 'b4a'
import Hyperbee from 'hyperbee'
import type { Room } from '../src/groups/index.js'
import { OP_VERSION } from '../src/groups/room-caps.js'
import { encode, encodeOp, messageBody, OP, type MessageId } from '../src/groups/room-schema.js'
import { sealBody } from '../src/groups/room-crypto.js'
import { makeDevice, openRoom, mesh, invite, converge } from './helpers/rooms.js'

/** The blocks of a room's view core, hex: what its indexers sign. */
async function viewBlocks (room: Room): Promise<string[]> {
  const core = (room.base.view as unknown as { core: { length: number, get (i: number): Promise<Uint8Array | null> } }).core
  const out: string[] = []
  for (let i = 0; i < core.length; i++) out.push(b4a.toString((await core.get(i))!, 'hex'))
  return out
}

/**
 * Every handler validates before it writes, so no op a peer can craft makes one throw: the fault is
 * injected below them, in the view. Until teardown, a Hyperbee batch `put` of a value that holds
 * `marker` throws (on every replica in this process alike; Autobase's own system bee writes
 * objects, never matched); `throws` counts those puts.
 */
function failPutsOf (t: Parameters<Parameters<typeof test>[1]>[0], marker: Uint8Array): { throws: number } {
  const seen = { throws: 0 }
  const proto = Hyperbee.prototype as unknown as { batch: (...args: unknown[]) => Hyperbee.Batch }
  const original = proto.batch
  proto.batch = function (this: Hyperbee, ...args: unknown[]): Hyperbee.Batch {
    const batch = original.apply(this, args)
    const put = batch.put.bind(batch) as (...args: unknown[]) => Promise<void>
    batch.put = async (...args: unknown[]) => {
      const value = args[1]
      if (b4a.isBuffer(value) && b4a.indexOf(value, marker) !== -1) {
        seen.throws++
        throw new Error('injected: this view write fails')
      }
      return put(...args)
    }
    return batch
  }
  t.teardown(() => { proto.batch = original }, { order: -1 })
  return seen
}

test('room apply – a handler throws in the middle of a run: the run is applied again one op per batch, the ops around it land, the base stays open', async t => {
  const a = await makeDevice(t)
  const b = await makeDevice(t)
  mesh(t, [a, b])
  const ra = await openRoom(t, a, null, { name: 'fallback' })
  const rb = await invite(t, ra, b)
  const first = await rb.post('first')
  await converge([ra, rb])
  const before = (await rb.info())!.messages
  const key = (await rb.epochKey(0))!
  const marker = b4a.alloc(24, 0xee)
  const failing = failPutsOf(t, marker)
  const sealed = (text: string): { nonce: Uint8Array, body: Uint8Array } => sealBody(key, encode(messageBody, { text, timestamp: 1 }))
  const post = (text: string, replyTo: MessageId | null = null): Uint8Array => encodeOp(OP.post, OP_VERSION, { epoch: 0, ...sealed(text), replyTo })
  const poison = encodeOp(OP.post, OP_VERSION, { epoch: 0, nonce: marker, body: sealed('poison').body, replyTo: null })

  // One append: one apply call, so one run of view-only ops. The ops after the poison read what
  // the ops before it wrote (from the run's batch, or from the view once applied one by one).
  const writer = rb.writerKey
  const at = rb.base.local.length
  const id = (i: number): MessageId => ({ writer, length: at + i + 1 })
  await rb.base.append([
    post('one'),
    encodeOp(OP.react, OP_VERSION, { target: first, emoji: '+1', add: true }),
    poison,
    post('two', id(0)),
    encodeOp(OP.edit, OP_VERSION, { target: id(0), epoch: 0, ...sealed('one, edited') }),
    encodeOp(OP.react, OP_VERSION, { target: id(3), emoji: 'ok', add: true })
  ])
  await converge([ra, rb])
  t.ok(failing.throws >= 4, `the poison's write threw in the run and again alone, on both replicas (${failing.throws} throws)`)

  for (const [name, r] of [['indexer', ra], ['writer', rb]] as const) {
    const all = await r.messages()
    const msgs = all.slice(before)
    t.alike(msgs.map(m => m.text), ['one, edited', 'two'], `${name}: the valid posts around the poison, in order, the edit after it applied`)
    t.alike(msgs.map(m => m.seq), [before, before + 1], `${name}: the poison took no seq`)
    t.alike(msgs.map(m => m.id), [id(0), id(3)], `${name}: ids are (writer, length) of their place in the append`)
    t.alike(msgs[1]!.replyTo, id(0), `${name}: the reply after the poison points at the post before it`)
    t.is(msgs[0]!.edits, 1, `${name}: one edit`)
    t.alike(msgs[1]!.reactions.map(x => x.emoji), ['ok'], `${name}: the reaction after the poison applied`)
    const target = all.find(m => b4a.equals(m.id.writer, first.writer) && m.id.length === first.length)!
    t.alike(target.reactions.map(x => x.emoji), ['+1'], `${name}: the reaction before the poison applied`)
    t.absent(all.some(m => m.text === 'poison'), `${name}: the poison is skipped`)
  }
  t.is((await ra.info())!.messages, before + 2, 'the room counts two new messages')

  t.absent(ra.base.closing, 'the indexer\'s base stays open')
  t.absent(rb.base.closing, 'the writer\'s base stays open')
  await rb.post('after')
  await ra.post('and from the indexer')
  await converge([ra, rb])
  for (const r of [ra, rb]) t.alike((await r.messages()).slice(before + 2).map(m => m.text).sort(), ['after', 'and from the indexer'], 'both bases apply what comes next')
  await ra.base.ack()
  await converge([ra, rb])
  t.alike(await viewBlocks(ra), await viewBlocks(rb), 'the two replicas hold byte-identical view blocks')
})
