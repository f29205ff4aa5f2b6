import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { createLocalDht, createSwarmPeer, reopenSwarmPeer } from './helpers/swarm.js'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { Shoal } from '../src/node/shoal.js'

const RECEIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'dm-receiver.js')

async function occurrences (dir: string, needle: Uint8Array): Promise<number> {
  let n = 0
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    const buf = await fs.readFile(path.join(e.parentPath, e.name))
    for (let i = b4a.indexOf(buf, needle); i !== -1; i = b4a.indexOf(buf, needle, i + 1)) n++
  }
  return n
}

test('dm swarm – store-and-forward: A sends and goes offline, C serves the box, B reads it; C learns nothing', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  await a.follow(b.identity)
  await b.follow(a.identity)
  await a.sync({ timeout: 30_000 })
  const text = 'meet at the old boathouse at nine'
  const sent = await a.dm.send({ to: [b.identity], text })
  const block = await (a.core(a.feedKey) as any).get(sent.ref.seq) as Uint8Array

  const c = await createSwarmPeer(t, testnet, { name: 'carol' })
  await c.follow(a.identity)
  await c.sync({ timeout: 30_000 })
  await c.waitForIndexed(a.feedKey, sent.ref.seq + 1)
  await a.close()

  await b.sync({ timeout: 30_000 })
  await b.waitForIndexed(a.feedKey, sent.ref.seq + 1)
  const page = await b.dm.read(sent.conversation)
  t.alike(page.items.map((m) => m.text), [text], 'B reads it, served by C')

  t.is((await c.dm.conversations()).length, 0, 'C holds no conversation')
  t.ok(c.dm.stats.notForMe >= 1, 'C tried the box and it was not for C')
  for (const key of [b.identity, b.feedKey, a.identity]) t.is(b4a.indexOf(block, key), -1, 'no identity or feed key in the box')
  await c.close()
  t.is(await occurrences(c.paths.root, b4a.from(text)), 0, 'C\'s storage holds 0 occurrences of the plaintext')
})

test('dm swarm – a 16-identity conversation reaches all 15 others', async (t) => {
  const a = await createPeer(t, { name: 'p0' })
  const others: Shoal[] = []
  for (let i = 1; i < 16; i++) others.push(await createPeer(t, { name: `p${i}` }))
  for (const o of others) {
    replicate(a, o, t)
    await syncFeed(a, o)
    await syncFeed(o, a)
  }
  const sent = await a.dm.send({ to: others.map((o) => o.identity), text: 'all sixteen of us' })
  let got = 0
  for (const o of others) {
    await syncFeed(o, a)
    const conv = await o.dm.conversation(sent.conversation)
    if (conv?.participants.length === 16 && (await o.dm.read(sent.conversation)).items[0]?.text === 'all sixteen of us') got++
  }
  t.is(got, 15, 'every participant reads it')
})

test('dm swarm – kill -9 while receiving, then reopened: no DM lost or shown twice', async (t) => {
  const testnet = await createLocalDht(t)
  const bootstrap = `127.0.0.1:${testnet.bootstrap[0].port}`
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const dir = await t.tmp()
  const first = await Shoal.init(dir, { name: 'bob' })
  await first.shoal.follow(a.identity)
  await first.shoal.joinNetwork({ dht: testnet.createNode() })
  await a.follow(first.shoal.identity)
  await a.sync({ timeout: 30_000 })
  const bob = first.shoal.identity
  await first.shoal.close()
  // More DMs than one indexing chunk (512 records): the receiver prints a chunk's DMs at once, so
  // the kill at its first output lands before the last chunk whatever the machine's speed.
  const total = 600
  for (let i = 0; i < total; i++) await a.dm.send({ to: [bob], text: `dm ${i}` })

  const child = spawn(process.execPath, [RECEIVER, dir, bootstrap], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const seen = await new Promise<number>((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const n = buf.split('\n').filter((l) => l.startsWith('dm ')).length
      if (n >= 1) { child.kill('SIGKILL'); resolve(n) }
    })
    child.on('exit', () => reject(new Error('receiver exited before it was killed')))
  })
  await new Promise((resolve) => child.once('exit', resolve))
  t.ok(seen >= 1 && seen < total, `killed after ${seen} of ${total}`)

  const b = await reopenSwarmPeer(t, testnet, dir)
  await b.sync({ timeout: 30_000 })
  await b.waitForIndexed(a.feedKey, a.feedLength)
  const all = await b.dm.all()
  const texts = all.map((m) => m.text)
  t.is(texts.length, total, 'every DM stored')
  t.is(new Set(texts).size, total, 'none twice')
  const conv = (await b.dm.conversations())[0]
  t.is(conv.unread, total, 'unread counted once each')
})
