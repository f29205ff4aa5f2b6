import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { createLocalDht } from './helpers/swarm.js'
import { fillDisk, tmpfsMount } from './helpers/files.js'
import type WebSocket from 'ws'
import { ApiServer } from '../src/api/server.js'
import { createApiNode, call as rawCall, tryUpgrade } from './helpers/api.js'

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

async function openWs (t: { teardown: (fn: () => unknown) => void }, api: ApiServer): Promise<WebSocket> {
  const { ws } = await tryUpgrade(api.port, { protocols: ['shoal', `shoal.${api.token}`] })
  if (ws === null) throw new Error('upgrade refused')
  t.teardown(() => ws.terminate())
  return ws
}

/** Resolves with the first `roomChanged` event for `room` on `ws`. */
function roomChanged (ws: WebSocket, room: string | null): Promise<void> {
  return new Promise(resolve => {
    const on = (data: unknown): void => {
      const msg = JSON.parse(String(data))
      if (msg.type === 'event' && msg.event === 'roomChanged' && msg.data.room === room) {
        ws.off('message', on)
        resolve()
      }
    }
    ws.on('message', on)
  })
}

test('room api – the server removes its room listeners when it closes; a second server adds none on top', async (t) => {
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice' })
  const shoal = app.need()
  const counts = (): number[] => [shoal.listenerCount('room-update'), shoal.listenerCount('rooms'), shoal.rooms.listenerCount('update'), shoal.rooms.listenerCount('rooms')]
  const withOne = counts()
  await api.close()
  const without = counts()
  t.alike(without, [withOne[0]! - 1, withOne[1]! - 1, withOne[2], withOne[3]], 'closing removed exactly its two listeners')
  for (let i = 0; i < 3; i++) {
    const again = new ApiServer(app, { port: 0, network: 'private' })
    await again.ready()
    t.alike(counts(), withOne, `server ${i + 2}: one listener each, as with the first`)
    await again.close()
  }
  t.alike(counts(), without, 'none left behind')
})

test('room api – live room events still arrive after the storage was reopened (as after NO_SPACE); roomLeave', async (t) => {
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice' })
  const { id } = await call(api, 'roomCreate', { name: 'reopened' })
  const ws = await openWs(t, api)
  let changed = roomChanged(ws, id)
  await call(api, 'roomPost', { room: id, text: 'before' })
  await changed
  t.pass('an update before the reopen')

  const shoal = app.need()
  const before = shoal.rooms
  // the recovery a write runs after NO_SPACE once space is back: close and reopen the storage
  await (shoal as unknown as { reopen (): Promise<void> }).reopen()
  t.not(shoal.rooms, before, 'a new RoomService')
  changed = roomChanged(ws, id)
  await call(api, 'roomPost', { room: id, text: 'after the reopen' })
  await changed
  t.pass('an update after the reopen reached the WebSocket client')
  t.is((await call(api, 'roomRead', { room: id })).items[0].text, 'after the reopen')

  const listChanged = roomChanged(ws, null)
  t.alike(await call(api, 'roomLeave', { room: id }), { delivered: true }, 'alone in the room: nothing to deliver')
  await listChanged
  t.alike((await call(api, 'roomList')).items, [], 'the room is forgotten')
  try {
    await call(api, 'roomLeave', { room: id })
    t.fail('leaving again should fail')
  } catch (err) {
    t.is((err as { code: string }).code, 'UNKNOWN_ROOM', 'leaving a room I am not in')
  }
})

/** Writes `file` until the file system is full (ENOSPC). */

test('room api – a real full disk: after NO_SPACE and the reopen once space is back, room events still reach the WebSocket', async (t) => {
  const mnt = await tmpfsMount(t, '24m')
  if (mnt === null) return
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice', storage: path.join(mnt, 'store') })
  const { id } = await call(api, 'roomCreate', { name: 'full disk' })
  const ws = await openWs(t, api)
  const shoal = app.need()
  const fill = path.join(mnt, 'fill')
  fillDisk(fill)
  let code = 'resolved'
  try { await shoal.post({ text: 'x'.repeat(4000) }) } catch (err) { code = (err as { code: string }).code }
  t.is(code, 'NO_SPACE', 'the disk is full')
  fs.rmSync(fill)
  const before = shoal.rooms
  await shoal.post({ text: 'space is back' }) // reopens the storage first
  t.not(shoal.rooms, before, 'the storage was reopened (a new RoomService)')
  const changed = roomChanged(ws, id)
  await call(api, 'roomPost', { room: id, text: 'after the reopen' })
  await changed
  t.pass('a live room event after the reopen')
})
