/**
 * LAN discovery for when there is no DHT (SHOAL_BOOTSTRAP=none): nodes on one network find each
 * other with multicast DNS and connect directly over TCP, Noise-encrypted with
 * @hyperswarm/secret-stream exactly as Hyperswarm does. The rest of Shoal treats a stream from
 * here like a Hyperswarm connection (`store.replicate(stream)`, Protomux channels).
 *
 * Privacy: an announcement carries only a random per-run instance id, the TCP port, IPv4
 * addresses and the Noise public key (give it a fresh keypair per run, as network.ts does, so
 * runs cannot be linked). Never topics, identity keys or follows: who a node cares
 * about is only ever said inside the encrypted stream.
 *
 * Portability: TCP, UDP and interface listing go through package.json `imports` (#net, #dgram,
 * #os), and mDNS packets through Shoal's own codec (mdns-packet.ts), so this runs on Bare too.
 */
import ReadyResource from 'ready-resource'
import b4a from 'b4a'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import crypto from 'hypercore-crypto'
import net from '#net'
import os from '#os'
import { ShoalError } from '../errors.js'
import { Mdns } from './mdns.js'
import type { Answer, Packet, RemoteInfo } from './mdns-packet.js'
import { DEFAULT_SERVICE, MAX_ADDRESSES, MAX_RECORDS, RECORD_TTL, encodeAnnouncement, isIPv4, parseAnnouncements, type LanAnnouncement } from './lan-record.js'

export { DEFAULT_SERVICE, LAN_RECORD_VERSION, encodeAnnouncement, parseAnnouncements, type LanAnnouncement } from './lan-record.js'

type KeyPair = { publicKey: Uint8Array, secretKey: Uint8Array }

export const DEFAULT_INTERVAL = 5000
export const DEFAULT_WINDOW = 1500

const HANDSHAKE_TIMEOUT = 10_000
const KEEP_ALIVE = 5000
const CONNECTION_TIMEOUT = 20_000
const MAX_BACKOFF = 30_000
const MAX_PEERS = 256 // bounds memory under announcement floods
const MAX_STREAMS = 512
const RESPOND_GAP = 200 // at most one announcement per this many ms, however many queries arrive


export interface LanDiscoveryOptions {
  /** ed25519 Noise keypair, as Hyperswarm uses (e.g. hypercore-crypto `keyPair()`). */
  keyPair: KeyPair
  /** TCP bind address (default '0.0.0.0'). A specific IPv4 address also pins mDNS to that interface. */
  host?: string
  /** TCP port (default 0: random). */
  port?: number
  /** mDNS service name (default `_shoal._tcp.local`). */
  service?: string
  /** Milliseconds between queries (default 5000). */
  interval?: number
  /** Milliseconds `flush()` waits for responses (default 1500). */
  window?: number
  /** UDP port of mDNS (default 5353); tests use their own to stay apart. */
  mdnsPort?: number
}

export interface LanConnectionInfo {
  /** The remote Noise public key, proven by the handshake. */
  publicKey: Uint8Array
  /** True when we dialed (our key is the smaller one). */
  initiator: boolean
  /** The remote TCP address as `ip:port`. */
  address: string
}

interface Peer {
  announcement: LanAnnouncement
  address: string
  lastSeen: number
  failures: number
  retryAt: number
}

export interface LanDiscovery {
  on (event: 'connection', listener: (stream: NoiseSecretStream, info: LanConnectionInfo) => void): this
  on (event: string | symbol, listener: (...args: any[]) => void): this
  once (event: 'connection', listener: (stream: NoiseSecretStream, info: LanConnectionInfo) => void): this
  once (event: string | symbol, listener: (...args: any[]) => void): this
  off (event: 'connection', listener: (stream: NoiseSecretStream, info: LanConnectionInfo) => void): this
  off (event: string | symbol, listener: (...args: any[]) => void): this
}

/**
 * Finds Shoal nodes on the local network by mDNS and keeps at most one Noise connection to each.
 * The side with the smaller public key dials; the other waits to be dialed.
 */
