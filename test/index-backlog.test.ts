import test from 'brittle'
import { unindexedReader } from './helpers/peers.js'
import { Shoal } from '../src/node/shoal.js'

test('index backlog – at most indexingFeeds tracked feeds are open while indexing, and every post is indexed', async (t) => {
  const { dir, texts, feeds } = await unindexedReader(t, 9, 3)
  const b = new Shoal(dir, { indexingFeeds: 2 })
  t.teardown(() => b.close(), { order: 1 })
  let most = 0
  let samples = 0
  b.on('indexed', () => {
    samples++
    most = Math.max(most, b.trackedCores().length)
  })
  await b.ready()
  await b.indexed()
  t.ok(samples >= feeds.length, `sampled at every indexed chunk (${samples})`)
  t.ok(most >= 1 && most <= 2, `at most 2 feeds open at once (saw ${most})`)
  t.is(b.trackedCores().length, 0, 'off the network, each feed is closed again once indexed')
  t.is(b.trackedFeeds.length, feeds.length, 'all still tracked')
  // Their posts and profiles, my profile and my follows.
  t.is(b.totals().messages, texts.length + feeds.length + 1 + feeds.length, 'every record counted')
  const timeline = await b.timeline({ limit: 100 })
  t.alike(timeline.items.map((i) => i.text).sort(), [...texts].sort(), 'every post is in the timeline')
  for (const w of feeds) await b.waitForIndexed(w.feedKey, w.feedLength) // closed and indexed: no open needed
  t.is(b.trackedCores().length, 0, 'waiting on an indexed closed feed does not open it')
})

test('index backlog – a clean close mid-backlog leaves the rest to the next open, which indexes them', async (t) => {
  const { dir, texts } = await unindexedReader(t, 4, 2)
  const first = new Shoal(dir, { indexingFeeds: 1 })
  await first.ready()
  await first.close() // at once: most feeds have not had their turn

  const b = new Shoal(dir, { indexingFeeds: 1 })
  t.teardown(() => b.close(), { order: 1 })
  await b.ready()
  await b.indexed()
  const timeline = await b.timeline({ limit: 100 })
  t.alike(timeline.items.map((i) => i.text).sort(), [...texts].sort(), 'every post is indexed after the second open')
})

test('index backlog – indexingFeeds must be a whole number of at least 1', async (t) => {
  const dir = await t.tmp()
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    t.exception(() => new Shoal(dir, { indexingFeeds: bad }), /INVALID_ARGUMENT/, `indexingFeeds ${bad}`)
  }
})
