import test from 'brittle'
import b4a from 'b4a'
import fs from 'node:fs'
import path from 'node:path'
import { ShoalApp } from '../src/node/app.js'
import type { Shoal } from '../src/node/shoal.js'
import { ApiServer } from '../src/api/server.js'
import { call, createApiNode } from './helpers/api.js'
import { createPeer, replicate, syncFeed } from './helpers/peers.js'
import { badChecksum } from './helpers/phrases.js'
import { createLocalDht } from './helpers/swarm.js'

test('api social – restore from a phrase: a bad phrase writes nothing, the right one brings the same id back', async (t) => {
  const testnet = await createLocalDht(t)
  const first = await createApiNode(t, testnet, { name: 'alice' })
  const id = first.app.shoal!.id
  // The phrase is only given out at init: make one over the API on a fresh node.
  const fresh = await createApiNode(t, testnet)
  const made = (await call(fresh.api, 'init', { name: 'zed' })).result
  t.is(made.phrase.split(' ').length, 24, 'a new identity gets its phrase')

  const storage = await t.tmp()
  const app = new ShoalApp(storage, { join: { dht: testnet.createNode() } })
  await app.ready()
  const api = new ApiServer(app, { port: 0, network: 'private' })
  await api.ready()
  t.teardown(async () => { await api.close(); await app.close() }, { order: 1 })
  const before = fs.readdirSync(storage).sort()
  const words = made.phrase.split(' ')
  for (const bad of ['', 'not a phrase', badChecksum(made.phrase), words.slice(0, 12).join(' '), 'x'.repeat(2000), 42]) {
    const r = await call(api, 'init', { restore: bad })
    t.ok(r.error !== undefined && ['INVALID_PHRASE', 'BAD_REQUEST'].includes(r.error.code), `refused: ${String(bad).slice(0, 30)} → ${r.error?.code}`)
  }
  t.alike(fs.readdirSync(storage).sort(), before, 'nothing was written by the refused phrases')
  t.is((await call(api, 'state')).result.hasIdentity, false)
  const restored = (await call(api, 'init', { restore: `  ${made.phrase.toUpperCase()}  ` })).result
  t.is(restored.id, fresh.app.shoal!.id, 'the restored identity is the one the phrase came from')
  t.is(restored.phrase, null, 'no phrase is handed out after a restore')
  t.not(restored.id, id)
  t.ok(fs.existsSync(path.join(storage)), 'the folder exists')
})

/** Alice's and Bob's API nodes on one testnet, their nodes replicating in process. */
async function aliceAndBob (t: Parameters<Parameters<typeof test>[1]>[0]): Promise<{ a: { app: ShoalApp, api: ApiServer }, b: { app: ShoalApp, api: ApiServer }, A: Shoal, B: Shoal }> {
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const b = await createApiNode(t, testnet, { name: 'bob' })
  const A = a.app.shoal!
  const B = b.app.shoal!
  replicate(A, B, t)
  return { a, b, A, B }
}

test('api social – blocked list, following a blocked id is BLOCKED, followers, reactions with mine and who', async (t) => {
  const { a, b, A, B } = await aliceAndBob(t)

  t.is((await call(a.api, 'block', { id: B.id })).error, undefined)
  t.alike((await call(a.api, 'blocked')).result.people, [{ id: B.id, name: null }], 'the blocked list names who I block')
  const refused = await call(a.api, 'follow', { id: B.id })
  t.is(refused.error?.code, 'BLOCKED', 'following someone I block says so')
  t.alike((await call(a.api, 'following')).result.people, [], 'and follows nobody')
  await call(a.api, 'unblock', { id: B.id })
  t.alike((await call(a.api, 'blocked')).result.people, [])
  t.is((await call(a.api, 'follow', { id: B.id })).error, undefined, 'after unblocking, following works')

  const post = (await call(a.api, 'post', { text: `hi @${B.id} and friends` })).result.id
  await call(b.api, 'follow', { id: A.id })
  await syncFeed(B, A)
  await call(b.api, 'react', { id: post, emoji: '🎉' })
  await call(a.api, 'react', { id: post, emoji: '🎉' })
  await call(a.api, 'react', { id: post, emoji: '👍' })
  await syncFeed(A, B)

  t.alike((await call(a.api, 'followers')).result.people.map((p: { id: string }) => p.id), [B.id], 'bob follows alice')
  let item = (await call(a.api, 'timeline')).result.items.find((i: { id: string }) => i.id === post)
  t.alike(item.reactions, { '🎉': 2, '👍': 1 })
  t.alike(item.mine.sort(), ['👍', '🎉'].sort(), 'my reactions are marked')
  t.alike(item.mentioned, [{ id: B.id, name: 'bob' }], 'mentions come with names')
  const who = (await call(a.api, 'reactors', { id: post })).result.reactions
  const party = who.find((r: { emoji: string }) => r.emoji === '🎉')
  t.alike(party.people.map((p: { name: string }) => p.name).sort(), ['alice', 'bob'], 'who reacted, by name')
  await call(a.api, 'react', { id: post, emoji: '👍', remove: true })
  item = (await call(a.api, 'posts', { ids: [post] })).result.items[0]
  t.alike(item.mine, ['🎉'], 'a removed reaction is no longer mine')
  t.alike(item.reactions, { '🎉': 2 })
})

