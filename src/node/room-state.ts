/**
 * The rooms part of the primary node state (`state/`, under NodeState's rooms tag): which rooms
 * this device is in (each with its own Corestore namespace) and every room's secrets (the
 * RoomKeyStore: room key, box key pair, epoch keys), plus how many messages I have read in each.
 * Never in views/: a views rebuild or a views version bump leaves it alone.
 *
 * Layout (after the rooms tag): `0x01 | local id` → room record; `0x02 | local id | name` →
 * a secret of that room's key store; `0x03 | local id` → read count (uint64 BE).
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import sodium from 'sodium-universal'
import { readUint64BE, writeUint64BE } from '../ids.js'
import type { RoomKeyStore } from '../groups/index.js'
import type { NodeState } from './node-state.js'

const SUB = { room: 0x01, secret: 0x02, read: 0x03 } as const
const RECORD_VERSION = 1

/** A room this device is in: its local id (namespace), the room key, when it was added here. */
export interface RoomEntry { localId: Uint8Array, key: Uint8Array, added: number }

const roomRecord = {
  preencode (state: c.State, r: { key: Uint8Array, added: number }) {
    c.uint.preencode(state, RECORD_VERSION)
    c.fixed32.preencode(state, r.key)
    c.uint.preencode(state, r.added)
  },
  encode (state: c.State, r: { key: Uint8Array, added: number }) {
    c.uint.encode(state, RECORD_VERSION)
    c.fixed32.encode(state, r.key)
    c.uint.encode(state, r.added)
  },
  decode (state: c.State): { key: Uint8Array, added: number } {
    c.uint.decode(state) // version 1 is the only one; later ones append fields
    return { key: c.fixed32.decode(state), added: c.uint.decode(state) }
  }
}

/** A fresh random local id (16 bytes): names a room's Corestore namespace on this device only. */
export function newLocalId (): Uint8Array {
  const id = b4a.alloc(16)
  sodium.randombytes_buf(id)
  return id
}

/** The Corestore namespace of a room on this device. */
export function roomNamespace (localId: Uint8Array): string {
  return 'shoal/rooms/' + b4a.toString(localId, 'hex')
}

/** The room list and secrets of one node, over its NodeState. */
export class RoomState {
  constructor (private readonly state: NodeState) {}

  /** Every room this device is in, in local id order. */
  async rooms (): Promise<RoomEntry[]> {
    const rows = await this.state.roomScan(b4a.from([SUB.room]))
    return rows.map(({ key, value }) => ({ localId: key, ...c.decode(roomRecord, value) }))
  }

  /** Records a room (after its Autobase opened and its key is known). */
  async addRoom (e: RoomEntry): Promise<void> {
    await this.state.roomPut([[b4a.concat([b4a.from([SUB.room]), e.localId]), c.encode(roomRecord, e)]])
  }

  /** Forgets a room and its secrets (after leaving it). */
  async removeRoom (localId: Uint8Array): Promise<void> {
    const secrets = await this.state.roomScan(b4a.concat([b4a.from([SUB.secret]), localId]))
    await this.state.roomPut([
      [b4a.concat([b4a.from([SUB.room]), localId]), null],
      [b4a.concat([b4a.from([SUB.read]), localId]), null],
      ...secrets.map(({ key }): [Uint8Array, null] => [b4a.concat([b4a.from([SUB.secret]), localId, key]), null])
    ])
  }

  /** How many messages of the room I have read (the unread count is the rest). */
  async readCount (localId: Uint8Array): Promise<number> {
    const v = await this.state.roomGet(b4a.concat([b4a.from([SUB.read]), localId]))
    return v === null ? 0 : readUint64BE(v, 0)
  }

  async setReadCount (localId: Uint8Array, n: number): Promise<void> {
    const v = b4a.alloc(8)
    writeUint64BE(v, 0, n)
    await this.state.roomPut([[b4a.concat([b4a.from([SUB.read]), localId]), v]])
  }

  /** The key store of one room (room key, box keys, epoch keys). */
  keys (localId: Uint8Array): RoomKeyStore {
    const prefix = b4a.concat([b4a.from([SUB.secret]), localId])
    const name = (n: string): Uint8Array => b4a.concat([prefix, b4a.from(n)])
    return {
      get: (n) => this.state.roomGet(name(n)),
      put: (n, value) => this.state.roomPut([[name(n), b4a.from(value)]])
    }
  }
}
