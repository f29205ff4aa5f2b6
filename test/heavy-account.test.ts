import test from 'brittle'
import { identityToString, type IdentityKey } from '../src/ids.js'
import type { Shoal } from '../src/node/shoal.js'
import { call, createApiNode, tryUpgrade } from './helpers/api.js'
import { addGhosts, createPeer, replicate, syncFeed } from './helpers/peers.js'
import { createLocalDht } from './helpers/swarm.js'

/** Native read calls of the views (single gets, batches, scans) that `fn` makes, and the keys they read by point. */
async function reads (shoal: Shoal, fn: () => Promise<unknown>): Promise<{ calls: number, keys: number }> {
  const before = shoal.views.io()
  await fn()
  const after = shoal.views.io()
  return { calls: (after.readBatches - before.readBatches) + (after.scans - before.scans), keys: after.gets - before.gets }
}

test('heavy account – status, following and followers read names in batches, not one read per identity', async (t) => {
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'heavy' })
  const shoal = app.shoal as Shoal
  await addGhosts(shoal, 120)

  let status: any
  const statusReads = await reads(shoal, async () => { status = (await call(api, 'status')).result })
  t.is(status.identities.length, 121, 'every identity held is listed (me and 120)')
  t.ok(statusReads.calls <= 6, `status: ${statusReads.calls} native reads for 121 identities`)

  let following: any
  const followingReads = await reads(shoal, async () => { following = (await call(api, 'following')).result })
  t.is(following.people.length, 120)
  t.ok(followingReads.calls <= 4, `following: ${followingReads.calls} native reads for 120 people`)

  const me = (await call(api, 'profile')).result
  t.is(me.following, 120, 'the profile counts them')
})

test('heavy account – the status pushed to the app is read again only when the node\'s status stamp moves', async (t) => {
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'heavy' })
  const shoal = app.shoal as Shoal
  await addGhosts(shoal, 20)

  let statusReads = 0
  const status = shoal.status.bind(shoal)
  shoal.status = async () => { statusReads++; return status() }
  let stamps = 0
  let onStamp: (() => void) | null = null
  const stamp = shoal.statusStamp.bind(shoal)
  shoal.statusStamp = () => { stamps++; onStamp?.(); return stamp() }
  const ticks = (n: number): Promise<void> => new Promise((resolve) => {
    const until = stamps + n
    onStamp = () => { if (stamps >= until) { onStamp = null; resolve() } }
  })

  const { ws } = await tryUpgrade(api.port, { protocols: ['shoal', `shoal.${api.token}`] })
  if (ws === null) throw new Error('no WebSocket')
  t.teardown(() => { ws.terminate() })
  const pushed: any[] = []
  let onPush: ((s: any) => void) | null = null
  ws.on('message', (d) => {
    const msg = JSON.parse(String(d))
    if (msg.type !== 'event' || msg.event !== 'status') return
    pushed.push(msg.data)
    onPush?.(msg.data)
  })

  await ticks(4)
  t.is(statusReads, 1, 'four ticks with nothing new: the status was read once')
  t.is(pushed.length, 1, 'and pushed once')
  const mine = (s: any): number => s.identities.find((i: any) => i.id === shoal.id).feeds[0].local

  const next = new Promise<any>((resolve) => { onPush = resolve })
  await shoal.post({ text: 'something new' })
  const after = await next
  t.is(mine(after), mine(pushed[0]) + 1, 'a post moves the stamp: the new length is pushed')
  t.is(statusReads, 2, 'read once more')
  await ticks(3)
  t.is(statusReads, 2, 'then not again while nothing changes')
})

test('heavy account – who reacted, and reactions in the notifications, cost the reactions on the post, not the identities held', async (t) => {
  const a = await createPeer(t, { name: 'alice' })
  const b = await createPeer(t, { name: 'bob' })
  replicate(a, b, t)
  await addGhosts(a, 60)
  const post = await a.post({ text: 'my post' })
  await syncFeed(b, a)
  await b.react(post, '🎉')
  await b.react(post, '👍')
  await a.react(post, '🎉')
  await syncFeed(a, b)

  const ids = (rs: Array<{ emoji: string, who: Uint8Array }>): string[] => rs.map((r) => `${r.emoji} ${identityToString(r.who as IdentityKey)}`)
  let rs: Array<{ emoji: string, who: Uint8Array, at: number }> = []
  const reactorReads = await reads(a, async () => { rs = await a.views.reactors(post) })
  t.alike(ids(rs).sort(), [`🎉 ${a.id}`, `🎉 ${b.id}`, `👍 ${b.id}`].sort(), 'each reaction that is on, with its reactor')
  t.ok(rs.every((r) => r.at > 0), 'with when')
  t.ok(reactorReads.keys <= 2 && reactorReads.calls <= 3, `reactors: ${reactorReads.keys} keys in ${reactorReads.calls} native reads with 62 identities held`)

  let kinds: string[] = []
  const notificationReads = await reads(a, async () => { kinds = (await a.views.notifications()).filter((n) => n.kind === 'reaction').map((n) => `${n.emoji ?? ''} ${n.who}`) })
  t.alike(kinds.sort(), [`🎉 ${b.id}`, `👍 ${b.id}`].sort(), 'notifications: bob\'s reactions, not mine')
  t.ok(notificationReads.keys <= 12, `notifications: ${notificationReads.keys} keys read with 62 identities held`)

  await b.react(post, '👍', { remove: true })
  await syncFeed(a, b)
  t.alike(ids(await a.views.reactors(post)).sort(), [`🎉 ${a.id}`, `🎉 ${b.id}`].sort(), 'a reaction taken back is gone')
  await a.reindex()
  t.alike(ids(await a.views.reactors(post)).sort(), [`🎉 ${a.id}`, `🎉 ${b.id}`].sort(), 'a rebuild gives the same')
  await a.block(b.identity)
  t.alike(ids(await a.views.reactors(post)), [`🎉 ${a.id}`], 'a block purges bob\'s')
  await a.unblock(b.identity)
  t.alike(ids(await a.views.reactors(post)).sort(), [`🎉 ${a.id}`, `🎉 ${b.id}`].sort(), 'an unblock brings them back')
})
