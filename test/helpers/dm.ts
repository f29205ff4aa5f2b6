/** DM test helpers: devices with feed key pairs and DM keys, deterministic randomness, a tiny conversation driver. */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { createDeviceKeys, type DeviceKeys } from '../../src/dm/device-keys.js'
import { keyPairSigner, type Signer } from '../../src/dm/keys-record.js'
import { openBox, sealBox, type DmContent, type OpenedBox } from '../../src/dm/envelope.js'
import { keepSession, sendingSession, startSession, type Session } from '../../src/dm/session.js'
import type { Rng } from '../../src/dm/primitives.js'

export const T0 = 1_700_000_000_000

/** A deterministic Rng: BLAKE2b(seed ‖ counter), so fixtures replay byte for byte. */
export function seededRng (seed: string): Rng {
  let counter = 0
  const key = b4a.alloc(32)
  sodium.crypto_generichash(key, b4a.from(seed))
  return (n) => {
    const out = b4a.alloc(n)
    for (let off = 0; off < n; off += 64) {
      const block = b4a.alloc(64)
      const ctr = b4a.alloc(8)
      new DataView(ctr.buffer).setBigUint64(0, BigInt(counter++))
      sodium.crypto_generichash(block, ctr, key)
      out.set(block.subarray(0, Math.min(64, n - off)), off)
    }
    return out
  }
}

/** A device: its feed key pair (ed25519) as signer, its DM keys, and its sessions by remote identity key (hex). */
export interface Device {
  name: string
  signer: Signer
  feed: Uint8Array
  keys: DeviceKeys
  sessions: Map<string, Session[]>
  seq: number
}

export function createDevice (name: string, rng?: Rng, now = T0): Device {
  const pk = b4a.alloc(32)
  const sk = b4a.alloc(64)
  if (rng !== undefined) sodium.crypto_sign_seed_keypair(pk, sk, rng(32))
  else sodium.crypto_sign_seed_keypair(pk, sk, (() => { const s = b4a.alloc(32); sodium.randombytes_buf(s); return s })())
  const signer = keyPairSigner({ publicKey: pk, secretKey: sk })
  return { name, signer, feed: pk, keys: createDeviceKeys({ signer, now, rng }), sessions: new Map(), seq: 0 }
}

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')

/** The session `from` sends to `to` in, starting one from `to`'s keys record when there is none. */
export function sessionFor (from: Device, to: Device, rng?: Rng): Session {
  const list = from.sessions.get(hex(to.keys.identity.publicKey)) ?? []
  const chosen = sendingSession(list)
  if (chosen !== null) return chosen
  const s = startSession(from.keys, to.keys.record, to.feed, rng)
  from.sessions.set(hex(to.keys.identity.publicKey), [s])
  return s
}

export interface Sent { block: Uint8Array, feed: Uint8Array, seq: number, sender: Device }

/** Seals `text` from `from` to the devices `to` and commits the sender's sessions. */
export function send (from: Device, to: Device[], text: string, opts: { rng?: Rng, now?: number } = {}): Sent {
  const sessions = to.map(d => sessionFor(from, d, opts.rng))
  const content: DmContent = { timestamp: opts.now ?? T0 + from.seq, recipients: [], text }
  const seq = ++from.seq
  const sealed = sealBox({ feed: from.feed, seq, content, sessions, rng: opts.rng })
  to.forEach((d, i) => {
    const key = hex(d.keys.identity.publicKey)
    const list = from.sessions.get(key) ?? []
    from.sessions.set(key, list.map(s => s === sessions[i] ? sealed.sessions[i] : s))
  })
  return { block: sealed.block, feed: from.feed, seq, sender: from }
}

/** Opens `m` at `to` with `to`'s sessions for the sender; commits the new session on success. */
export function receive (to: Device, m: Sent, rng?: Rng): OpenedBox | null {
  const key = hex(m.sender.keys.identity.publicKey)
  const sessions = to.sessions.get(key) ?? []
  const opened = openBox({ feed: m.feed, seq: m.seq, block: m.block, keys: to.keys, senderIdentityKey: m.sender.keys.identity.publicKey, sessions, rng })
  if (opened === null) return null
  to.sessions.set(key, keepSession(sessions, opened.session, opened.index))
  return opened
}

/** A deep copy of a device's sessions (what an attacker who copies the state at some moment holds). */
export function snapshot (d: Device): Device {
  return { ...d, sessions: new Map([...d.sessions].map(([k, v]) => [k, v.slice()])) }
}
