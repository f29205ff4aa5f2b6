import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { Shoal } from '../src/node/shoal.js'
import { NodeState } from '../src/node/node-state.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { identityToString, refToString, type FeedKey } from '../src/ids.js'
import { conversationToString } from '../src/node/dm-json.js'
import { conversationId } from '../src/node/dm-service.js'
import { roomMessageIdToString } from '../src/node/room-service.js'
import { createPeer, openPeer, replicate, syncFeed, untilMessage } from './helpers/peers.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { snapshotTree } from './helpers/files.js'
import { shoal as cli } from './helpers/cli.js'

type Case = [string, string[], string]

/** Runs each one-shot `shoal ARGS --json` on `dir` (no node serving it): refused with its code, every file as it was. */
async function refusals (t: Parameters<Parameters<typeof test>[1]>[0], dir: string, cases: Case[]): Promise<void> {
  const before = snapshotTree(dir)
  for (const [what, args, code] of cases) {
    const r = await cli(dir, [...args, '--json'])
    t.is(r.json?.error?.code ?? `exit ${r.code}: ${r.stderr}`, code, what)
    t.is(r.code, 1, `${what}: exit status 1`)
    t.alike(snapshotTree(dir), before, `${what}: the storage is byte-for-byte as it was`)
  }
}

/** Alice's storage folder and open node, each with a post (`mine`, `bobs`), Alice holding Bob's feed. */
async function aliceAndBob (t: Parameters<Parameters<typeof test>[1]>[0]) {
  const dir = path.join(await t.tmp(), 'alice')
  const { shoal: alice } = await Shoal.init(dir, { name: 'alice' })
  const bob = await createPeer(t, { name: 'bob' })
  const mine = await alice.post({ text: 'hi' })
  const bobs = await bob.post({ text: 'bob here' })
  replicate(alice, bob, t)
  await syncFeed(alice, bob)
  return { dir, alice, bob, mine, bobs }
}

function someone (): string {
  return identityToString(keyPairFromSeed(createSeed()).publicKey)
}

test('cli refusals – a one-shot post, react, edit, delete, follow or DM refused by the stored state changes no file', async (t) => {
  t.timeout(240_000)
  const { dir, alice, bob, mine, bobs } = await aliceAndBob(t)
  const blocked = keyPairFromSeed(createSeed()).publicKey
  await alice.block(blocked)
  await alice.close()

  const unknown = refToString({ feed: keyPairFromSeed(createSeed()).publicKey as unknown as FeedKey, seq: 3 })
  const ref = refToString(mine)
  const bobId = bob.id
  const blockedId = identityToString(blocked)
  const stranger = someone()
  await refusals(t, dir, [
    ['remove a reaction I do not have', ['react', '--remove', ref, '👍'], 'NOT_REACTED'],
    ['react to an unknown message', ['react', unknown, '👍'], 'UNKNOWN_MESSAGE'],
    ['reply to an unknown message', ['post', 'a reply', '--reply', unknown], 'UNKNOWN_MESSAGE'],
    ['edit an unknown message', ['edit', unknown, 'new text'], 'UNKNOWN_MESSAGE'],
    ['delete an unknown message', ['delete', unknown], 'UNKNOWN_MESSAGE'],
    ['edit someone else\'s message', ['edit', refToString(bobs), 'mine now'], 'NOT_OWN_MESSAGE'],
    ['delete someone else\'s message', ['delete', refToString(bobs)], 'NOT_OWN_MESSAGE'],
    ['follow someone I block', ['follow', blockedId], 'BLOCKED'],
    ['DM someone I block', ['dm', 'send', `${bobId},${blockedId}`, 'psst'], 'BLOCKED'],
    ['DM someone with no known device keys', ['dm', 'send', stranger, 'hello?'], 'DM_NO_DEVICES'],
    ['DM reply to a DM not in the conversation', ['dm', 'send', bobId, 'yes', '--reply', unknown], 'UNKNOWN_MESSAGE'],
    ['accept a message request never made', ['dm', 'accept', stranger], 'UNKNOWN_MESSAGE'],
    ['accept a request of someone I block', ['dm', 'accept', blockedId], 'BLOCKED'],
    ['decline a message request never made', ['dm', 'decline', stranger], 'UNKNOWN_MESSAGE'],
    ['read a conversation not here', ['dm', 'read', conversationToString(conversationId([blocked, keyPairFromSeed(createSeed()).publicKey]))], 'UNKNOWN_MESSAGE'],
    ['init over an identity', ['init', '--name', 'again'], 'IDENTITY_EXISTS']
  ])

  const reply = await cli(dir, ['post', 'a reply', '--reply', ref, '--json'])
  t.is(reply.code, 0, `an accepted write still runs: ${reply.stderr}`)
  const thread = await cli(dir, ['thread', ref, '--json'])
  t.is(thread.json.replies[0]?.id, reply.json.id, 'and is indexed')
  const dm = await cli(dir, ['dm', 'send', bobId, 'hello bob', '--json'])
  t.is(dm.code, 0, `a DM to a known device still goes: ${dm.stderr}`)
})

