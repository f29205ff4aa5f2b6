// Minimal declarations for the modules used by LAN discovery (src/swarm/lan.ts), limited to what it uses.

// package.json "imports": Node's net on Node, bare-tcp on Bare (same subset: createServer, connect).
declare module '#net' {
  import net from 'net'
  export default net
}

// package.json "imports": Node's os on Node, bare-os on Bare (networkInterfaces).
declare module '#os' {
  import os from 'os'
  export default os
}

declare module 'multicast-dns' {
  import { EventEmitter } from 'events'
  namespace multicastDns {
    /** A resource record as dns-packet decodes it; remote data, so every field is unchecked. */
    interface Answer {
      name: string
      type: string
      ttl?: number
      class?: string
      flush?: boolean
      data: unknown
    }
    interface Question { name: string, type: string }
    interface Packet {
      type?: 'query' | 'response'
      flags?: number
      questions?: Question[]
      answers?: Answer[]
      additionals?: Answer[]
      authorities?: Answer[]
    }
    interface RemoteInfo { address: string, port: number, family: string, size: number }
    interface Options {
      port?: number
      type?: 'udp4'
      ip?: string
      interface?: string
      bind?: string | false
      multicast?: boolean
      ttl?: number
      loopback?: boolean
      reuseAddr?: boolean
    }
    interface MulticastDns extends EventEmitter {
      query (packet: Packet, cb?: (err: Error | null) => void): void
      respond (packet: Packet, cb?: (err: Error | null) => void): void
      destroy (cb?: () => void): void
      on (event: 'query' | 'response', fn: (packet: Packet, rinfo: RemoteInfo) => void): this
      on (event: 'ready', fn: () => void): this
      on (event: 'error' | 'warning', fn: (err: Error) => void): this
    }
  }
  function multicastDns (opts?: multicastDns.Options): multicastDns.MulticastDns
  export = multicastDns
}

declare module 'hypercore-crypto' {
  const crypto: {
    keyPair (seed?: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array }
    randomBytes (n: number): Uint8Array
  }
  export = crypto
}

// Used by tests only, to put records on the wire and read raw captures.
declare module 'dns-packet' {
  import multicastDns from 'multicast-dns'
  export function encode (packet: multicastDns.Packet): Uint8Array
  export function decode (buf: Uint8Array): multicastDns.Packet
}
