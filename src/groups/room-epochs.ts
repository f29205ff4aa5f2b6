/**
 * Epoch keys on one device: opening this device's shares from the view (cached in the key store,
 * primary state), sealing every held key to a new device, and building the rotate op an admin
 * device appends after a removal.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Hyperbee from 'hyperbee'
import { ROLE } from './room-caps.js'
import { randomKey, sealKey, openKey, type BoxKeyPair } from './room-crypto.js'
import type { RoomKeyStore } from './room-keys.js'
import type { EpochShare, RotateEpochOp } from './room-schema.js'
import { getInfo, getShare, getDevice, getMember, activeDevices } from './room-view.js'

function hash (buf: Uint8Array): Uint8Array {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, buf)
  return out
}

export class EpochKeys {
  readonly #store: RoomKeyStore
  readonly #box: BoxKeyPair

  constructor (store: RoomKeyStore, box: BoxKeyPair) {
    this.#store = store
    this.#box = box
  }

  /** The key of `epoch` from `device`'s share in the view; null when there is no share for us. */
  async key (view: Hyperbee, device: Uint8Array, epoch: number): Promise<Uint8Array | null> {
    const share = await getShare(view, epoch, device)
    if (share === null) return null
    const h = hash(share)
    const name = 'epoch/' + epoch
    const cached = await this.#store.get(name)
    // the share hash guards against a cached key from a rotate that a reorder replaced
    if (cached !== null && b4a.equals(cached.subarray(0, 32), h)) return cached.subarray(32)
    const key = openKey(share, this.#box)
    if (key === null) return null
    await this.#store.put(name, b4a.concat([h, key]))
    return key
  }

  /** Every epoch key `device` holds, each sealed to `boxKey` (a device being added). */
  async sharesFor (view: Hyperbee, device: Uint8Array, boxKey: Uint8Array): Promise<EpochShare[]> {
    const info = await getInfo(view)
    const shares: EpochShare[] = []
    for (let e = 0; info !== null && e <= info.epoch; e++) {
      const key = await this.key(view, device, e)
      if (key !== null) shares.push({ epoch: e, sealed: sealKey(key, boxKey) })
    }
    return shares
  }
}

/** The rotate op `device` should append now: only when the view needs one and `device` is an active admin's. */
export async function rotation (view: Hyperbee, device: Uint8Array): Promise<RotateEpochOp | null> {
  const info = await getInfo(view)
  if (info === null || !info.needsRotation) return null
  const me = await getDevice(view, device)
  if (me === null || me.removed) return null
  const member = await getMember(view, me.identity)
  if (member === null || member.removed || member.role !== ROLE.admin) return null
  const epochKey = randomKey()
  const shares = (await activeDevices(view)).map(d => ({ device: d.device, sealed: sealKey(epochKey, d.boxKey) }))
  return { epoch: info.epoch + 1, shares }
}
