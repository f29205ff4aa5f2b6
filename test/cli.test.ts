import test from 'brittle'
import path from 'node:path'
import fs from 'node:fs'
import { shoal } from './helpers/cli.js'
import { parseRef, refToString } from '../src/ids.js'

const Z32_ID = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/

test('cli – init, whoami, and a second init that fails with IDENTITY_EXISTS', async (t) => {
  const dir = path.join(await t.tmp(), 'store')
  const init = await shoal(dir, ['init', '--name', 'alice', '--json'])
  t.is(init.code, 0, init.stderr)
  t.alike(Object.keys(init.json).sort(), ['feed', 'id', 'phrase'])
  t.ok(Z32_ID.test(init.json.id))
  t.is(init.json.phrase.split(' ').length, 24)
  t.is((fs.statSync(path.join(dir, 'identity')).mode & 0o777), 0o600, 'seed readable by the owner only')

  const who = await shoal(dir, ['whoami', '--json'])
  t.alike(who.json, { id: init.json.id, name: 'alice', feeds: [init.json.feed] })

  const again = await shoal(dir, ['init', '--name', 'mallory', '--json'])
  t.is(again.code, 1)
  t.is(again.json.error.code, 'IDENTITY_EXISTS')
  t.ok(again.stderr.startsWith('error: IDENTITY_EXISTS: '))
  t.is((await shoal(dir, ['whoami', '--json'])).json.name, 'alice', 'nothing changed')

  const restored = path.join(await t.tmp(), 'restored')
  const r = await shoal(null, ['init', '--restore', init.json.phrase, '--storage', restored, '--json'])
  t.is(r.code, 0, r.stderr)
  t.is(r.json.id, init.json.id, 'same identity')
  t.not(r.json.feed, init.json.feed, 'a new device feed')
  t.absent(r.json.phrase, 'no phrase on restore')

  const bad = await shoal(path.join(await t.tmp(), 'x'), ['init', '--restore', 'one two three', '--json'])
  t.is(bad.code, 1)
  t.is(bad.json.error.code, 'INVALID_PHRASE')

  const none = await shoal(path.join(await t.tmp(), 'empty'), ['feed', '--json'])
  t.is(none.code, 1)
  t.is(none.json.error.code, 'NO_IDENTITY')
})