export class LanDiscovery extends ReadyResource {
  readonly keyPair: KeyPair
  readonly service: string
  private readonly _host: string
  private readonly _port: number
  private readonly _interval: number
  private readonly _window: number
  private readonly _mdnsPort: number
  private readonly _instance = b4a.toString(crypto.randomBytes(8), 'hex')
  private _server: ReturnType<typeof net.createServer> | null = null
  private _mdns: Mdns | null = null
  private _boundPort = 0
  private _ticker: ReturnType<typeof setInterval> | null = null
  private _respondTimer: ReturnType<typeof setTimeout> | null = null
  private _lastRespond = 0
  private readonly _peers = new Map<string, Peer>()
  private readonly _connections = new Map<string, NoiseSecretStream>()
  private readonly _dialing = new Set<string>()
  private readonly _streams = new Set<NoiseSecretStream>()
  private readonly _pending = new Set<Promise<void>>()
  private readonly _waits = new Set<() => void>()

  constructor (opts: LanDiscoveryOptions) {
    super()
    const kp = opts?.keyPair
    if (kp == null || !(kp.publicKey instanceof Uint8Array) || kp.publicKey.byteLength !== 32 || !(kp.secretKey instanceof Uint8Array) || kp.secretKey.byteLength !== 64) {
      throw ShoalError.INVALID_ARGUMENT('LanDiscovery needs an ed25519 keyPair (32-byte publicKey, 64-byte secretKey)')
    }
    this.keyPair = kp
    this.service = (opts.service ?? DEFAULT_SERVICE).toLowerCase()
    this._host = opts.host ?? '0.0.0.0'
    this._port = opts.port ?? 0
    this._interval = opts.interval ?? DEFAULT_INTERVAL
    this._window = opts.window ?? DEFAULT_WINDOW
    this._mdnsPort = opts.mdnsPort ?? 5353
  }

  /** Live, handshaken connections, at most one per remote public key. */
  get connections (): Set<NoiseSecretStream> {
    return new Set(this._connections.values())
  }

  /** The bound TCP address, or null before open. */
  address (): { host: string, port: number } | null {
    return this._server === null ? null : { host: this._host, port: this._boundPort }
  }

  /**
   * Resolves after a full discovery round: a query sent, the response window elapsed, and every
   * dial or incoming handshake then in progress connected or failed.
   */
  async flush (): Promise<void> {
    await this.ready()
    if (this.closing !== null) return
    this._query()
    await this._wait(this._window)
    await Promise.all([...this._pending])
  }

  protected override async _open (): Promise<void> {
    try {
      await this._listen()
      await this._startMdns()
    } catch (err) {
      await this._shutdown()
      throw err
    }
    this._ticker = setInterval(() => this._tick(), this._interval)
    this._respond()
    this._query()
  }

  protected override async _close (): Promise<void> {
    await this._shutdown()
  }

  private async _listen (): Promise<void> {
    const server = net.createServer((socket) => this._onsocket(socket))
    this._server = server
    server.on('error', noop) // only listen() can fail, and that is reported below
    await new Promise<void>((resolve, reject) => {
      const onerror = (err: Error): void => reject(ShoalError.LAN_ERROR(`cannot listen on ${this._host}:${this._port}`, err))
      server.once('error', onerror)
      server.listen(this._port, this._host, () => {
        server.off('error', onerror)
        resolve()
      })
    })
    const addr = server.address()
    this._boundPort = typeof addr === 'object' && addr !== null ? addr.port : this._port
  }

  private async _startMdns (): Promise<void> {
    const iface = isIPv4(this._host) && this._host !== '0.0.0.0' ? this._host : undefined
    const mdns = new Mdns({ port: this._mdnsPort, interface: iface, loopback: true })
    this._mdns = mdns
    let warned: Error | null = null
    await new Promise<void>((resolve, reject) => {
      mdns.on('warning', (err) => { warned ??= err }) // malformed packets and membership hiccups
      mdns.once('error', (err) => reject(ShoalError.LAN_ERROR('cannot start multicast DNS', err)))
      mdns.once('ready', () => {
        // With a pinned interface, a failed membership or multicast-interface setting would send
        // our packets out of the default route instead: refuse rather than leak.
        if (iface !== undefined && warned !== null) reject(ShoalError.LAN_ERROR(`cannot use multicast on ${iface}`, warned))
        else resolve()
      })
    })
    // After start-up a socket error only loses a packet; the next tick sends again.
    mdns.on('error', noop)
    mdns.on('query', (packet) => this._onquery(packet))
    mdns.on('response', (packet, rinfo) => this._onresponse(packet, rinfo))
  }

