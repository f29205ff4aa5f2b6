import test from 'brittle'
import b4a from 'b4a'
import fs from 'node:fs'
import path from 'node:path'
import { debugLogger } from '../src/cli/debug-log.js'
import { storagePaths } from '../src/node/storage.js'
import { ROLE } from '../src/groups/index.js'
import { untilMessage } from './helpers/peers.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { call, createApiNode } from './helpers/api.js'
import { cliDht, shoal, spawnShoal } from './helpers/cli.js'
import { snapshotTree } from './helpers/files.js'

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/

test('input – a command aimed at myself, a blank or over-cap field, a bad cursor or code: refused before the storage opens', async (t) => {
  const dir = path.join(await t.tmp(), 'store')
  const blankName = await shoal(dir, ['init', '--name', '   ', '--json'])
  t.is(blankName.json?.error?.code, 'INVALID_ARGUMENT', 'a blank name')
  t.absent(fs.existsSync(dir), 'no identity written')
  const init = await shoal(dir, ['init', '--json'])
  t.is(init.code, 0, init.stderr)
  const me = init.json.id as string
  const post = (await shoal(dir, ['post', 'hello', '--json'])).json.id as string
  const other = (await shoal(path.join(await t.tmp(), 'other'), ['init', '--json'])).json.id as string
  const room = 'y'.repeat(52) // well formed; the text is refused before the room is looked up
  const sixteen = Array.from({ length: 16 }, (_, i) => 'y'.repeat(50) + 'ybndrfg8ejkmcpqx'[i] + 'y').join(',') // and me: 17

  const before = snapshotTree(dir)
  const cases: Array<[string[], string]> = [
    [['follow', me], 'INVALID_ARGUMENT'],
    [['unfollow', me], 'INVALID_ARGUMENT'],
    [['block', me], 'INVALID_ARGUMENT'],
    [['unblock', me], 'INVALID_ARGUMENT'],
    [['profile', other, '--name', 'x'], 'USAGE'],
    [['profile', '--name', ' \t '], 'INVALID_ARGUMENT'],
    [['post', 'x', '--cw', '   '], 'INVALID_ARGUMENT'],
    [['react', post, ' '], 'INVALID_ARGUMENT'],
    [['thread', post, '--before', 'junk'], 'INVALID_ID'],
    [['dm', 'send', me, 'hi'], 'INVALID_ARGUMENT'],
    [['dm', 'send', `${me},${me}`, 'hi'], 'INVALID_ARGUMENT'],
    [['dm', 'send', other, ''], 'INVALID_ARGUMENT'],
    [['dm', 'send', other, ' \n '], 'INVALID_ARGUMENT'],
    [['dm', 'send', other, 'ж'.repeat(2049)], 'MESSAGE_TOO_LARGE'], // 4,098 bytes, cap 4,096
    [['dm', 'send', sixteen, 'hi'], 'DM_TOO_MANY_RECIPIENTS'],
    [['room', 'create', ''], 'INVALID_ARGUMENT'],
    [['room', 'create', '   '], 'INVALID_ARGUMENT'],
    [['room', 'create', 'ж'.repeat(65)], 'MESSAGE_TOO_LARGE'], // 130 bytes, cap 128
    [['room', 'join', 'not-a-code'], 'INVITE_INVALID'],
    [['room', 'post', room, '  '], 'INVALID_ARGUMENT'],
    [['room', 'post', room, 'x'.repeat(4097)], 'MESSAGE_TOO_LARGE'],
    [['room', 'react', room, 'y'.repeat(63) + 'b', '👩‍👩‍👧‍👦👩‍👩‍👧‍👦'], 'MESSAGE_TOO_LARGE'],
    [['room', 'invite', room, '--expires', '0m'], 'USAGE'], // an invite expired at once
    [['room', 'invite', room, '--expires', '99999999999d'], 'USAGE'], // past any timestamp
    [['--storage', '', 'whoami'], 'USAGE']
  ]
  for (const [args, code] of cases) {
    const r = await shoal(dir, [...args, '--json'])
    t.is(r.json?.error?.code, code, args.join(' ').slice(0, 70))
    t.alike(snapshotTree(dir), before, `${args.slice(0, 2).join(' ')}: storage unchanged`)
  }
})