test('cli – post, reply, react, edit, delete, feed, thread, mentions, profile, reindex', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  const b = path.join(await t.tmp(), 'b')
  const ida = (await shoal(a, ['init', '--name', 'alice', '--json'])).json.id
  const idb = (await shoal(b, ['init', '--json'])).json.id

  const p1 = await shoal(a, ['post', 'hello world', '--json'])
  t.is(p1.code, 0, p1.stderr)
  t.alike(Object.keys(p1.json), ['id'])
  const p2 = (await shoal(a, ['post', 'careful', '--cw', 'spoilers', '--json'])).json.id
  const reply = (await shoal(a, ['post', `answer @${idb}`, '--reply', p1.json.id, '--json'])).json.id
  t.is((await shoal(a, ['react', p1.json.id, '👍', '--json'])).code, 0)
  t.is((await shoal(a, ['edit', p1.json.id, 'hello, world', '--json'])).code, 0)
  const gone = (await shoal(a, ['post', 'oops', '--json'])).json.id
  t.is((await shoal(a, ['delete', gone, '--json'])).code, 0)

  const feed = await shoal(a, ['feed', '--json'])
  t.is(feed.code, 0, feed.stderr)
  t.alike(feed.json.items.map((i: any) => i.id), [reply, p2, p1.json.id])
  const first = feed.json.items[2]
  for (const k of ['id', 'author', 'authorName', 'text', 'timestamp', 'root', 'parent', 'reactions', 'edited']) t.ok(k in first, `item has ${k}`)
  t.is(first.text, 'hello, world')
  t.is(first.edited, true)
  t.alike(first.reactions, { '👍': 1 })
  t.is(first.author, ida)
  t.is(first.authorName, 'alice')
  t.is(feed.json.items[1].cw, 'spoilers')
  t.is(feed.json.next, null)

  const page1 = await shoal(a, ['feed', '--limit', '2', '--json'])
  t.is(page1.json.items.length, 2)
  const page2 = await shoal(a, ['feed', '--limit', '2', '--before', page1.json.next, '--json'])
  t.alike(page2.json.items.map((i: any) => i.id), [p1.json.id])
  t.is((await shoal(a, ['feed', '--author', ida, '--json'])).json.items.length, 3)

  const thread = await shoal(a, ['thread', reply, '--json'])
  t.is(thread.json.root.id, p1.json.id)
  t.alike(thread.json.replies.map((r: any) => [r.id, r.parent]), [[reply, p1.json.id]])

  t.alike((await shoal(a, ['mentions', '--json'])).json, { items: [] }, 'I mention bob, not me')

  const prof = await shoal(a, ['profile', '--bio', 'hi there', '--json'])
  t.alike(prof.json, { id: ida, name: 'alice', bio: 'hi there', following: 0, followers: 0 })
  t.is((await shoal(a, ['follow', idb, '--json'])).code, 0)
  t.is((await shoal(a, ['profile', '--json'])).json.following, 1)
  t.is((await shoal(a, ['block', idb, '--json'])).code, 0)
  t.is((await shoal(a, ['unblock', idb, '--json'])).code, 0)
  t.is((await shoal(a, ['unfollow', idb, '--json'])).code, 0)
  t.is((await shoal(a, ['profile', idb, '--json'])).json.id, idb)

  const rx = await shoal(a, ['reindex', '--json'])
  t.is(rx.code, 0, rx.stderr)
  t.is(rx.json.messages, 13, 'name, 4 posts, reaction, edit, delete, bio, follow, block, unblock, unfollow')
  t.is(rx.json.skipped, 0)
  t.alike((await shoal(a, ['feed', '--json'])).json, feed.json, 'identical after reindex')

  const human = await shoal(a, ['feed'])
  t.ok(human.stdout.includes('hello, world') && human.stdout.includes('alice'), 'human-readable output')
})

test('cli – errors: usage errors exit 2, others 1, with a code on stderr and in JSON', async (t) => {
  const a = path.join(await t.tmp(), 'a')
  await shoal(a, ['init', '--json'])
  const cases: Array<[string[], number, string]> = [
    [['frobnicate', '--json'], 2, 'USAGE'],
    [['post', '--json'], 2, 'USAGE'],
    [['post', 'two', 'words', '--json'], 2, 'USAGE'],
    [['feed', '--bogus', '--json'], 2, 'USAGE'],
    [['feed', '--limit', 'lots', '--json'], 2, 'USAGE'],
    [['feed', '--limit', '0', '--json'], 2, 'USAGE'],
    [['thread', 'not-a-ref', '--json'], 2, 'INVALID_ID'],
    [['follow', 'yyyy', '--json'], 2, 'INVALID_ID'],
    [['feed', '--before', 'garbage', '--json'], 2, 'INVALID_ID'],
    [['react', 'ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1uwisza345h769yy', '👍', '--json'], 2, 'INVALID_ID']
  ]
  for (const [args, code, errCode] of cases) {
    const r = await shoal(a, args)
    t.is(r.code, code, `${args.join(' ')} exits ${code}`)
    t.is(r.json?.error?.code, errCode, `${args.join(' ')} → ${errCode}`)
    t.ok(r.stderr.startsWith(`error: ${errCode}: `), 'stderr names the code')
    t.is(r.stdout.trim().split('\n').length, 1, 'exactly one JSON document')
  }
  const own = (await shoal(a, ['post', 'mine', '--json'])).json.id
  const unknown = refToString({ feed: parseRef(own).feed, seq: 999 })
  const r = await shoal(a, ['edit', unknown, 'x', '--json'])
  t.is(r.code, 1, 'a well-formed ref to a message not held is not a usage error')
  t.is(r.json.error.code, 'UNKNOWN_MESSAGE')
  const help = await shoal(a, ['help'])
  t.is(help.code, 0)
  t.ok(help.stdout.includes('usage: shoal'))
})
