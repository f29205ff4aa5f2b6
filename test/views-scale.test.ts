import test from 'brittle'
import b4a from 'b4a'
import z32 from 'z32'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { shoal as cli } from './helpers/cli.js'
import { refToString, type MessageRef } from '../src/ids.js'
import { Shoal } from '../src/node/shoal.js'

test('views – thread pages: limit, then "more replies" with the cursor, until next is null', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const root = await a.post({ text: 'root' })
  const replies: MessageRef[] = []
  for (let i = 0; i < 23; i++) replies.push(await a.post({ text: `reply ${i}`, reply: i % 3 === 2 ? replies[i - 1] : root }))
  const whole = (await a.thread(root, { limit: 500 })).replies.map((r) => r.id)
  t.alike(whole, replies.map(refToString), 'one big page: every reply in order')

  const seen: string[] = []
  let before: string | null = null
  let pages = 0
  do {
    const page = await a.thread(replies[5], { limit: 10, before })
    t.is(page.root?.text, 'root', 'every page carries the root')
    t.ok(page.replies.length <= 10, 'at most limit replies')
    seen.push(...page.replies.map((r) => r.id))
    before = page.next
    pages++
  } while (before !== null && pages < 10)
  t.is(pages, 3, '23 replies in pages of 10: three pages')
  t.alike(seen, whole, 'the pages together are the whole thread, in order, no repeats')

  const exact = await a.thread(root, { limit: 23 })
  t.is(exact.next, null, 'a page that holds the rest has no next')
  t.is((await a.thread(root)).replies.length, 23, 'default page (50) holds a short thread')
})

test('views – thread pages: bad limits and cursors are coded errors', async (t) => {
  const a = await createPeer(t)
  const root = await a.post({ text: 'root' })
  await a.post({ text: 'r', reply: root })
  for (const limit of [0, -1, 501, 1.5, Number.NaN]) {
    await t.exception(a.thread(root, { limit }), /INVALID_ARGUMENT/, `limit ${limit}`)
  }
  const tooShort = z32.encode(b4a.alloc(47))
  const notCanonical = z32.encode(b4a.alloc(48)).slice(0, -1) + 'x'
  for (const before of ['not a cursor!', tooShort, notCanonical, 'y'.repeat(10_000)]) {
    await t.exception(a.thread(root, { before }), /INVALID_ID/, `cursor ${before.slice(0, 20)}`)
  }
  // A well-formed cursor past the end: an empty page, not an unknown thread.
  const past = z32.encode(b4a.alloc(48, 0xff))
  const page = await a.thread(root, { before: past })
  t.alike([page.replies.length, page.next], [0, null], 'a cursor past the last reply: empty last page')
})

test('views – thread pages: blocked repliers are left out without losing the cursor', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const m = await createPeer(t, { name: 'mallory' })
  replicate(a, m, t)
  const root = await a.post({ text: 'root' })
  await syncFeed(m, a)
  for (let i = 0; i < 6; i++) await m.post({ text: `m${i}`, reply: root })
  await syncFeed(a, m)
  for (let i = 0; i < 3; i++) await a.post({ text: `a${i}`, reply: root })
  t.is((await a.thread(root, { limit: 500 })).replies.length, 9)
  await a.block(m.identity)
  const texts: string[] = []
  let before: string | null = null
  for (let i = 0; i < 10; i++) {
    const page = await a.thread(root, { limit: 2, before })
    texts.push(...page.replies.map((r) => r.text))
    before = page.next
    if (before === null) break
  }
  t.alike(texts, ['a0', 'a1', 'a2'], 'only the unblocked replies, all of them')
})

test('cli – thread --limit/--before pages a thread; bad values are usage errors', async (t) => {
  const dir = await t.tmp()
  const { shoal: node } = await Shoal.init(dir, { name: 'alice' })
  const root = await node.post({ text: 'root' })
  for (let i = 0; i < 5; i++) await node.post({ text: `reply ${i}`, reply: root })
  await node.close()
  const id = refToString(root)
  const first = await cli(dir, ['thread', id, '--limit', '3', '--json'])
  t.is(first.code, 0, first.stderr)
  t.alike(first.json.replies.map((r: any) => r.text), ['reply 0', 'reply 1', 'reply 2'])
  t.ok(typeof first.json.next === 'string')
  const text = await cli(dir, ['thread', id, '--limit', '3'])
  t.ok(text.stdout.includes(`more replies: shoal thread ${id} --before ${first.json.next as string}`), 'text output says how to go on')
  const second = await cli(dir, ['thread', id, '--limit', '3', '--before', first.json.next, '--json'])
  t.alike(second.json.replies.map((r: any) => r.text), ['reply 3', 'reply 4'])
  t.is(second.json.next, null)
  const bad = await cli(dir, ['thread', id, '--limit', 'lots', '--json'])
  t.is(bad.code, 2)
  t.is(bad.json.error.code, 'USAGE')
  const badCursor = await cli(dir, ['thread', id, '--before', 'zzz', '--json'])
  t.is(badCursor.json.error.code, 'INVALID_ID')
})
