import test from 'brittle'
import b4a from 'b4a'
import z32 from 'z32'
import { untilRooms } from './helpers/peers.js'
import { createLocalDht, createSwarmPeer } from './helpers/swarm.js'
import { createApiNode, call } from './helpers/api.js'
import { roomCommand } from '../src/cli/room-commands.js'

const MiB = 1024 * 1024

test('room status – API roomStatus and shoal room status name the writer of an oversize block and its member', async t => {
  const testnet = await createLocalDht(t)
  const { app, api } = await createApiNode(t, testnet, { name: 'alice' })
  const a = app.need()
  const b = await createSwarmPeer(t, testnet, { name: 'mallory' })
  const { id } = await a.rooms.create('status room')
  await a.rooms.announced()
  await b.rooms.join((await a.rooms.invite(id, {})).code, { timeout: 60_000 })
  const empty = (await call(api, 'roomStatus', { room: id })).result
  t.alike(empty.writers, [], 'nothing flagged at first')
  t.is(empty.members, 2)

  // a malicious client appends an op over the cap straight to its writer
  const big = b.rooms.room(id)
  await big.base.append(b4a.alloc(4 * MiB, 7))
  await b.rooms.post(id, 'after the big block')
  await untilRooms(a, async () => (await a.rooms.read(id)).items.some(m => m.text === 'after the big block'))
  await untilRooms(a, async () => (await a.rooms.status(id)).writers.length > 0)

  const s = (await call(api, 'roomStatus', { room: id })).result
  t.is(s.writers.length, 1)
  t.is(s.writers[0].writer, z32.encode(big.writerKey))
  t.is(s.writers[0].member, b.id, 'with the member it belongs to')
  t.is(s.writers[0].memberName, 'mallory')
  t.alike(s.writers[0].issues.map((i: { flag: string }) => i.flag), ['oversize'])
  t.is(s.writers[0].kept, false, 'a member\'s blocks are not kept (cleared once indexed)')
  t.is((await call(api, 'roomStatus', { room: 'yyyy' })).error?.code, 'UNKNOWN_ROOM')

  const cli = await roomCommand(a, { command: 'room status', positionals: [id], flags: {}, storage: undefined, json: false, help: false })
  t.ok(cli.text.includes(`device ${z32.encode(big.writerKey)}  of mallory ${b.id}`), 'the CLI names the device and its member')
  t.ok(/oversize: block \d+ \(\d+ bytes\) holds a 4194304-byte op/.test(cli.text), 'and the flag')
})