test('input – a storage path through a file is STORAGE_ERROR for init and serve, and creates nothing', async (t) => {
  const { bootstrap } = await cliDht(t)
  const base = await t.tmp()
  const file = path.join(base, 'a-file')
  fs.writeFileSync(file, 'x')
  for (const dir of [file, path.join(file, 'sub')]) {
    for (const args of [['init', '--json'], ['serve', '--port', '0', '--json']]) {
      const r = await shoal(dir, args, { SHOAL_BOOTSTRAP: bootstrap })
      t.is(r.json?.error?.code, 'STORAGE_ERROR', `${args[0]} ${dir}`)
      t.ok(/is not a folder/.test(r.json?.error?.message), r.json?.error?.message)
    }
  }
  t.alike(fs.readdirSync(base), ['a-file'], 'nothing created')
  t.is(fs.readFileSync(file, 'utf8'), 'x')
})

test('input – a storage folder that is a symbolic link works, and a node served through one path is reached through the other', async (t) => {
  const { bootstrap } = await cliDht(t)
  const env = { SHOAL_BOOTSTRAP: bootstrap }
  const base = await t.tmp()
  const long = path.join(base, 'ü n'.repeat(40)) // spaces and unicode, over 100 bytes: a socket outside
  const link = path.join(base, 'link')
  t.ok(b4a.byteLength(long) > 100)
  const id = (await shoal(long, ['init', '--json'], env)).json.id
  fs.symlinkSync(long, link)
  t.is((await shoal(link, ['whoami', '--json'], env)).json?.id, id, 'a linked storage folder opens')

  const serving = spawnShoal(t, long, ['serve', '--port', '0', '--json'], env)
  t.is(JSON.parse(await serving.ready).id, id)
  const viaLink = await shoal(link, ['post', 'through the link', '--json'], env)
  t.is(viaLink.code, 0, viaLink.stderr)
  t.is(await serving.stop('SIGINT'), 0)
  t.absent(fs.existsSync(storagePaths(long).socket), 'socket removed')

  const again = spawnShoal(t, link, ['serve', '--port', '0', '--json'], env)
  t.is(JSON.parse(await again.ready).id, id)
  const viaLong = await shoal(long, ['post', 'through the long path', '--json'], env)
  t.is(viaLong.code, 0, viaLong.stderr)
  t.is(await again.stop('SIGINT'), 0)
  const feed = await shoal(long, ['feed', '--json'], env)
  t.alike(feed.json.items.map((i: { text: string }) => i.text), ['through the long path', 'through the link'])
})