test('cli refusals – one-shot room commands refused by the stored room change no file', async (t) => {
  t.timeout(240_000)
  const dir = path.join(await t.tmp(), 'alice')
  const { shoal: alice } = await Shoal.init(dir, { name: 'alice' })
  const { id: room } = await alice.rooms.create('club')
  const { id: msg } = await alice.rooms.post(room, 'first')
  const { code: invite } = await alice.rooms.invite(room, {})
  const me = alice.id
  await alice.close()

  const other = someone()
  const unknownRoom = someone() // the shape of a room id (a z-base32 key), of no room here
  const unknownMsg = roomMessageIdToString({ writer: keyPairFromSeed(createSeed()).publicKey, length: 1 })
  await refusals(t, dir, [
    ['post in a room I am not in', ['room', 'post', unknownRoom, 'hi'], 'UNKNOWN_ROOM'],
    ['read a room I am not in', ['room', 'read', unknownRoom], 'UNKNOWN_ROOM'],
    ['members of a room I am not in', ['room', 'members', unknownRoom], 'UNKNOWN_ROOM'],
    ['invite to a room I am not in', ['room', 'invite', unknownRoom], 'UNKNOWN_ROOM'],
    ['leave a room I am not in', ['room', 'leave', unknownRoom], 'UNKNOWN_ROOM'],
    ['react to an unknown room message', ['room', 'react', room, unknownMsg, '👍'], 'UNKNOWN_MESSAGE'],
    ['edit an unknown room message', ['room', 'edit', room, unknownMsg, 'x'], 'UNKNOWN_MESSAGE'],
    ['delete an unknown room message', ['room', 'delete', room, unknownMsg], 'UNKNOWN_MESSAGE'],
    ['the last admin makes themself a member', ['room', 'role', room, me, 'member'], 'LAST_ADMIN'],
    ['the last admin removes themself', ['room', 'remove', room, me], 'LAST_ADMIN'],
    ['remove someone not in the room', ['room', 'remove', room, other], 'NOT_MEMBER'],
    ['mute someone not in the room', ['room', 'mute', room, other], 'NOT_MEMBER'],
    ['mute myself (not a lower role)', ['room', 'mute', room, me], 'NOT_PERMITTED'],
    ['join a room I am in', ['room', 'join', invite, '--timeout', '1'], 'INVITE_INVALID']
  ])

  const reacted = await cli(dir, ['room', 'react', room, msg, '👍', '--json'])
  t.is(reacted.code, 0, `an accepted room write still runs: ${reacted.stderr}`)
  const read = await cli(dir, ['room', 'read', room, '--json'])
  t.alike(read.json.items[0].reactions, { '👍': 1 }, 'and shows')
})

test('cli refusals – a member\'s one-shot room commands refused by their role change no file; so does the last admin\'s leave', async (t) => {
  t.timeout(240_000)
  const testnet = await createLocalDht(t)
  const adir = path.join(await t.tmp(), 'alice')
  const bdir = path.join(await t.tmp(), 'bob')
  const alice = await createSwarmPeer(t, testnet, { name: 'alice', storage: adir })
  const bob = await createSwarmPeer(t, testnet, { name: 'bob', storage: bdir })
  const { id: room } = await alice.rooms.create('club')
  await alice.rooms.announced()
  const { code } = await alice.rooms.invite(room, {})
  await bob.rooms.join(code, { timeout: 60_000 })
  const { id: hers } = await alice.rooms.post(room, 'from alice')
  await untilMessage(bob, room, (m) => m.id === hers)
  const aliceId = alice.id
  const bobId = bob.id
  await bob.close()
  await alice.close()

  await refusals(t, bdir, [
    ['a member makes an invite', ['room', 'invite', room], 'NOT_PERMITTED'],
    ['a member changes a role', ['room', 'role', room, aliceId, 'member'], 'NOT_PERMITTED'],
    ['a member removes the admin', ['room', 'remove', room, aliceId], 'NOT_PERMITTED'],
    ['a member mutes the admin', ['room', 'mute', room, aliceId], 'NOT_PERMITTED'],
    ['a member edits the admin\'s message', ['room', 'edit', room, hers, 'mine'], 'NOT_OWN_MESSAGE'],
    ['a member deletes the admin\'s message', ['room', 'delete', room, hers], 'NOT_OWN_MESSAGE']
  ])
  await refusals(t, adir, [
    ['the last admin leaves while others stay', ['room', 'leave', room], 'LAST_ADMIN'],
    ['the admin demotes the last admin', ['room', 'role', room, aliceId, 'moderator'], 'LAST_ADMIN']
  ])
  const members = await cli(adir, ['room', 'members', room, '--json'])
  t.alike(members.json.items.map((m: { id: string }) => m.id).sort(), [aliceId, bobId].sort(), 'both still members')
})

