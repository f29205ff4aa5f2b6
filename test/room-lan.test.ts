import test from 'brittle'
import path from 'node:path'
import { shoal, spawnShoal } from './helpers/cli.js'
import { createLan, namespaceSkip } from './helpers/netns.js'

const skip = namespaceSkip()
if (skip !== null) console.log(`# skipping LAN rooms test: ${skip}`)
const lanTest = skip === null ? test : test.skip

lanTest('room lan – join with a code over a LAN with no DHT (CLI, through serve), read the history, refused codes', async (t) => {
  t.timeout(180_000)
  const lan = createLan(t, 'r')
  const env = { SHOAL_BOOTSTRAP: 'none' }
  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id
  const idb = (await shoal(b, ['init', '--name', 'bob', '--json'], env)).json.id
  const created = await shoal(a, ['room', 'create', 'lan party', '--json'], env)
  t.is(created.code, 0, created.stderr)
  const room = created.json.id
  const posted = await shoal(a, ['room', 'post', room, 'welcome, no internet needed', '--json'], env)
  t.is(posted.code, 0, posted.stderr)

  const serving = spawnShoal(t, a, ['serve', '--json'], env, ['ip', 'netns', 'exec', lan.a])
  await serving.ready
  // through the serving node
  const invite = await shoal(a, ['room', 'invite', room, '--uses', '1', '--expires', '1h', '--json'], env)
  t.is(invite.code, 0, invite.stderr)
  t.ok(typeof invite.json.code === 'string')

  const bad = await shoal(b, ['room', 'join', 'nonsense', '--json'], env, ['ip', 'netns', 'exec', lan.b])
  t.is(bad.json?.error?.code, 'INVITE_INVALID', 'a malformed code')

  const join = await shoal(b, ['room', 'join', invite.json.code, '--timeout', '90', '--json'], env, ['ip', 'netns', 'exec', lan.b])
  t.is(join.code, 0, join.stderr)
  t.alike(join.json, { id: room, name: 'lan party' })

  const read = await shoal(b, ['room', 'read', room, '--json'], env)
  // B does not follow A (no profile held): the name comes from the room's member data
  t.alike(read.json.items.map((i: any) => [i.text, i.author, i.authorName]), [['welcome, no internet needed', ida, 'alice']])
  const members = await shoal(a, ['room', 'members', room, '--json'], env)
  t.alike(members.json.items.map((m: any) => m.role).sort(), ['admin', 'member'])
  t.ok(members.json.items.some((m: any) => m.id === idb))

  const c = path.join(await t.tmp(), 'c')
  t.is((await shoal(c, ['init', '--json'], env)).code, 0)
  const used = await shoal(c, ['room', 'join', invite.json.code, '--timeout', '90', '--json'], env, ['ip', 'netns', 'exec', lan.b])
  t.is(used.json?.error?.code, 'INVITE_USED', 'the single-use code was used')
  t.alike((await shoal(c, ['room', 'list', '--json'], env)).json, { items: [] }, 'nothing recorded')
  t.is(await serving.stop('SIGTERM'), 0, 'serve exits cleanly')
})