test('input – API: wrong types, blank text and moderation that apply would skip are refused and write nothing', async (t) => {
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice' })
  const shoal = app.need()
  const post = (await call(api, 'post', { text: 'hello' })).result.id as string
  const length = shoal.feedLength
  const feedCases: Array<[string, Record<string, unknown>, string]> = [
    ['react', { id: post, emoji: '👍', remove: 'yes' }, 'BAD_REQUEST'],
    ['react', { id: post, emoji: ' ' }, 'INVALID_ARGUMENT'],
    ['post', { text: 'x', cw: ' ' }, 'INVALID_ARGUMENT'],
    ['post', { text: 'x', reply: '' }, 'INVALID_ID'],
    ['timeline', { author: '' }, 'INVALID_ID'],
    ['setProfile', { name: '  ' }, 'INVALID_ARGUMENT'],
    ['dmSafety', { id: shoal.id, confirm: 1 }, 'BAD_REQUEST']
  ]
  for (const [method, params, code] of feedCases) {
    t.is((await call(api, method, params)).error?.code, code, `${method} ${JSON.stringify(params).slice(0, 50)}`)
  }
  t.is(shoal.feedLength, length, 'my feed: nothing written')

  const room = (await call(api, 'roomCreate', { name: 'r' })).result.id as string
  const base = shoal.rooms.room(room).base
  await base.update()
  const writes = base.local.length
  const unknown = 'y'.repeat(63) + 'b' // a well-formed room message id of no message
  const roomCases: Array<[string, Record<string, unknown>, string]> = [
    ['roomCreate', { name: ' ' }, 'INVALID_ARGUMENT'],
    ['roomPost', { room, text: '' }, 'INVALID_ARGUMENT'],
    ['roomPost', { room, text: '\n ' }, 'INVALID_ARGUMENT'],
    ['roomPost', { room, text: '\ud800' }, 'INVALID_MESSAGE'],
    ['roomEdit', { room, id: unknown, text: 'x' }, 'UNKNOWN_MESSAGE'],
    ['roomDelete', { room, id: unknown }, 'UNKNOWN_MESSAGE'],
    ['roomReact', { room, id: unknown, emoji: '👍' }, 'UNKNOWN_MESSAGE'],
    ['roomReact', { room, id: unknown, emoji: '👍', remove: 'no' }, 'BAD_REQUEST'],
    ['roomSetRole', { room, member: shoal.id, role: 'member' }, 'LAST_ADMIN'],
    ['roomRemove', { room, member: shoal.id }, 'LAST_ADMIN'],
    ['roomMute', { room, member: shoal.id }, 'NOT_PERMITTED'],
    ['roomMute', { room, member: shoal.id, muted: 'yes' }, 'BAD_REQUEST']
  ]
  for (const [method, params, code] of roomCases) {
    t.is((await call(api, method, params)).error?.code, code, `${method} ${JSON.stringify(params).slice(0, 50)}`)
  }
  await base.update()
  t.is(base.local.length, writes, 'the room: no op appended')
  t.is((await call(api, 'roomSetRole', { room, member: shoal.id, role: 'admin' })).error, undefined, 'a role it has already: done, with nothing to write')
  t.is(base.local.length, writes)
  const msg = (await call(api, 'roomPost', { room, text: 'hi' })).result.id as string
  await base.update()
  const posted = base.local.length
  t.is((await call(api, 'roomReact', { room, id: msg, emoji: '👍', remove: true })).error?.code, 'NOT_REACTED', 'no reaction to remove')
  t.is((await call(api, 'roomReact', { room, id: msg, emoji: '👍' })).error, undefined)
  await base.update()
  t.is(base.local.length, posted + 1, 'one reaction op')
  t.is((await call(api, 'roomReact', { room, id: msg, emoji: '👍' })).error, undefined, 'reacting twice: done, with nothing to write')
  await base.update()
  t.is(base.local.length, posted + 1)
  const members = (await call(api, 'roomMembers', { room })).result.items
  t.alike(members.map((m: { role: string }) => m.role), ['admin'], 'still the admin')
})

test('input – a room member\'s invite, role change, removal, mute and edit of another\'s message are refused and append nothing', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  const { id } = await a.rooms.create('friends')
  await a.rooms.announced()
  const { code } = await a.rooms.invite(id, {})
  await b.rooms.join(code, { timeout: 60_000 })
  const mine = await a.rooms.post(id, 'from alice')
  const base = b.rooms.room(id).base
  await untilMessage(b, id, (m) => m.id === mine.id)
  const writes = base.local.length
  await t.exception(b.rooms.invite(id, {}), /NOT_PERMITTED/, 'a member makes no invite code')
  await t.exception(b.rooms.setRole(id, a.id, ROLE.member), /NOT_PERMITTED/, 'nor changes roles')
  await t.exception(b.rooms.remove(id, a.id), /NOT_PERMITTED/, 'nor removes anyone')
  await t.exception(b.rooms.mute(id, a.id), /NOT_PERMITTED/, 'nor mutes')
  await t.exception(b.rooms.edit(id, mine.id, 'bob was here'), /NOT_OWN_MESSAGE/, 'nor edits another\'s message')
  await t.exception(b.rooms.delete(id, mine.id), /NOT_OWN_MESSAGE/, 'nor deletes it')
  t.is(base.local.length, writes, 'nothing appended')
})

test('input – SHOAL_DEBUG lines escape what a peer sent', async (t) => {
  const lines: string[] = []
  const log = debugLogger((l) => lines.push(l))
  log(`drop ${JSON.stringify({ reason: 'rejected', detail: 'name \u009b31m\u202eevil\u2066' })}`)
  log('rejected an entry from ab: bad\u001b[2J\r\nline')
  t.is(lines.length, 2)
  for (const l of lines) t.absent(RAW.test(l.slice(0, -1)), l)
  t.ok(lines[0].includes('\\u202eevil'), 'shown escaped')
  t.is(lines[1].split('\n').length, 2, 'one line each')
})
