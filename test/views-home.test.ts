import test from 'brittle'
import type { Test } from 'brittle'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { Rng, seedFrom } from './helpers/rng.js'
import { identityToString, refToString, type IdentityKey, type MessageRef } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'
import type { Item } from '../src/views/types.js'

const SEED = seedFrom('SHOAL_VIEWS_SEED')

/** One clock for every node of a test: timestamps are distinct, so the home order is their order. */
function sharedClock (): () => number {
  let at = 1_700_000_000_000
  return () => at++
}

/** The whole home timeline walked in pages of `limit`; fails unless every page but the last is full. */
async function walkHome (t: Test, node: Shoal, limit: number): Promise<Item[]> {
  const out: Item[] = []
  let before: string | null = null
  for (let pages = 0; pages < 1000; pages++) {
    const page = await node.timeline({ limit, before })
    out.push(...page.items)
    if (page.next === null) return out
    if (page.items.length !== limit) t.fail(`a page of ${page.items.length} items before the end (limit ${limit}): a stale home row`)
    before = page.next
  }
  t.fail('the home timeline never ended')
  return out
}

/** What the home timeline must hold: every post of me and of whom I follow, not blocked, newest first. */
async function expectedHome (node: Shoal): Promise<string[]> {
  const blocked = new Set((await node.views.blocking(node.identity)).map(identityToString))
  const authors: IdentityKey[] = [node.identity, ...await node.views.following(node.identity)]
  const all: Item[] = []
  for (const a of authors) {
    if (blocked.has(identityToString(a))) continue
    let before: string | null = null
    do {
      const page = await node.timeline({ author: a, limit: 500, before })
      all.push(...page.items)
      before = page.next
    } while (before !== null)
  }
  return all.sort((x, y) => y.timestamp - x.timestamp).map((i) => i.id)
}

test('views – home index: a follow adds every post the author has here (past one chunk), an unfollow removes them all', async (t) => {
  const now = sharedClock()
  const a = await createPeer(t, { name: 'alice', now })
  const x = await createPeer(t, { name: 'xavier', now })
  const b = await createPeer(t, { name: 'bob', now })
  replicate(a, b, t)
  replicate(x, b, t)
  const alice: string[] = []
  for (let i = 0; i < 3; i++) alice.push(refToString(await a.post({ text: `alice ${i}` })))
  const xs: string[] = []
  for (let i = 0; i < 530; i++) xs.push(refToString(await x.post({ text: `x ${i}` })))
  await b.follow(a.identity)
  await syncFeed(b, a)
  await syncFeed(b, x)
  t.alike((await walkHome(t, b, 2)).map((i) => i.id), [...alice].reverse(), 'held but not followed: none of xavier\'s posts')

  await b.follow(x.identity)
  const home = (await walkHome(t, b, 100)).map((i) => i.id)
  t.is(home.length, 533, 'after the follow: all 530 of xavier\'s posts and alice\'s 3')
  t.alike(home.filter((id) => xs.includes(id)), [...xs].reverse(), 'xavier\'s posts newest first, each once')
  t.alike(home, await expectedHome(b), 'the order of the author indexes merged')

  await b.unfollow(x.identity)
  t.alike((await walkHome(t, b, 2)).map((i) => i.id), [...alice].reverse(), 'after the unfollow: pages of 2 are full and hold alice only')
  await b.follow(x.identity)
  t.is((await walkHome(t, b, 500)).length, 533, 'following again brings them back')
})

test('views – home index: posts after my follow go in; an edit shows; a deletion takes its row (a page of 1 is never empty)', async (t) => {
  const now = sharedClock()
  const x = await createPeer(t, { name: 'xavier', now })
  const b = await createPeer(t, { name: 'bob', now })
  replicate(x, b, t)
  await b.follow(x.identity)
  const mine = await b.post({ text: 'mine' })
  const posts: MessageRef[] = []
  for (let i = 0; i < 5; i++) posts.push(await x.post({ text: `x ${i}` }))
  await x.edit(posts[3], 'x 3 edited')
  await syncFeed(b, x)
  t.alike((await walkHome(t, b, 2)).map((i) => i.text), ['x 4', 'x 3 edited', 'x 2', 'x 1', 'x 0', 'mine'], 'posts that arrive after the follow, edited text shown')

  await x.delete(posts[4])
  await syncFeed(b, x)
  t.alike((await b.timeline({ limit: 1 })).items.map((i) => i.text), ['x 3 edited'], 'the newest post deleted: the page of 1 holds the next one')
  await b.delete(mine)
  t.is((await b.timeline({ limit: 4 })).next, null, 'my own deleted post leaves no row after the four left')
  t.alike((await walkHome(t, b, 1)).map((i) => i.text), ['x 3 edited', 'x 2', 'x 1', 'x 0'])
  await b.reindex()
  t.alike((await walkHome(t, b, 1)).map((i) => i.text), ['x 3 edited', 'x 2', 'x 1', 'x 0'], 'reindex: the same home')
})

