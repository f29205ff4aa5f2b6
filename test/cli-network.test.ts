import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { identityTopic } from '../src/caps.js'
import { parseIdentity } from '../src/ids.js'
import { shoal, spawnShoal, cliDht } from './helpers/cli.js'

test('cli network – shoal dht, A serves, B follows and syncs, B reads A\'s post', async (t) => {
  const { dht, bootstrap } = await cliDht(t)
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
  t.alike(Object.keys(sync.json).sort(), ['blocks', 'drops', 'feeds', 'identities', 'peers', 'pendingTopics', 'topics', 'uploaded'])
  t.ok(sync.json.peers >= 1, 'found A')
  t.ok(sync.json.blocks >= 3, 'downloaded A\'s header, name and post')

  const feed = await shoal(b, ['feed', '--json'], env)
  t.alike(feed.json.items.map((i: any) => [i.text, i.authorName]), [['hello over the swarm', 'alice']])

  const status = await shoal(a, ['status', '--json'], env)
  t.is(status.code, 0, status.stderr)
  t.ok(Array.isArray(status.json.peers) && Array.isArray(status.json.identities))
  t.is(status.json.running, true, 'through the serving node: running')
  const mine = status.json.identities.find((i: any) => i.id === ida)
  t.ok(mine && mine.feeds[0].local === 4 && mine.feeds[0].remote === 4, 'status lists my feed with local and remote lengths')

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
  const { dht, bootstrap } = await cliDht(t)
  const alone = await shoal(a, ['sync', '--timeout', '30', '--json'], { SHOAL_BOOTSTRAP: bootstrap })
  t.is(alone.code, 0, alone.stderr)
  t.is(alone.json.peers, 0)
  t.is(alone.json.blocks, 0)
})

test('cli network – serve is ready at once while six dead peers are still announced on its topic', async (t) => {
  const { dht, bootstrap } = await cliDht(t)
  const env = { SHOAL_BOOTSTRAP: bootstrap, SHOAL_DEBUG: '1' }
  const a = path.join(await t.tmp(), 'a')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id as string

  // Six "followers" announce A's topic, then are killed: their announcements outlive them.
  const fixture = fileURLToPath(new URL('./fixtures/dead-peers.js', import.meta.url))
  const topic = b4a.toString(identityTopic(parseIdentity(ida)), 'hex')
  const dead = spawn(process.execPath, [fixture, bootstrap, topic, '6'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { dead.kill('SIGKILL') }, { order: -1 })
  await new Promise<void>((resolve, reject) => {
    dead.stdout.on('data', (d) => { if (String(d).includes('announced')) resolve() })
    dead.once('exit', (code) => reject(new Error(`dead-peers fixture exited (${code}) before announcing`)))
  })
  dead.kill('SIGKILL')
  await new Promise((resolve) => dead.once('exit', resolve))

  const started = Date.now()
  const serving = spawnShoal(t, a, ['serve', '--json'], env)
  const ready = JSON.parse(await serving.ready)
  t.comment(`ready line after ${Date.now() - started} ms`)
  t.is(ready.id, ida)
  t.absent(serving.stderr().includes('network flushed'), 'the ready line comes before the first discovery round ends')
  const post = await shoal(a, ['post', 'usable at once', '--json'], env)
  t.is(post.code, 0, `the node takes commands while discovery runs: ${post.stderr}`)
  t.is(await serving.stop('SIGINT'), 0, 'a Ctrl-C during discovery still closes cleanly')
  await dht.stop('SIGTERM')
})

test('cli network – a CLI-only node posts and syncs once: the serving peer that holds its feed has the post', async (t) => {
  const { dht, bootstrap } = await cliDht(t)
  const env = { SHOAL_BOOTSTRAP: bootstrap }
  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id as string
  await shoal(b, ['init', '--name', 'bob', '--json'], env)
  t.is((await shoal(b, ['follow', ida, '--json'], env)).code, 0)
  const first = await shoal(a, ['sync', '--timeout', '60', '--json'], env)
  t.is(first.code, 0, first.stderr)
  const servingA = spawnShoal(t, a, ['serve', '--json'], env)
  await servingA.ready
  t.is((await shoal(b, ['sync', '--timeout', '60', '--json'], env)).code, 0)
  t.is(await servingA.stop('SIGINT'), 0)

  const servingB = spawnShoal(t, b, ['serve', '--json'], env)
  await servingB.ready
  t.is((await shoal(a, ['post', 'one sync is enough', '--json'], env)).code, 0)
  const sync = await shoal(a, ['sync', '--timeout', '60', '--json'], env)
  t.is(sync.code, 0, sync.stderr)
  t.ok(sync.json.peers >= 1, 'found B')
  t.is(sync.json.uploaded, 1, 'the post was uploaded and counted')
  t.is(sync.json.blocks, 0)
  const status = await shoal(b, ['status', '--json'], env)
  const alice = status.json.identities.find((i: any) => i.id === ida)
  t.alike(alice?.feeds.map((f: any) => f.local), [4], 'B holds header, DM keys, name and the post right after A\'s one sync')
  t.is(await servingB.stop('SIGINT'), 0)
  await dht.stop('SIGTERM')
})
