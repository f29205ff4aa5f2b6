/**
 * A multicast DNS socket over `#dgram` (Node's dgram, or bare-dgram on Bare): joins 224.0.0.251
 * on one interface or on every IPv4 interface, sends queries and responses, and emits decoded
 * ones. The subset of multicast-dns that LAN discovery uses, without Node built-ins.
 */
import dgram from '#dgram'
import EventEmitter from '#events'
import os from '#os'
import { decodePacket, encodePacket, type Packet, type RemoteInfo } from './mdns-packet.js'

const GROUP = '224.0.0.251'

export interface MdnsOptions {
  /** UDP port (default 5353). */
  port?: number
  /** IPv4 address of the one interface to use (default: all of them). */
  interface?: string
  /** Whether our own packets come back to us (default true). */
  loopback?: boolean
}

export interface Mdns {
  on (event: 'query' | 'response', fn: (packet: Packet, rinfo: RemoteInfo) => void): this
  on (event: 'ready', fn: () => void): this
  on (event: 'error' | 'warning', fn: (err: Error) => void): this
  once (event: 'ready', fn: () => void): this
  once (event: 'error' | 'warning', fn: (err: Error) => void): this
}

/**
 * Binds at construction; emits `ready` (after joining the group; a failed join is a `warning`
 * first), `error` for a bind failure, `warning` for malformed packets, and `query`/`response`.
 */
export class Mdns extends EventEmitter {
  private readonly _port: number
  private readonly _iface: string | undefined
  private readonly _socket: ReturnType<typeof dgram.createSocket>
  private readonly _joined: string[] = []
  private _destroyed = false

  constructor (opts: MdnsOptions = {}) {
    super()
    this._port = opts.port ?? 5353
    this._iface = opts.interface
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
    this._socket = socket
    socket.on('message', (message: Uint8Array, rinfo: RemoteInfo) => this._onmessage(message, rinfo))
    const onbinderror = (err: Error): void => { this.emit('error', err) }
    socket.once('error', onbinderror)
    socket.bind(this._port, '0.0.0.0', () => {
      socket.off('error', onbinderror)
      // Later socket errors (a send to a vanished route) lose one packet; the caller re-sends.
      socket.on('error', (err: Error) => this.emit('warning', err))
      this._join(opts.loopback !== false)
      this.emit('ready')
    })
  }

  /** Sends a query to the group. */
  query (packet: Packet, cb: (err: Error | null) => void = noop): void {
    this._send({ ...packet, type: 'query' }, cb)
  }

  /** Sends a response to the group. */
  respond (packet: Packet, cb: (err: Error | null) => void = noop): void {
    this._send({ ...packet, type: 'response' }, cb)
  }

  /** Leaves the group and closes the socket. */
  destroy (cb: () => void = noop): void {
    if (this._destroyed) {
      queueMicrotask(cb)
      return
    }
    this._destroyed = true
    for (const iface of this._joined) {
      try {
        this._socket.dropMembership(GROUP, iface)
      } catch {
        // the interface went away; closing the socket drops the membership anyway
      }
    }
    this._socket.close(() => cb())
  }

  private _join (loopback: boolean): void {
    const ifaces = this._iface !== undefined ? [this._iface] : allInterfaces()
    for (const iface of ifaces) {
      try {
        this._socket.addMembership(GROUP, iface)
        this._joined.push(iface)
      } catch (err) {
        this.emit('warning', err as Error)
      }
    }
    try {
      this._socket.setMulticastTTL(255)
      this._socket.setMulticastLoopback(loopback)
      if (this._iface !== undefined) this._socket.setMulticastInterface(this._iface)
    } catch (err) {
      this.emit('warning', err as Error)
    }
  }

  private _send (packet: Packet, cb: (err: Error | null) => void): void {
    if (this._destroyed) {
      queueMicrotask(() => cb(null))
      return
    }
    let message: Uint8Array
    try {
      message = encodePacket(packet)
    } catch (err) {
      queueMicrotask(() => cb(err as Error))
      return
    }
    this._socket.send(message, 0, message.byteLength, this._port, GROUP, (err?: Error | null) => cb(err ?? null))
  }

  private _onmessage (message: Uint8Array, rinfo: RemoteInfo): void {
    const packet = decodePacket(message)
    if (packet === null) {
      this.emit('warning', new Error('malformed mDNS packet'))
      return
    }
    if (packet.type === 'query') this.emit('query', packet, rinfo)
    else this.emit('response', packet, rinfo)
  }
}

/** The first IPv4 address of each interface (one membership per interface). */
function allInterfaces (): string[] {
  const out: string[] = []
  for (const list of Object.values(os.networkInterfaces())) {
    const v4 = (list ?? []).find((i) => i.family === 'IPv4' || (i.family as unknown) === 4)
    if (v4 !== undefined) out.push(v4.address)
  }
  return out
}

function noop (): void {}
