/**
 * The `shoal/room-devices/v1` channel (docs/SYNC.md): between two devices of the same identity
 * (both proved it with `identify` on `shoal/feeds/v2`), so a device restored later joins the
 * rooms of that identity. Each side sends `offer` (the rooms it is in: room key and Autobase
 * encryption key); the side that lacks a room opens it and answers `attest` (its device
 * attestation for that room); the side that is a writer there appends add-device.
 */
import Protomux from 'protomux'
import c from 'compact-encoding'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'
import { deviceAttestation } from '../groups/room-schema.js'
import type { DeviceAttestation } from '../groups/index.js'
import type { Connection } from './peer-session.js'

export const DEVICES_PROTOCOL = 'shoal/room-devices/v1'
/** Rooms per message. */
export const DEVICES_MAX_ROOMS = 256

export interface RoomOffer { key: Uint8Array, encryptionKey: Uint8Array }
export interface RoomAttest { key: Uint8Array, attestation: DeviceAttestation }

function list<T> (item: c.Encoder<T>): c.Encoder<T[]> {
  return {
    preencode (state, xs) { c.uint.preencode(state, xs.length); for (const x of xs) item.preencode(state, x) },
    encode (state, xs) { c.uint.encode(state, xs.length); for (const x of xs) item.encode(state, x) },
    decode (state) {
      const n = c.uint.decode(state)
      if (n > DEVICES_MAX_ROOMS) throw ShoalError.PROTOCOL_ERROR(`over ${DEVICES_MAX_ROOMS} rooms in a ${DEVICES_PROTOCOL} message`)
      const out: T[] = []
      for (let i = 0; i < n; i++) out.push(item.decode(state))
      return out
    }
  }
}

/** Message 0: `uint` n, n × (`fixed32` room key, `fixed32` encryption key). */
export const offerMessage = list<RoomOffer>({
  preencode (state, o) { c.fixed32.preencode(state, o.key); c.fixed32.preencode(state, o.encryptionKey) },
  encode (state, o) { c.fixed32.encode(state, o.key); c.fixed32.encode(state, o.encryptionKey) },
  decode (state) { return { key: c.fixed32.decode(state), encryptionKey: c.fixed32.decode(state) } }
})

/** Message 1: `uint` n, n × (`fixed32` room key, device attestation as in room-schema.ts). */
export const attestMessage = list<RoomAttest>({
  preencode (state, a) { c.fixed32.preencode(state, a.key); deviceAttestation.preencode(state, a.attestation) },
  encode (state, a) { c.fixed32.encode(state, a.key); deviceAttestation.encode(state, a.attestation) },
  decode (state) { return { key: c.fixed32.decode(state), attestation: deviceAttestation.decode(state) } }
})

export interface OwnDevicesHost {
  /** The rooms this device is in, to offer. */
  offers (): Promise<RoomOffer[]>
  /** Rooms the other device offered: open the missing ones; resolves with attestations for them. */
  onOffer (offers: RoomOffer[]): Promise<RoomAttest[]>
  /** Attestations of the other device for rooms this device is in: add it where I can write. */
  onAttest (attests: RoomAttest[]): Promise<void>
}

/**
 * Runs the channel on a connection whose remote proved my own identity. Returns a function that
 * offers my rooms again (after I joined or created one), or null if the channel already exists.
 */
export function syncOwnDevices (conn: Connection, host: OwnDevicesHost, onclose: () => void = () => {}): (() => void) | null {
  const mux = Protomux.from(conn)
  const channel = mux.createChannel({ protocol: DEVICES_PROTOCOL, onclose })
  if (channel === null) return null
  let attest: Protomux.Message<RoomAttest[]> | null = null
  const offer = channel.addMessage({
    encoding: offerMessage,
    onmessage: (m: RoomOffer[]) => {
      host.onOffer(m).then(a => { if (a.length > 0) attest?.send(a) }, safetyCatch)
    }
  })
  attest = channel.addMessage({ encoding: attestMessage, onmessage: (m: RoomAttest[]) => { host.onAttest(m).catch(safetyCatch) } })
  channel.open()
  const send = (): void => { host.offers().then(o => { if (!channel.closed) offer.send(o.slice(0, DEVICES_MAX_ROOMS)) }, safetyCatch) }
  send()
  return send
}