test('cli refusals – refusals change no file when I hold the feed of someone I block (never indexed to its end)', async (t) => {
  t.timeout(120_000)
  const { dir, alice, bob, mine, bobs } = await aliceAndBob(t)
  await alice.follow(bob.identity)
  await alice.block(bob.identity)
  await alice.indexed()
  await alice.close()

  await refusals(t, dir, [
    ['follow someone I block', ['follow', bob.id], 'BLOCKED'],
    ['remove a reaction I do not have', ['react', '--remove', refToString(mine), '👍'], 'NOT_REACTED'],
    ['react to a post of someone I block', ['react', refToString(bobs), '👍'], 'UNKNOWN_MESSAGE']
  ])
})

test('cli refusals – a one-shot write on a rolled-back feed is refused with no file changed', async (t) => {
  const dir = path.join(await t.tmp(), 'alice')
  const { shoal: first } = await Shoal.init(dir)
  await first.post({ text: 'one' })
  await first.close()
  const db = path.join(dir, 'cores', 'db')
  const aside = path.join(await t.tmp(), 'db-before')
  fs.cpSync(db, aside, { recursive: true })
  const again = await openPeer(t, dir)
  await again.post({ text: 'two' })
  await again.close()
  fs.rmSync(db, { recursive: true }) // a power cut lost the newest writes of cores/
  fs.cpSync(aside, db, { recursive: true })

  await refusals(t, dir, [
    ['post on a rolled-back feed', ['post', 'would fork'], 'FEED_ROLLED_BACK'],
    ['follow on a rolled-back feed', ['follow', someone()], 'FEED_ROLLED_BACK']
  ])
})

test('cli refusals – when the stored views may lag (no record of a clean close), the read-write open answers', async (t) => {
  const dir = path.join(await t.tmp(), 'alice')
  const { shoal: alice } = await Shoal.init(dir)
  const mine = await alice.post({ text: 'hi' })
  await alice.close()
  const before = snapshotTree(dir)
  const ro = new Shoal(dir, { readOnly: true })
  await ro.ready()
  t.is(await ro.react(mine, '👍').then(() => 'resolved', (err: { code: string }) => err.code), 'READ_ONLY', 'a write on a read-only node')
  await ro.close()
  t.alike(snapshotTree(dir), before, 'a read-only open and close change no file')

  fs.chmodSync(path.join(dir, 'identity'), 0o644) // a mode the read-write open would fix
  const loose = snapshotTree(dir)
  const insecure = new Shoal(dir, { readOnly: true })
  t.is(await insecure.ready().then(() => 'opened', (err: { code: string }) => err.code), 'READ_ONLY', 'a mode to fix: the read-only open leaves it to the read-write one')
  t.alike(snapshotTree(dir), loose, 'and fixes nothing itself')
  t.is((await cli(dir, ['react', '--remove', refToString(mine), '👍', '--json'])).json?.error?.code, 'NOT_REACTED', 'refused by the read-write open')
  t.is(fs.statSync(path.join(dir, 'identity')).mode & 0o777, 0o600, 'which made the file owner-only again')

  // As after a crash: an open marked the record invalid and no clean close wrote a new one.
  const state = new NodeState(path.join(dir, 'state'))
  await state.ready()
  await state.setOpenRecord(null)
  await state.close()
  const crashed = new Shoal(dir, { readOnly: true })
  t.is(await crashed.ready().then(() => 'opened', (err: { code: string }) => err.code), 'READ_ONLY', 'the read-only open cannot decide')
  const r = await cli(dir, ['react', '--remove', refToString(mine), '👍', '--json'])
  t.is(r.json?.error?.code, 'NOT_REACTED', 'refused as before, by the read-write open')
  const again = await cli(dir, ['react', '--remove', refToString(mine), '👍', '--json'])
  t.is(again.json?.error?.code, 'NOT_REACTED')
  const settled = snapshotTree(dir)
  t.is((await cli(dir, ['react', '--remove', refToString(mine), '👍', '--json'])).json?.error?.code, 'NOT_REACTED')
  t.alike(snapshotTree(dir), settled, 'once a clean close recorded the state, refusals change nothing again')
})
