import test from 'brittle'
import { createPeer, openPeer, replicate, syncFeed } from './helpers/peers.js'
import { refToString } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'

const MINUTE = 60_000

/** A clock the test moves by hand, an hour in the past (so no receiver clamps it). */
function handClock (): { now: () => number, set: (ms: number) => void, base: number } {
  const base = Date.now() - 60 * MINUTE
  let at = base
  return { now: () => at, set: (ms) => { at = base + ms }, base }
}

test('views – order: a profile set with the clock 60 s ahead, then fixed, shows the later name (author and follower)', async (t) => {
  const clock = handClock()
  const a = await createPeer(t, { now: clock.now })
  const b = await createPeer(t)
  replicate(a, b, t)
  await b.follow(a.identity)
  clock.set(0)
  await a.setProfile({ name: 'early', bio: 'bio early' })
  clock.set(60_000)
  await a.setProfile({ name: 'ahead' })
  clock.set(1_000)
  await a.setProfile({ name: 'fixed', bio: 'bio fixed' })
  await syncFeed(b, a)
  for (const [who, node] of [['author', a], ['follower', b]] as const) {
    const p = await node.profile(a.identity)
    t.is(p.name, 'fixed', `${who}: the later record wins`)
    t.is(p.bio, 'bio fixed', `${who}: bio too`)
  }
  const before = await b.profile(a.identity)
  await b.reindex()
  t.alike(await b.profile(a.identity), before, 'reindex agrees')
})

test('views – order: within one feed the later follow/unfollow, block/unblock, reaction and edit win whatever the clock', async (t) => {
  const clock = handClock()
  const a = await createPeer(t, { now: clock.now })
  const c = await createPeer(t, { name: 'carol' })
  const d = keyPairFromSeed(createSeed()).publicKey
  const b = await createPeer(t)
  replicate(a, b, t)
  replicate(c, b, t)
  clock.set(0)
  const p = await a.post({ text: 'v0' })
  clock.set(10 * MINUTE)
  await a.follow(c.identity)
  await a.block(d)
  await a.react(p, '👍')
  await a.edit(p, 'v1 (clock ahead)')
  clock.set(MINUTE)
  await a.unfollow(c.identity)
  await a.unblock(d)
  await a.react(p, '👍', { remove: true })
  await a.edit(p, 'v2 (clock fixed)')
  await b.follow(a.identity)
  await syncFeed(b, a)
  for (const [who, node] of [['author', a], ['follower', b]] as const) {
    t.alike(await node.views.following(a.identity), [], `${who}: the later unfollow wins`)
    t.alike(await node.views.blocking(a.identity), [], `${who}: the later unblock wins`)
    const [item] = (await node.timeline({ author: a.identity })).items
    t.alike(item.reactions, {}, `${who}: the later reaction removal wins`)
    t.is(item.text, 'v2 (clock fixed)', `${who}: the later edit wins`)
  }
  t.is((await b.profile(c.identity)).followers, 0, 'carol has no follower')
})

test('views – order: between feeds, timestamps decide (two devices of one identity)', async (t) => {
  const laptopClock = handClock()
  const phoneClock = handClock()
  const dir = await t.tmp()
  const first = await Shoal.init(dir, { now: laptopClock.now })
  const laptop = first.shoal
  t.teardown(() => laptop.close(), { order: 1 })
  const phone = await createPeer(t, { restore: first.phrase as string, now: phoneClock.now })
  const b = await createPeer(t)
  replicate(laptop, b, t)
  replicate(phone, b, t)
  laptopClock.set(20_000)
  await laptop.setProfile({ name: 'from the laptop, later' })
  phoneClock.set(10_000)
  await phone.setProfile({ name: 'from the phone, earlier' })
  await syncFeed(b, phone)
  await syncFeed(b, laptop)
  t.is((await b.profile(laptop.identity)).name, 'from the laptop, later', 'the record with the later timestamp wins across feeds')
})

