import b4a from 'b4a'
import sodium from 'sodium-universal'
import Corestore from 'corestore'
import type { Test } from 'brittle'
import { deadline } from './deadline.js'
import { Room, MemoryRoomKeyStore, memoryChannelPair, type RoomOptions } from '../../src/groups/index.js'
import type { SignKeyPair } from '../../src/groups/room-crypto.js'

/** A random ed25519 identity. */
export function makeIdentity (): SignKeyPair {
  const seed = b4a.alloc(32)
  sodium.randombytes_buf(seed)
  const publicKey = b4a.alloc(32)
  const secretKey = b4a.alloc(64)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}

/** One device of a member: its own Corestore (temp dir, closed at teardown) and key store. */
export interface Device { store: Corestore, dir: string, keys: MemoryRoomKeyStore, identity: SignKeyPair, room: Room | null, streams: Set<unknown> }

export async function makeDevice (t: Test, identity: SignKeyPair = makeIdentity()): Promise<Device> {
  const dir = await t.tmp()
  const store = new Corestore(dir)
  t.teardown(() => store.close(), { order: 3 })
  return { store, dir, keys: new MemoryRoomKeyStore(), identity, room: null, streams: new Set() }
}

export const NS = 'shoal/rooms/test'

function options (d: Device, extra: Partial<RoomOptions> = {}): RoomOptions {
  return { namespace: NS, identity: d.identity, keys: d.keys, ackInterval: 0, ...extra }
}

/** Opens (or creates, key null) the room on a device; closed at teardown. */
export async function openRoom (t: Test, d: Device, key: Uint8Array | null, extra: Partial<RoomOptions> = {}): Promise<Room> {
  const room = new Room(d.store, key, options(d, extra))
  t.teardown(() => room.close(), { order: 2 })
  await room.ready()
  attach(d, room)
  return room
}

/** Makes `room` the device's room and adds the device's live streams to its wakeup protocol. */
export function attach (d: Device, room: Room): void {
  d.room = room
  for (const s of d.streams) room.addStream(s)
}

/** Replicates two devices' Corestores over a stream pair; returns a function that cuts the link. */
export function link (t: Test, a: Device, b: Device): () => void {
  const s1 = a.store.replicate(true)
  const s2 = b.store.replicate(false)
  s1.pipe(s2).pipe(s1)
  s1.on('error', () => {}) // a cut link errors both ends; nothing to report
  s2.on('error', () => {})
  a.streams.add(s1)
  b.streams.add(s2)
  if (a.room !== null && a.room.closing === null) a.room.addStream(s1)
  if (b.room !== null && b.room.closing === null) b.room.addStream(s2)
  let cut = false
  const stop = (): void => {
    if (cut) return
    cut = true
    a.streams.delete(s1)
    b.streams.delete(s2)
    s1.destroy()
    s2.destroy()
  }
  t.teardown(stop, { order: 0 })
  return stop
}

/** Links every pair of devices. */
export function mesh (t: Test, devices: Device[]): Array<() => void> {
  const stops: Array<() => void> = []
  for (let i = 0; i < devices.length; i++) {
    for (let j = i + 1; j < devices.length; j++) stops.push(link(t, devices[i]!, devices[j]!))
  }
  return stops
}

/** `admin` invites `d` (over an in-memory channel); resolves when `d` can write. */
export async function invite (t: Test, admin: Room, d: Device, opts: Parameters<Room['createInvite']>[0] = {}): Promise<Room> {
  const { invite: code } = await admin.createInvite(opts)
  const [a, b] = memoryChannelPair()
  const [, room] = await Promise.all([admin.answerInvite(a), Room.join(d.store, b, code, options(d))])
  t.teardown(() => room.close(), { order: 2 })
  attach(d, room)
  await room.whenWritable()
  return room
}

/** Adds a second device of the member on `existing` (its room key is handed over as the owner would). */
export async function addSecondDevice (t: Test, existing: Device, d: Device): Promise<Room> {
  const room = existing.room!
  await d.keys.put('room-key', (await existing.keys.get('room-key'))!)
  const att = await Room.attestDevice(d.store, room.discoveryKey, options(d))
  await room.addDevice(att)
  const opened = await openRoom(t, d, room.key)
  await opened.whenWritable()
  return opened
}

function headsOf (room: Room): string {
  return room.base.heads().map((h: { key: Uint8Array, length: number }) => b4a.toString(h.key, 'hex') + ':' + h.length).join(',')
}

/**
 * Waits (on update events) until every room has the same heads and the same view hash; after
 * `ms` it throws with each room's heads and view hash.
 */
export async function converge (rooms: Room[], ms = 60_000): Promise<string> {
  return await deadline(converged(rooms), ms, 'the rooms to converge', async () =>
    (await Promise.all(rooms.map(async (r, i) => `room ${i}: heads ${headsOf(r)} view ${b4a.toString(await r.viewHash(), 'hex').slice(0, 16)}`))).join('; '))
}

async function converged (rooms: Room[]): Promise<string> {
  for (;;) {
    let resolve!: () => void
    const next = new Promise<void>(r => { resolve = r })
    const on = (): void => resolve()
    for (const r of rooms) r.on('update', on)
    try {
      await Promise.all(rooms.map(r => r.update()))
      const hashes = await Promise.all(rooms.map(async r => b4a.toString(await r.viewHash(), 'hex') + '/' + headsOf(r)))
      if (hashes.every(h => h === hashes[0])) return hashes[0]!.split('/')[0]!
      await next
    } finally {
      for (const r of rooms) r.off('update', on)
    }
  }
}

/** Bytes of a room writer's blocks stored on `d` (as stored: encrypted), read from a session without encryption. */
export async function storedWriterBytes (d: Device, writer: Uint8Array): Promise<number> {
  const core = d.store.namespace(NS).get({ key: writer, active: false })
  await core.ready()
  try {
    let n = 0
    for (let i = 0; i < core.length; i++) {
      if (await core.has(i)) n += (await core.get(i, { wait: false }))?.byteLength ?? 0
    }
    return n
  } finally {
    await core.close()
  }
}
