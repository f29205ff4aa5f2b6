import test from 'brittle'
import { createLocalDht } from './helpers/swarm.js'
import { createApiNode, call as rawCall } from './helpers/api.js'

async function call (api: Parameters<typeof rawCall>[0], method: string, params: Record<string, unknown> = {}): Promise<any> {
  const body = await rawCall(api, method, params)
  if (body.error !== undefined) throw Object.assign(new Error(body.error.message), { code: body.error.code })
  return body.result
}

test('room api – create, invite, join, post and read through the API; bad params get coded errors', async (t) => {
  const testnet = await createLocalDht(t)
  const a = await createApiNode(t, testnet, { name: 'alice' })
  const b = await createApiNode(t, testnet, { name: 'bob' })
  const { id } = await call(a.api, 'roomCreate', { name: 'api room' })
  await a.app.need().rooms.announced()
  const { code } = await call(a.api, 'roomInvite', { room: id, role: 'moderator', uses: 2, expires: 3_600_000 })
  t.alike(await call(b.api, 'roomJoin', { code, timeout: 60_000 }), { id, name: 'api room' })
  const { id: msg } = await call(b.api, 'roomPost', { room: id, text: 'via the api' })
  await call(b.api, 'roomReact', { room: id, id: msg, emoji: '🎉' })
  const page = await call(b.api, 'roomRead', { room: id })
  t.is(page.items[0].text, 'via the api')
  t.alike(page.items[0].reactions, { '🎉': 1 })
  const members = await call(a.api, 'roomMembers', { room: id })
  t.alike(members.items.map((m: any) => m.role).sort(), ['admin', 'moderator'])
  t.is((await call(a.api, 'roomList')).items[0].role, 'admin')

  const bad = async (method: string, params: Record<string, unknown>): Promise<string> => {
    try { await call(a.api, method, params); return 'no error' } catch (err) { return (err as { code: string }).code }
  }
  t.is(await bad('roomInvite', { room: id, role: 'king' }), 'INVALID_ARGUMENT')
  t.is(await bad('roomInvite', { room: id, uses: 0 }), 'BAD_REQUEST')
  t.is(await bad('roomPost', { room: 42, text: 'x' }), 'BAD_REQUEST')
  t.is(await bad('roomPost', { room: 'yyyy', text: 'x' }), 'UNKNOWN_ROOM')
  t.is(await bad('roomReact', { room: id, id: 'not-an-id', emoji: 'x' }), 'INVALID_ID')
  t.is(await bad('roomJoin', { code: 'nope' }), 'INVITE_INVALID')
})