  private async _shutdown (): Promise<void> {
    if (this._ticker !== null) clearInterval(this._ticker)
    if (this._respondTimer !== null) clearTimeout(this._respondTimer)
    this._ticker = this._respondTimer = null
    for (const done of [...this._waits]) done()

    const mdns = this._mdns
    this._mdns = null
    if (mdns !== null) {
      await new Promise<void>((resolve) => {
        // A goodbye (TTL 0) lets peers forget us now instead of re-dialing a closed port.
        if (this._lastRespond > 0) mdns.respond({ answers: this._records(0) }, () => resolve())
        else resolve()
      })
      await new Promise<void>((resolve) => mdns.destroy(() => resolve()))
    }

    for (const stream of this._streams) stream.destroy()
    const server = this._server
    this._server = null
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private _wait (ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this._waits.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this._waits.add(done)
    })
  }

  private _tick (): void {
    const expiry = Date.now() - (3 * this._interval + this._window)
    for (const [id, peer] of this._peers) {
      if (peer.lastSeen < expiry) this._peers.delete(id)
      else this._maybeDial(id, peer)
    }
    this._query()
  }

  private _query (): void {
    // Send errors (no route, interface down) only lose this round; the next tick retries.
    this._mdns?.query({ questions: [{ name: this.service, type: 'PTR' }] }, noop)
  }

  private _respond (): void {
    if (this._mdns === null || this._respondTimer !== null) return
    const wait = this._lastRespond + RESPOND_GAP - Date.now()
    if (wait > 0) {
      this._respondTimer = setTimeout(() => {
        this._respondTimer = null
        this._respond()
      }, wait)
      return
    }
    this._lastRespond = Date.now()
    this._mdns.respond({ answers: this._records(RECORD_TTL) }, noop)
  }

  private _records (ttl: number): Answer[] {
    return encodeAnnouncement({
      instance: this._instance,
      publicKey: this.keyPair.publicKey,
      port: this._boundPort,
      addresses: this._addresses(),
      ttl
    }, this.service)
  }

  private _addresses (): string[] {
    if (isIPv4(this._host) && this._host !== '0.0.0.0') return [this._host]
    const external: string[] = []
    const internal: string[] = []
    for (const list of Object.values(os.networkInterfaces())) {
      for (const iface of list ?? []) {
        if (iface.family !== 'IPv4' && (iface.family as unknown) !== 4) continue // Node 18 said 4
        if (iface.internal) internal.push(iface.address)
        else external.push(iface.address)
      }
    }
    return (external.length > 0 ? external : internal).slice(0, MAX_ADDRESSES)
  }

  private _onquery (packet: Packet): void {
    const questions = Array.isArray(packet.questions) ? packet.questions.slice(0, MAX_RECORDS) : []
    const own = this._instance + '.' + this.service
    for (const q of questions) {
      const name = typeof q?.name === 'string' ? q.name.toLowerCase() : ''
      if (name === this.service || name === own) return this._respond()
    }
  }

  private _onresponse (packet: Packet, rinfo: RemoteInfo): void {
    for (const ann of parseAnnouncements(packet, this.service)) this._onannouncement(ann, rinfo.address)
  }

  private _onannouncement (ann: LanAnnouncement, from: string): void {
    if (ann.instance === this._instance || b4a.equals(ann.publicKey, this.keyPair.publicKey)) return
    const id = b4a.toString(ann.publicKey, 'hex')
    if (ann.ttl === 0) {
      if (this._peers.get(id)?.announcement.instance === ann.instance) this._peers.delete(id)
      return
    }
    // The packet's source is on our link by definition; announced addresses only stand in for it
    // when they disagree (e.g. a node bound to a secondary address).
    const address = ann.addresses.length === 0 || ann.addresses.includes(from) ? from : ann.addresses[0]
    let peer = this._peers.get(id)
    if (peer === undefined) {
      if (this._peers.size >= MAX_PEERS) return
      peer = { announcement: ann, address, lastSeen: 0, failures: 0, retryAt: 0 }
      this._peers.set(id, peer)
    } else if (peer.announcement.instance !== ann.instance) {
      peer.failures = peer.retryAt = 0 // the peer restarted: forget its old failures
    }
    peer.announcement = ann
    peer.address = address
    peer.lastSeen = Date.now()
    this._maybeDial(id, peer)
  }

  private _maybeDial (id: string, peer: Peer): void {
    if (this.closing !== null || this._server === null) return
    if (b4a.compare(this.keyPair.publicKey, peer.announcement.publicKey) >= 0) return // they dial us
    if (this._connections.has(id) || this._dialing.has(id) || Date.now() < peer.retryAt) return
    if (this._streams.size >= MAX_STREAMS) return
    this._dialing.add(id)
    const { port, publicKey } = peer.announcement
    const socket = net.connect(port, peer.address)
    this._track(new NoiseSecretStream(true, socket, { keyPair: this.keyPair }), `${peer.address}:${port}`, publicKey)
  }

  private _onsocket (socket: ReturnType<typeof net.connect>): void {
    if (this.closing !== null || this._streams.size >= MAX_STREAMS) {
      socket.on('error', noop) // we are dropping it anyway
      socket.destroy()
      return
    }
    const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`
    this._track(new NoiseSecretStream(false, socket, { keyPair: this.keyPair }), address, null)
  }

  /** Follows one stream from handshake to close; `expected` is the announced key when we dialed. */
  private _track (stream: NoiseSecretStream, address: string, expected: Uint8Array | null): void {
    const initiator = expected !== null
    const dialId = initiator ? b4a.toString(expected, 'hex') : ''
    let opened = false
    let settle = noop
    const done = new Promise<void>((resolve) => { settle = resolve })
    const finish = (): void => {
      this._pending.delete(done)
      settle()
    }
    this._pending.add(done)
    this._streams.add(stream)
    stream.on('error', noop) // socket and handshake errors are normal on a LAN; 'close' follows
    stream.setTimeout(HANDSHAKE_TIMEOUT)

    stream.once('open', () => {
      opened = this._onopen(stream, address, expected)
      if (initiator) this._dialing.delete(dialId)
      finish()
    })
    stream.once('close', () => {
      this._streams.delete(stream)
      if (initiator) this._dialing.delete(dialId)
      const remote = stream.remotePublicKey
      if (remote !== null) {
        const id = b4a.toString(remote, 'hex')
        if (this._connections.get(id) === stream) this._connections.delete(id)
      }
      const peer = initiator ? this._peers.get(dialId) : undefined
      if (peer !== undefined) {
        if (!opened) peer.failures++
        peer.retryAt = Date.now() + Math.min(MAX_BACKOFF, 1000 * 2 ** Math.min(peer.failures, 5))
      }
      finish()
    })
  }

  /** Admits a handshaken stream, or destroys it; returns whether it became a connection. */
  private _onopen (stream: NoiseSecretStream, address: string, expected: Uint8Array | null): boolean {
    const remote = stream.remotePublicKey
    const initiator = expected !== null
    if (remote === null || this.closing !== null) {
      stream.destroy()
      return false
    }
    if (expected !== null && !b4a.equals(remote, expected)) {
      stream.destroy(ShoalError.LAN_ERROR('remote Noise key does not match its announcement'))
      return false
    }
    if (b4a.equals(remote, this.keyPair.publicKey)) {
      stream.destroy()
      return false
    }
    const id = b4a.toString(remote, 'hex')
    const existing = this._connections.get(id)
    if (existing !== undefined) {
      // Only the smaller key dials, so a second stream means that dialer lost the first one
      // (we may not have noticed yet): its newest stream wins, anything else is dropped.
      const theyDial = b4a.compare(remote, this.keyPair.publicKey) < 0
      if (initiator || !theyDial) {
        stream.destroy()
        return false
      }
      existing.destroy()
    }
    this._connections.set(id, stream)
    const peer = this._peers.get(id)
    if (peer !== undefined) peer.failures = 0
    stream.setTimeout(CONNECTION_TIMEOUT)
    stream.setKeepAlive(KEEP_ALIVE)
    this.emit('connection', stream, { publicKey: remote, initiator, address })
    return true
  }
}

function noop (): void {}
