/**
 * The `shoal/room-pair/v1` channel (docs/SYNC.md): invite pairing over Shoal's own encrypted
 * connections, on every transport (DHT or LAN). The joiner opens one channel per connection with
 * the room's discovery key as the channel id and sends one blind-pairing request; a device that
 * is an admin of that room answers with one reply (room-pairing.ts frames) and both sides close.
 * A device that is not an admin of that room makes no channel, so protomux rejects the open.
 */
import Protomux from 'protomux'
import c from 'compact-encoding'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'
import type { MessageChannel } from '../groups/index.js'
import { toHex } from '../ids.js'
import type { Connection } from './peer-session.js'

export const PAIR_PROTOCOL = 'shoal/room-pair/v1'
/** Largest request or reply accepted (a blind-pairing request with a device attestation is ~300 bytes). */
export const PAIR_MAX_BYTES = 4096
/** Pairing channels one connection may open with this device (answered or not). */
export const PAIR_PER_CONNECTION = 8

type Channel = Protomux.Channel

/** Message type 0 of the channel, both ways: `uint` length 1..PAIR_MAX_BYTES, then that many bytes. */
export const PAIR_MESSAGE_TYPE = 0
/** The one message of the channel (request one way, reply the other); malformed: PROTOCOL_ERROR. */
export const pairFrame: c.Encoder<Uint8Array> = {
  preencode (state, m) { c.buffer.preencode(state, m) },
  encode (state, m) { c.buffer.encode(state, m) },
  decode (state) {
    const m = c.buffer.decode(state)
    if (m === null || m.byteLength === 0 || m.byteLength > PAIR_MAX_BYTES) throw ShoalError.PROTOCOL_ERROR(`a ${PAIR_PROTOCOL} message is 1..${PAIR_MAX_BYTES} bytes`)
    if (state.start !== state.end) throw ShoalError.PROTOCOL_ERROR(`trailing bytes in a ${PAIR_PROTOCOL} message`)
    return m
  }
}

function createChannel (conn: Connection, id: Uint8Array, onclose: () => void): Channel | null {
  return Protomux.from(conn).createChannel({ protocol: PAIR_PROTOCOL, id, unique: false, onclose })
}

/**
 * Admin side on one connection: answers pairing channels whose id is the discovery key of a room
 * `answerer` returns a handler for; at most PAIR_PER_CONNECTION channels per connection.
 */
export function servePairing (conn: Connection, answerer: (discoveryKey: Uint8Array) => Promise<((ch: MessageChannel) => Promise<void>) | null>): void {
  const mux = Protomux.from(conn)
  let count = 0
  // protomux awaits notify, then rejects the remote's open if no channel was made for it
  mux.pair({ protocol: PAIR_PROTOCOL }, async (id: Uint8Array | null) => {
    if (id === null || id.byteLength !== 32 || count++ >= PAIR_PER_CONNECTION) return
    let handler: ((ch: MessageChannel) => Promise<void>) | null = null
    try {
      handler = await answerer(id)
    } catch (err) {
      safetyCatch(err) // the room closed meanwhile: not answered
    }
    if (handler === null) return
    let ch: Channel | null = null
    const inbox: Uint8Array[] = []
    let waiter: ((m: Uint8Array) => void) | null = null
    let got = false
    ch = createChannel(conn, id, () => { waiter?.(new Uint8Array(0)) })
    if (ch === null) return
    const channel = ch
    const msg = channel.addMessage({
      encoding: pairFrame,
      onmessage: (m: Uint8Array) => {
        if (got) { channel.close(); return } // one request per channel
        got = true
        if (waiter !== null) waiter(m)
        else inbox.push(m)
      }
    })
    channel.open()
    const answer = handler
    const mc: MessageChannel = {
      send: (m) => { msg.send(m) },
      receive: () => inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise(resolve => { waiter = resolve })
    }
    answer(mc).catch(safetyCatch).finally(() => channel.close())
  })
}

/**
 * Joiner side: a MessageChannel that sends the one request on every connection given to it (now
 * and later) and receives the first reply. A channel closed unanswered (no admin there) is ignored.
 */
export class PairingDialer implements MessageChannel {
  private request: Uint8Array | null = null
  private readonly channels = new Map<Connection, { channel: Channel, send: (m: Uint8Array) => void }>()
  private readonly waiters: Array<(m: Uint8Array) => void> = []
  private reply: Uint8Array | null = null

  constructor (readonly discoveryKey: Uint8Array) {}

  /** Starts pairing on one more connection. */
  add (conn: Connection): void {
    if (this.reply !== null || this.channels.has(conn)) return
    const ch = createChannel(conn, this.discoveryKey, () => { this.channels.delete(conn) })
    if (ch === null) return
    const msg = ch.addMessage({
      encoding: pairFrame,
      onmessage: (m: Uint8Array) => {
        this.onreply(m)
        ch.close()
      }
    })
    const send = (m: Uint8Array): void => { msg.send(m) }
    this.channels.set(conn, { channel: ch, send })
    ch.open()
    if (this.request !== null) send(this.request)
  }

  private onreply (m: Uint8Array): void {
    if (this.reply !== null) return
    this.reply = m
    for (const w of this.waiters.splice(0)) w(m)
    this.close()
  }

  send (m: Uint8Array): void {
    this.request = m
    for (const { send } of this.channels.values()) send(m)
  }

  receive (): Promise<Uint8Array> {
    if (this.reply !== null) return Promise.resolve(this.reply)
    return new Promise(resolve => this.waiters.push(resolve))
  }

  /** Closes every pairing channel still open. */
  close (): void {
    for (const { channel } of [...this.channels.values()]) channel.close()
    this.channels.clear()
  }

  get key (): string { return toHex(this.discoveryKey) }
}