test('views – home index: block and unblock of a followed author, follows from my other device, reindex', async (t) => {
  const now = sharedClock()
  const { shoal: laptop, phrase } = await Shoal.init(await t.tmp(), { name: 'bob', now })
  t.teardown(() => laptop.close(), { order: 1 })
  const phone = await createPeer(t, { restore: phrase as string, now })
  const x = await createPeer(t, { name: 'xavier', now })
  const c = await createPeer(t, { name: 'carol', now })
  for (const [p, q] of [[laptop, phone], [laptop, x], [laptop, c], [phone, x]] as const) replicate(p, q, t)
  for (let i = 0; i < 3; i++) await x.post({ text: `x ${i}` })
  for (let i = 0; i < 3; i++) await c.post({ text: `c ${i}` })
  await syncFeed(laptop, x)
  await syncFeed(laptop, c)
  await laptop.follow(c.identity)
  await phone.follow(x.identity)
  await syncFeed(laptop, phone)
  const texts = async (): Promise<string[]> => (await walkHome(t, laptop, 2)).map((i) => i.text)
  t.alike(await texts(), ['c 2', 'c 1', 'c 0', 'x 2', 'x 1', 'x 0'], 'a follow from my other device puts xavier in my home')

  await laptop.block(x.identity)
  t.alike(await texts(), ['c 2', 'c 1', 'c 0'], 'blocked: gone, and pages stay full')
  await laptop.unblock(x.identity)
  t.alike(await texts(), ['c 2', 'c 1', 'c 0', 'x 2', 'x 1', 'x 0'], 'unblocked and still followed: back')
  await x.post({ text: 'x 3' })
  await syncFeed(laptop, x)
  t.is((await laptop.timeline({ limit: 1 })).items[0].text, 'x 3', 'a new post of a followed author after an unblock')

  await phone.unfollow(x.identity)
  await syncFeed(laptop, phone)
  t.alike(await texts(), ['c 2', 'c 1', 'c 0'], 'an unfollow from my other device takes them out')
  await laptop.block(c.identity)
  await laptop.unfollow(c.identity)
  await laptop.unblock(c.identity)
  t.alike(await texts(), [], 'unblocked but no longer followed: not in my home')
  const before = await laptop.timeline()
  await laptop.reindex()
  t.alike(await laptop.timeline(), before, 'reindex gives the same home')
})

test(`views – home index: random follow/unfollow/block/unblock/post/delete histories (two of my devices) match the author indexes; reindex agrees (SHOAL_VIEWS_SEED=${SEED})`, async (t) => {
  const rng = new Rng(SEED)
  const now = sharedClock()
  const { shoal: laptop, phrase } = await Shoal.init(await t.tmp(), { name: 'bob', now })
  t.teardown(() => laptop.close(), { order: 1 })
  const phone = await createPeer(t, { restore: phrase as string, now })
  const others = [await createPeer(t, { name: 'x', now }), await createPeer(t, { name: 'y', now }), await createPeer(t, { name: 'z', now })]
  const mine = [laptop, phone]
  for (const p of [...mine, ...others]) if (p !== laptop) replicate(laptop, p, t)
  for (const o of others) replicate(phone, o, t)
  const posts = new Map<Shoal, MessageRef[]>([...mine, ...others].map((p) => [p, []]))
  for (let step = 0; step < 60; step++) {
    const me = rng.pick(mine)
    const o = rng.pick(others)
    switch (rng.int(8)) {
      case 0: case 1: { const p = rng.pick([...mine, ...others]); posts.get(p)?.push(await p.post({ text: `${step}` })); break }
      case 2: { const p = rng.pick([...mine, ...others]); const list = posts.get(p) as MessageRef[]; if (list.length > 0) await p.delete(list.splice(rng.int(list.length), 1)[0]); break }
      case 3: await me.follow(o.identity).catch(blockedError); break
      case 4: await me.unfollow(o.identity); break
      case 5: await me.block(o.identity); break
      case 6: await me.unblock(o.identity); break
      case 7: await syncFeed(laptop, rng.pick([phone, ...others])); break
    }
  }
  for (const p of [phone, ...others]) await syncFeed(laptop, p)
  await laptop.indexed()
  const expected = await expectedHome(laptop)
  t.alike((await walkHome(t, laptop, 3)).map((i) => i.id), expected, 'pages of 3: the author indexes of me and my follows, merged')
  const incremental = await laptop.timeline({ limit: 500 })
  await laptop.reindex()
  t.alike(await laptop.timeline({ limit: 500 }), incremental, 'reindex gives what incremental indexing gave')
})

function blockedError (err: { code?: string }): void {
  if (err.code !== 'BLOCKED') throw err
}
