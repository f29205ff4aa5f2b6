import test from 'brittle'
import b4a from 'b4a'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'

function once (emitter: { once: (ev: string, fn: (x: any) => void) => unknown }, ev: string): Promise<any> {
  return new Promise((resolve) => emitter.once(ev, resolve))
}

test('dm requests – a stranger\'s DM arrives as a message request; accepted, the DM shows', async (t) => {
  const testnet = await createLocalDht(t)
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  await a.follow(b.identity) // A holds B's keys; B does not follow A
  await a.sync({ timeout: 30_000 })
  const requested = once(b, 'dm-request')
  const sent = await a.dm.send({ to: [b.identity], text: 'hi, we met at the conference' })
  await requested
  const pending = await b.dmRequests.pending()
  t.is(pending.length, 1, 'one pending request')
  t.ok(b4a.equals(pending[0].identity, a.identity), 'from A')
  t.ok(b4a.equals(pending[0].conversations[0], sent.conversation), 'naming the conversation')
  t.is((await b.dm.conversations()).length, 0, 'nothing shown before accepting')
  t.absent(b.trackedFeeds.some((f) => b4a.equals(f, a.feedKey)), 'A\'s feed not replicated yet')

  const arrived = once(b, 'dm')
  await b.dmRequests.accept(a.identity)
  await arrived
  t.alike((await b.dm.read(sent.conversation)).items.map((m) => m.text), ['hi, we met at the conference'], 'the DM arrives once accepted')
  t.is((await b.dmRequests.pending()).length, 0, 'no longer pending')
})

test('dm requests – declined: nothing replicated, later requests ignored; a blocked sender gets no request through', async (t) => {
  const testnet = await createLocalDht(t)
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  const m = await createSwarmPeer(t, testnet, { name: 'mallory' })
  await a.follow(b.identity)
  await m.follow(b.identity)
  await b.block(m.identity)
  await a.sync({ timeout: 30_000 })
  await m.sync({ timeout: 30_000 })

  const requested = once(b, 'dm-request')
  await a.dm.send({ to: [b.identity], text: 'first' })
  await requested
  await b.dmRequests.decline(a.identity)
  t.is((await b.dmRequests.pending()).length, 0, 'declined')
  const err = await b.dmRequests.accept(a.identity).catch((e) => e)
  t.is(err.code, 'UNKNOWN_MESSAGE', 'a declined request cannot be accepted later')

  await a.dm.send({ to: [b.identity], text: 'second' })
  t.is(await a.dmRequests.announce(b.identity), 1, 'announced again to B')
  const sentByM = await m.dm.send({ to: [b.identity], text: 'let me in' }).catch((e) => e)
  t.ok(sentByM.ref !== undefined || sentByM.code !== undefined)
  const reached = await m.dmRequests.announce(b.identity)
  await b.sync({ timeout: 30_000 })
  t.is((await b.dmRequests.pending()).length, 0, `still nothing pending (M's announce reached ${reached} session(s); B dropped ${b.dmRequests.droppedBlocked} blocked request(s))`)
  t.absent(b.trackedFeeds.some((f) => b4a.equals(f, a.feedKey) || b4a.equals(f, m.feedKey)), 'neither feed replicated')
  t.is((await b.dm.conversations()).length, 0, 'nothing shown')
})

test('dm requests – a pending request of someone I then block is hidden and cannot be accepted; an unblock brings it back', async (t) => {
  const testnet = await createLocalDht(t)
  const b = await createSwarmPeer(t, testnet, { name: 'bob' })
  const a = await createSwarmPeer(t, testnet, { name: 'alice' })
  await a.follow(b.identity)
  await a.sync({ timeout: 30_000 })
  const requested = once(b, 'dm-request')
  await a.dm.send({ to: [b.identity], text: 'hello from a stranger' })
  await requested
  t.is((await b.dmRequests.pending()).length, 1, 'pending')
  await b.block(a.identity)
  t.is((await b.dmRequests.pending()).length, 0, 'blocked: not listed')
  const err = await b.dmRequests.accept(a.identity).catch((e) => e)
  t.is(err.code, 'BLOCKED', 'blocked: accepting is refused')
  t.absent(b.trackedFeeds.some((f) => b4a.equals(f, a.feedKey)), 'nothing of hers tracked')
  await b.unblock(a.identity)
  t.is((await b.dmRequests.pending()).length, 1, 'unblocked: pending again')
})
