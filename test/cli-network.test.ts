import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { shoal, spawnShoal } from './helpers/cli.js'

test('cli network – shoal dht, A serves, B follows and syncs, B reads A\'s post', async (t) => {
  const dht = spawnShoal(t, null, ['dht', '--json'])
  const bootstrap = JSON.parse(await dht.ready).bootstrap as string
  t.ok(/^127\.0\.0\.1:[0-9]+$/.test(bootstrap), `private DHT at ${bootstrap}`)
  const env = { SHOAL_BOOTSTRAP: bootstrap }

  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id
  await shoal(b, ['init', '--name', 'bob', '--json'], env)

  const serving = spawnShoal(t, a, ['serve', '--json'], env)
  const ready = JSON.parse(await serving.ready)
  t.is(ready.id, ida)
  t.is(fs.statSync(path.join(a, 'shoal.sock')).mode & 0o777, 0o600, 'socket is owner-only')

  const post = await shoal(a, ['post', 'hello over the swarm', '--json'], env)
  t.is(post.code, 0, `post through the serving node: ${post.stderr}`)
  const again = await shoal(a, ['serve', '--json'], env)
  t.is(again.json?.error?.code, 'STORAGE_LOCKED', 'a second serve on the same storage is refused')

  t.is((await shoal(b, ['follow', ida, '--json'], env)).code, 0)
  const sync = await shoal(b, ['sync', '--timeout', '60', '--json'], env)
  t.is(sync.code, 0, sync.stderr)
  t.alike(Object.keys(sync.json).sort(), ['blocks', 'drops', 'feeds', 'identities', 'peers'])
  t.ok(sync.json.peers >= 1, 'found A')
  t.ok(sync.json.blocks >= 3, 'downloaded A\'s header, name and post')

  const feed = await shoal(b, ['feed', '--json'], env)
  t.alike(feed.json.items.map((i: any) => [i.text, i.authorName]), [['hello over the swarm', 'alice']])

  const status = await shoal(a, ['status', '--json'], env)
  t.is(status.code, 0, status.stderr)
  t.ok(Array.isArray(status.json.peers) && Array.isArray(status.json.identities))
  t.is(status.json.running, true, 'through the serving node: running')
  const mine = status.json.identities.find((i: any) => i.id === ida)
  t.ok(mine && mine.feeds[0].local === 3 && mine.feeds[0].remote === 3, 'status lists my feed with local and remote lengths')

  t.is(await serving.stop('SIGINT'), 0, 'serve exits cleanly on SIGINT')
  t.absent(fs.existsSync(path.join(a, 'shoal.sock')), 'socket removed')
  const after = await shoal(a, ['feed', '--json'], env)
  t.is(after.json.items[0].text, 'hello over the swarm', 'nothing lost after restart')
  await dht.stop('SIGTERM')
})

test('cli network – bad bootstrap and sync with nobody around', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  await shoal(a, ['init', '--json'])
  const bad = await shoal(a, ['sync', '--bootstrap', 'nonsense', '--json'])
  t.is(bad.code, 2)
  t.is(bad.json.error.code, 'USAGE')
  const dht = spawnShoal(t, null, ['dht', '--json'])
  const bootstrap = JSON.parse(await dht.ready).bootstrap as string
  const alone = await shoal(a, ['sync', '--timeout', '30', '--json'], { SHOAL_BOOTSTRAP: bootstrap })
  t.is(alone.code, 0, alone.stderr)
  t.is(alone.json.peers, 0)
  t.is(alone.json.blocks, 0)
})
