import test from 'brittle'
import path from 'node:path'
import { shoal, spawnShoal, cliDht } from './helpers/cli.js'

const Z32 = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/

test('dm cli – A serves, B syncs: dm send, list, read and a reply, all --json', async (t) => {
  const { dht, bootstrap } = await cliDht(t)
  const env = { SHOAL_BOOTSTRAP: bootstrap }
  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id
  const idb = (await shoal(b, ['init', '--name', 'bob', '--json'], env)).json.id
  t.is((await shoal(b, ['follow', ida, '--json'], env)).code, 0)
  const serving = spawnShoal(t, a, ['serve', '--json'], env)
  await serving.ready
  t.teardown(() => { if (process.env.SHOAL_DEBUG) console.error('A serving:\n' + serving.stderr()) })
  t.is((await shoal(a, ['follow', idb, '--json'], env)).code, 0)

  const first = await shoal(b, ['sync', '--timeout', '60', '--json'], env)
  t.is(first.code, 0, first.stderr)
  // A's serving node now holds B's feed (B's keys) once B's sync uploaded it.
  let sent = await shoal(a, ['dm', 'send', idb, 'hello bob', '--json'], env)
  for (let i = 0; i < 5 && sent.json?.error?.code === 'DM_NO_DEVICES'; i++) {
    await shoal(b, ['sync', '--timeout', '30', '--json'], env)
    sent = await shoal(a, ['dm', 'send', idb, 'hello bob', '--json'], env)
  }
  t.is(sent.code, 0, sent.stderr)
  t.alike(Object.keys(sent.json).sort(), ['conversation', 'id'])
  t.ok(Z32.test(sent.json.conversation))

  const second = await shoal(b, ['sync', '--timeout', '60', '--json'], env)
  t.is(second.code, 0, second.stderr)
  const list = await shoal(b, ['dm', 'list', '--json'], env)
  t.is(list.code, 0, list.stderr)
  t.is(list.json.items.length, 1)
  const conv = list.json.items[0]
  t.is(conv.conversation, sent.json.conversation)
  t.is(conv.unread, 1)
  t.alike(conv.participants.map((p: any) => p.name).sort(), ['alice', 'bob'])
  t.alike(Object.keys(conv.last).sort(), ['author', 'authorName', 'id', 'parent', 'reactions', 'text', 'timestamp'])
  t.is(conv.last.text, 'hello bob')

  const read = await shoal(b, ['dm', 'read', conv.conversation, '--json'], env)
  t.alike(read.json.items.map((m: any) => [m.text, m.authorName, m.author]), [['hello bob', 'alice', ida]])
  t.is(read.json.next, null)
  t.is((await shoal(b, ['dm', 'list', '--json'], env)).json.items[0].unread, 0, 'reading marks it read')

  const reply = await shoal(b, ['dm', 'send', ida, 'hi alice', '--reply', sent.json.id, '--json'], env)
  t.is(reply.code, 0, reply.stderr)
  t.is(reply.json.conversation, sent.json.conversation)
  const third = await shoal(b, ['sync', '--timeout', '60', '--json'], env)
  t.is(third.code, 0, third.stderr)
  const onA = await shoal(a, ['dm', 'read', sent.json.conversation, '--limit', '1', '--json'], env)
  t.alike(onA.json.items.map((m: any) => [m.text, m.parent]), [['hi alice', sent.json.id]], 'newest first, with its parent')
  t.ok(typeof onA.json.next === 'string', 'a cursor to the older page')
  const older = await shoal(a, ['dm', 'read', sent.json.conversation, '--before', onA.json.next, '--json'], env)
  t.alike(older.json.items.map((m: any) => m.text), ['hello bob'])

  const bad = await shoal(b, ['dm', 'send', ida, 'x', '--reply', 'nonsense', '--json'], env)
  t.is(bad.code, 2, 'a bad reply id is a usage error')

  t.is((await shoal(b, ['block', ida, '--json'], env)).code, 0)
  const refused = await shoal(b, ['dm', 'send', ida, 'while blocked', '--json'], env)
  t.is(refused.code, 1, 'a DM to someone I block fails')
  t.is(refused.json.error.code, 'BLOCKED')
  t.ok(refused.stderr.startsWith(`error: BLOCKED: you block ${ida}; unblock them first`), refused.stderr)
  const unchanged = await shoal(b, ['dm', 'read', sent.json.conversation, '--json'], env)
  t.absent(unchanged.json.items.some((m: any) => m.text === 'while blocked'), 'nothing stored')
  t.is((await shoal(b, ['unblock', ida, '--json'], env)).code, 0)
  t.is((await shoal(b, ['dm', 'send', ida, 'unblocked', '--json'], env)).code, 0, 'unblocked: it goes')
  await serving.stop('SIGINT')
  await dht.stop('SIGTERM')
})
