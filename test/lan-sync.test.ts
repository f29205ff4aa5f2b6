import test from 'brittle'
import path from 'node:path'
import { shoal, spawnShoal } from './helpers/cli.js'
import { createLan, namespaceSkip } from './helpers/netns.js'

const skip = namespaceSkip()
if (skip !== null) console.log(`# skipping LAN sync test: ${skip}`)
const lanTest = skip === null ? test : test.skip

lanTest('lan sync – two nodes in two namespaces, no DHT (SHOAL_BOOTSTRAP=none): B gets A\'s posts', async (t) => {
  t.timeout(120_000)
  const lan = createLan(t, 's')
  const env = { SHOAL_BOOTSTRAP: 'none' }
  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'], env)).json.id
  await shoal(b, ['init', '--name', 'bob', '--json'], env)
  await shoal(a, ['post', 'no internet needed', '--json'], env)
  await shoal(b, ['follow', ida, '--json'], env)

  const serving = spawnShoal(t, a, ['serve', '--json'], env, ['ip', 'netns', 'exec', lan.a])
  t.is(JSON.parse(await serving.ready).id, ida, 'A serves on the LAN')
  const sync = await shoal(b, ['sync', '--timeout', '60', '--json'], env, ['ip', 'netns', 'exec', lan.b])
  t.is(sync.code, 0, sync.stderr)
  t.ok(sync.json?.peers >= 1, 'found A by multicast DNS')
  const feed = await shoal(b, ['feed', '--json'], env)
  t.alike(feed.json.items.map((i: any) => [i.text, i.authorName]), [['no internet needed', 'alice']])
  t.is(await serving.stop('SIGTERM'), 0, 'serve exits cleanly on SIGTERM')
})
