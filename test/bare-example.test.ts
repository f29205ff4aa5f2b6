import test from 'brittle'
import fs from '#fs'
import path from '#path'
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
  t.alike(await notOwnerOnly(storage), [], 'every folder 0700 and file 0600 (also on Bare, which has no umask)')
})

/** Paths under `dir` that are not owner-only (folders 0700, files 0600). */
async function notOwnerOnly (dir: string): Promise<string[]> {
  const bad: string[] = []
  const st = await fs.lstat(dir)
  const mode = st.mode & 0o777
  if (st.isDirectory()) {
    if (mode !== 0o700) bad.push(`${dir} ${mode.toString(8)}`)
    for (const name of await fs.readdir(dir)) bad.push(...await notOwnerOnly(path.join(dir, name)))
  } else if (st.isFile() && mode !== 0o600) {
    bad.push(`${dir} ${mode.toString(8)}`)
  }
  return bad
}

test('bare example – no DHT chosen: USAGE, before anything is written', async (t) => {
  const storage = await t.tmp()
  await t.exception(runExample({ storage }), /USAGE/)
  await t.exception(runExample({ storage, bootstrap: 'not a host' }), /USAGE/)
  t.alike(await fs.readdir(storage), [], 'no identity or storage made')
})
