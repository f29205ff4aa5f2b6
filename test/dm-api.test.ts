import test from 'brittle'
import { createApiNode, call, tryUpgrade } from './helpers/api.js'
import { createLocalDht } from './helpers/swarm.js'

test('dm api – dmSend, a live dm event at the recipient, dmList, dmRead, dmSafety, bad input coded', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const b = await createApiNode(t, testnet, { name: 'bob' })
  const sa = a.app.need()
  const sb = b.app.need()
  await sa.follow(sb.identity)
  await sb.follow(sa.identity)
  await sa.sync({ timeout: 30_000 })
  await sb.sync({ timeout: 30_000 })

  const { status, ws } = await tryUpgrade(b.api.port, { protocols: ['shoal', `shoal.${b.api.token}`] })
  t.is(status, 101)
  const events: any[] = []
  const waiters: Array<() => void> = []
  ws!.on('message', (d) => { events.push(JSON.parse(String(d))); for (const w of waiters.splice(0)) w() })
  t.teardown(() => ws!.terminate(), { order: 0 })
  const until = async (pred: (m: any) => boolean): Promise<any> => {
    for (;;) {
      const hit = events.find(pred)
      if (hit) return hit
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }

  const sent = await call(a.api, 'dmSend', { to: [sb.id], text: 'over the api' })
  t.ok(sent.result?.id && sent.result?.conversation, JSON.stringify(sent))
  const ev = await until((m) => m.type === 'event' && m.event === 'dm' && m.data.id === sent.result.id)
  t.is(ev.data.conversation, sent.result.conversation, 'B is told live, without asking')

  const list = await call(b.api, 'dmList')
  t.is(list.result.items[0].last.text, 'over the api')
  t.is(list.result.items[0].unread, 1)
  const read = await call(b.api, 'dmRead', { conversation: sent.result.conversation })
  t.alike(read.result.items.map((m: any) => [m.text, m.authorName]), [['over the api', 'alice']])
  t.is((await call(b.api, 'dmList')).result.items[0].unread, 0, 'read')

  const safetyA = await call(b.api, 'dmSafety', { id: sa.id })
  t.ok(/^([0-9]{5} ){11}[0-9]{5}$/.test(safetyA.result.code), safetyA.result.code)
  t.is(safetyA.result.devices, 1)
  t.is(safetyA.result.changed, false)

  t.is((await call(a.api, 'dmSend', { to: 'nope', text: 'x' })).error.code, 'BAD_REQUEST')
  t.is((await call(a.api, 'dmSend', { to: ['nope'], text: 'x' })).error.code, 'INVALID_ID')
  t.is((await call(a.api, 'dmRead', { conversation: 'nope' })).error.code, 'INVALID_ID')
  t.is((await call(a.api, 'dmSend', { to: [sb.id], text: 'x'.repeat(5000) })).error.code, 'MESSAGE_TOO_LARGE')

  // A DM to someone I block is refused before anything is written; unblocking lets it go.
  t.is((await call(a.api, 'block', { id: sb.id })).error, undefined)
  const length = sa.feedLength
  const refused = await call(a.api, 'dmSend', { to: [sb.id], text: 'while blocked' })
  t.is(refused.error?.code, 'BLOCKED', 'dmSend to someone I block is BLOCKED')
  t.is(sa.feedLength, length, 'nothing written')
  t.is((await call(a.api, 'dmReact', { id: sent.result.id, emoji: '👍' })).error?.code, 'BLOCKED', 'so is a reaction in our conversation')
  t.is((await call(a.api, 'unblock', { id: sb.id })).error, undefined)
  t.is((await call(a.api, 'dmSend', { to: [sb.id], text: 'unblocked' })).error, undefined, 'unblocked: it goes')
})