test('api social – posts by id drop deleted ones; bad ids are coded errors', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const ids: string[] = []
  for (let i = 0; i < 3; i++) ids.push((await call(a.api, 'post', { text: `post ${i}` })).result.id)
  await call(a.api, 'delete', { id: ids[1] })
  await call(a.api, 'edit', { id: ids[2], text: 'edited' })
  const items = (await call(a.api, 'posts', { ids })).result.items
  t.alike(items.map((i: { id: string }) => i.id), [ids[0], ids[2]], 'the deleted post is left out')
  t.is(items[1].text, 'edited')
  for (const bad of [{}, { ids: 'x' }, { ids: [1] }, { ids: ['nope'] }, { ids: new Array(501).fill(ids[0]) }]) {
    const r = await call(a.api, 'posts', bad)
    t.ok(['BAD_REQUEST', 'INVALID_ID'].includes(r.error?.code), `refused ${JSON.stringify(bad).slice(0, 40)}: ${r.error?.code}`)
  }
})

test('api social – notifications: replies, reactions, mentions and followers; the seen marker moves forward only', async (t) => {
  const { a, b, A, B } = await aliceAndBob(t)
  const post = (await call(a.api, 'post', { text: 'my post' })).result.id
  await call(a.api, 'follow', { id: B.id })
  await call(b.api, 'follow', { id: A.id })
  await syncFeed(B, A)
  await call(b.api, 'post', { text: 'a reply', reply: post })
  await call(b.api, 'react', { id: post, emoji: '❤️' })
  await call(b.api, 'post', { text: `hey @${A.id}` })
  await syncFeed(A, B)

  const n = (await call(a.api, 'notifications')).result
  t.alike(n.items.map((x: { kind: string }) => x.kind).sort(), ['follow', 'mention', 'reaction', 'reply'])
  t.ok(n.items.every((x: { whoName: string }) => x.whoName === 'bob'), 'each names bob')
  t.is(n.items.find((x: { kind: string }) => x.kind === 'reaction').emoji, '❤️')
  t.is(n.items.find((x: { kind: string }) => x.kind === 'reaction').post, post, 'the reaction points at my post')
  t.is(n.seen, 0, 'nothing seen yet')
  const newest = Math.max(...n.items.map((x: { at: number }) => x.at))
  t.is((await call(a.api, 'markNotificationsSeen', { at: newest })).result.seen, newest)
  t.is((await call(a.api, 'markNotificationsSeen', { at: 1 })).result.seen, newest, 'never moves back')
  t.is((await call(a.api, 'markNotificationsSeen', { at: Date.now() + 1e9 })).result.seen <= Date.now(), true, 'never into the future')
  t.is((await call(a.api, 'markNotificationsSeen', { at: -1 })).error.code, 'BAD_REQUEST')
  t.is((await call(a.api, 'markNotificationsSeen', {})).error.code, 'BAD_REQUEST')

  await call(a.api, 'block', { id: B.id })
  t.alike((await call(a.api, 'notifications')).result.items, [], 'nothing from someone I block')
})

test('api social – profile counts and follower lists leave out someone I block, of anyone', async (t) => {
  const { a, b, A, B } = await aliceAndBob(t)
  const z = await createPeer(t, { name: 'zed' })
  replicate(A, z, t)
  await B.follow(z.identity)
  await B.follow(A.identity)
  await z.follow(B.identity)
  await z.follow(A.identity)
  await syncFeed(A, B)
  await syncFeed(A, z)
  const counts = async (id?: string): Promise<[number, number]> => {
    const p = (await call(a.api, 'profile', id === undefined ? {} : { id })).result
    return [p.following, p.followers]
  }
  t.alike([await counts(B.id), await counts()], [[2, 1], [0, 2]], 'before: bob follows zed and me, zed follows bob; bob and zed follow me')
  t.is((await call(a.api, 'block', { id: z.id })).error, undefined)
  // Joined to a network, a block drops what I hold of them (never replicated): done when it returns.
  t.absent(A.trackedFeeds.some((f) => b4a.equals(f, z.feedKey)), 'blocked: zed\'s feed no longer held')
  t.alike(await counts(B.id), [1, 0], 'bob\'s follow of zed and zed\'s follow of bob are not counted')
  t.alike(await counts(), [0, 1], 'my followers: bob only')
  t.alike((await call(a.api, 'followers')).result.people.map((p: { id: string }) => p.id), [B.id], 'my follower list: bob only')
  t.is((await call(b.api, 'profile', { id: B.id })).result.following, 2, 'bob\'s own node, which blocks no one, counts both')
  t.is((await call(a.api, 'unblock', { id: z.id })).error, undefined)
  t.alike(await counts(B.id), [2, 0], 'unblocked: bob\'s follow of zed counts again; zed\'s follow of bob went with the feed the block dropped')
  await syncFeed(A, z)
  t.alike(await counts(B.id), [2, 1], 'unblocked and synced again: counted again')
})
