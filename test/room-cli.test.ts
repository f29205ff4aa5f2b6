import test from 'brittle'
import path from 'node:path'
import { shoal, spawnShoal, cliDht } from './helpers/cli.js'

test('room cli – create, list, post, reply, react, edit, read, members (--json); usage errors exit 2', async (t) => {
  const dir = path.join(await t.tmp(), 'a')
  const me = (await shoal(dir, ['init', '--name', 'alice', '--json'])).json.id
  const created = await shoal(dir, ['room', 'create', 'book club', '--json'])
  t.is(created.code, 0, created.stderr)
  const room = created.json.id
  t.alike((await shoal(dir, ['room', 'list', '--json'])).json, { items: [{ id: room, name: 'book club', role: 'admin', unread: 0 }] })
  const first = (await shoal(dir, ['room', 'post', room, 'chapter one', '--json'])).json.id
  const reply = await shoal(dir, ['room', 'post', room, 'agreed', '--reply', first, '--json'])
  t.is(reply.code, 0, reply.stderr)
  t.is((await shoal(dir, ['room', 'react', room, first, '📚', '--json'])).code, 0)
  t.is((await shoal(dir, ['room', 'edit', room, first, 'chapter one (edited)', '--json'])).code, 0)
  const read = await shoal(dir, ['room', 'read', room, '--json'])
  t.alike(read.json.items.map((i: any) => [i.text, i.parent, i.edited, i.reactions]), [
    ['agreed', first, false, {}],
    ['chapter one (edited)', null, true, { '📚': 1 }]
  ])
  t.is(read.json.next, null)
  const page = await shoal(dir, ['room', 'read', room, '--limit', '1', '--json'])
  t.is(page.json.items.length, 1)
  t.is((await shoal(dir, ['room', 'read', room, '--limit', '1', '--before', String(page.json.next), '--json'])).json.items[0].text, 'chapter one (edited)')
  t.is((await shoal(dir, ['room', 'delete', room, first, '--json'])).code, 0)
  t.alike((await shoal(dir, ['room', 'members', room, '--json'])).json, { items: [{ id: me, name: 'alice', role: 'admin', muted: false }] })
  const invite = await shoal(dir, ['room', 'invite', room, '--role', 'moderator', '--uses', '3', '--expires', '2h', '--json'])
  t.ok(typeof invite.json.code === 'string')

  for (const [args, code] of [
    [['room', '--json'], 'USAGE'],
    [['room', 'fly', '--json'], 'USAGE'],
    [['room', 'post', room, '--json'], 'USAGE'],
    [['room', 'invite', room, '--role', 'king', '--json'], 'INVALID_ARGUMENT'],
    [['room', 'invite', room, '--expires', 'soon', '--json'], 'USAGE'],
    [['room', 'react', room, 'nope', 'x', '--json'], 'INVALID_ID'],
    [['room', 'post', 'yyyy', 'x', '--json'], 'UNKNOWN_ROOM'],
    [['room', 'role', room, me, 'admin', '--json'], 'no error']
  ] as Array<[string[], string]>) {
    const r = await shoal(dir, args)
    t.is(r.json?.error?.code ?? 'no error', code, args.join(' '))
    if (code === 'USAGE') t.is(r.code, 2)
  }
})

test('room cli – room leave through serve and on the network: the leaver is gone for the admin; refusals change nothing', async (t) => {
  t.timeout(180_000)
  const { bootstrap } = await cliDht(t)
  const env = { SHOAL_BOOTSTRAP: bootstrap }
  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id
  const idb = (await shoal(b, ['init', '--name', 'bob', '--json'], env)).json.id
  const room = (await shoal(a, ['room', 'create', 'leavers', '--json'], env)).json.id
  const serving = spawnShoal(t, a, ['serve', '--json'], env)
  await serving.ready
  const invite = await shoal(a, ['room', 'invite', room, '--json'], env)
  const join = await shoal(b, ['room', 'join', invite.json.code, '--timeout', '90', '--json'], env)
  t.is(join.code, 0, join.stderr)
  const members = async (): Promise<string[]> => (await shoal(a, ['room', 'members', room, '--json'], env)).json.items.map((m: any) => m.id).sort()
  t.alike(await members(), [ida, idb].sort())

  const last = await shoal(a, ['room', 'leave', room, '--json'], env)
  t.is(last.json?.error?.code, 'LAST_ADMIN', 'the last admin cannot leave (through serve)')
  t.is(last.code, 1)
  const unknown = await shoal(b, ['room', 'leave', 'yyyy', '--json'], env)
  t.is(unknown.json?.error?.code, 'UNKNOWN_ROOM', 'leaving a room I am not in')
  t.alike(await members(), [ida, idb].sort(), 'nothing changed')

  const left = await shoal(b, ['room', 'leave', room, '--json'], env)
  t.is(left.code, 0, left.stderr)
  t.alike(left.json, { delivered: true }, 'the leave op reached the serving admin before bob forgot the room')
  t.alike((await shoal(b, ['room', 'list', '--json'], env)).json, { items: [] })
  // the admin applies it as soon as the op arrives; each check is one CLI round trip, no timers
  let now = await members()
  for (let i = 0; i < 30 && now.length !== 1; i++) now = await members()
  t.alike(now, [ida], 'bob is gone from the members on the admin')
  t.is(await serving.stop('SIGTERM'), 0, 'serve exits cleanly')
})