test('views – order: a message clamped when it claimed the future keeps that time in a rebuild made once the future has passed', async (t) => {
  // Found by the random block history (seed 39): my phone's unblock, dated ahead of my laptop's
  // clock, was clamped to when the laptop received it and lost to a later block; a reindex made
  // after that date had passed no longer saw it as "future", took its own date, and the unblock won.
  const laptopClock = handClock()
  const phoneClock = handClock()
  const dir = await t.tmp()
  const first = await Shoal.init(dir, { name: 'start', now: laptopClock.now })
  const laptop = first.shoal
  t.teardown(() => laptop.close(), { order: 1 })
  const phone = await createPeer(t, { restore: first.phrase as string, now: phoneClock.now })
  const x = await createPeer(t, { name: 'xavier' })
  replicate(laptop, phone, t)
  replicate(laptop, x, t)
  await laptop.follow(x.identity)
  await x.post({ text: 'x speaks' })
  await syncFeed(laptop, x)

  laptopClock.set(3_000)
  phoneClock.set(5_000)
  await phone.setProfile({ name: 'from the phone, dated ahead' })
  await phone.unblock(x.identity)
  await syncFeed(laptop, phone) // received at 3 s: both clamped to 3 s
  laptopClock.set(4_000)
  await laptop.setProfile({ name: 'from the laptop at 4 s' })
  await laptop.block(x.identity)
  const snapshot = async (): Promise<unknown> => ({
    name: (await laptop.profile(laptop.identity)).name,
    blocking: (await laptop.views.blocking(laptop.identity)).length,
    xs: (await laptop.timeline({ author: x.identity })).items.length
  })
  const incremental = await snapshot()
  t.alike(incremental, { name: 'from the laptop at 4 s', blocking: 1, xs: 0 }, 'the laptop\'s records at 4 s win over the phone\'s clamped to 3 s')

  laptopClock.set(60_000) // the phone's 5 s is no longer ahead of the laptop's clock
  await laptop.reindex()
  t.alike(await snapshot(), incremental, 'a reindex after that time agrees: the phone\'s records keep their clamped time')
  await laptop.close()
  const reopened = await openPeer(t, dir, { now: () => laptopClock.base + 120_000 })
  await reopened.reindex()
  t.is((await reopened.profile(reopened.identity)).name, 'from the laptop at 4 s', 'and after a restart (the feed\'s receipts are looked up again)')
})

test('views – order: a thread lists every reply after its parent, whatever the clocks', async (t) => {
  const aClock = handClock()
  const bClock = handClock()
  const a = await createPeer(t, { name: 'alice', now: aClock.now })
  const b = await createPeer(t, { name: 'bob', now: bClock.now })
  replicate(a, b, t)
  aClock.set(0)
  const root = await a.post({ text: 'root' })
  aClock.set(5 * MINUTE)
  const r1 = await a.post({ text: 'alice replies', reply: root })
  await syncFeed(b, a)
  // Bob's clock is 10 minutes behind.
  bClock.set(5 * MINUTE + 1_000 - 10 * MINUTE)
  const r2 = await b.post({ text: 'bob answers alice', reply: r1 })
  bClock.set(5 * MINUTE + 2_000 - 10 * MINUTE)
  const r3 = await b.post({ text: 'bob answers himself', reply: r2 })
  aClock.set(6 * MINUTE)
  const r4 = await a.post({ text: 'alice again', reply: root })
  await syncFeed(a, b)
  await syncFeed(b, a)
  const th = await a.thread(root)
  t.alike(th.replies.map((r) => r.id), [r1, r2, r3, r4].map(refToString), 'alice: each reply after the one it answers')
  // Bob's own clock also clamps alice's "future" replies, so only the parent rule is fixed there.
  const ids = (await b.thread(root)).replies.map((r) => r.id)
  t.alike([...ids].sort(), [r1, r2, r3, r4].map(refToString).sort(), 'bob: every reply listed')
  t.ok(ids.indexOf(refToString(r1)) < ids.indexOf(refToString(r2)), 'bob: his answer after alice\'s reply')
  t.ok(ids.indexOf(refToString(r2)) < ids.indexOf(refToString(r3)), 'bob: his second answer after his first')
})
