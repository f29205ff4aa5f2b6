import test from 'brittle'
import fs from '#fs'
import { runExample } from '../examples/bare/embed.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'

// In the Bare suite (npm run test:bare) this runs the embedding example under Bare itself.
test('bare example – init, post, follow, sync over a local DHT, read the timeline; reopen works', async (t) => {
  const testnet = await createLocalDht(t)
  const alice = await createSwarmPeer(t, testnet, { name: 'alice' })
  await alice.post({ text: 'hello from alice' })
  const aliceId = (await alice.whoami()).id
  const storage = await t.tmp()

  const first = await runExample({ storage, dht: testnet.createNode(), name: 'bob', post: 'hello from bob', follow: [aliceId] })
  t.is(first.synced.peers, 1, 'met alice')
  t.alike(first.timeline.map((i) => i.text).sort(), ['hello from alice', 'hello from bob'])
  t.is(first.timeline.find((i) => i.author === aliceId)?.authorName, 'alice')

  await alice.post({ text: 'alice again' })
  const second = await runExample({ storage, dht: testnet.createNode() })
  t.is(second.id, first.id, 'the same identity on reopen')
  t.is(second.posted, null)
  t.is(second.timeline[0]?.text, 'alice again', 'the new post arrived, newest first')
})

test('bare example – no DHT chosen: USAGE, before anything is written', async (t) => {
  const storage = await t.tmp()
  await t.exception(runExample({ storage }), /USAGE/)
  await t.exception(runExample({ storage, bootstrap: 'not a host' }), /USAGE/)
  t.alike(await fs.readdir(storage), [], 'no identity or storage made')
})
