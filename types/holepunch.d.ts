// Minimal declarations for untyped Holepunch modules, limited to what Shoal uses.

declare module 'safety-catch' {
  function safetyCatch (err: unknown): void
  export = safetyCatch
}

declare module 'z32' {
  export function encode (buf: Uint8Array): string
  export function decode (s: string): Uint8Array
  export const ALPHABET: string
}

declare module 'sodium-universal' {
  export const crypto_sign_PUBLICKEYBYTES: number
  export const crypto_sign_SECRETKEYBYTES: number
  export const crypto_sign_BYTES: number
  export const crypto_sign_SEEDBYTES: number
  export const crypto_generichash_BYTES: number
  export function crypto_sign_seed_keypair (pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void
  export function crypto_sign_detached (sig: Uint8Array, msg: Uint8Array, sk: Uint8Array): void
  export function crypto_sign_verify_detached (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean
  export function crypto_generichash (out: Uint8Array, input: Uint8Array, key?: Uint8Array): void
  export function crypto_generichash_batch (out: Uint8Array, inputs: Uint8Array[], key?: Uint8Array): void
  export function randombytes_buf (buf: Uint8Array): void
  export function sodium_memzero (buf: Uint8Array): void
}

declare module 'hypercore' {
  import { EventEmitter } from 'events'
  namespace Hypercore {
    interface Download { done (): Promise<void>, destroy (): void }
    /** A hypercore-storage instance (RocksDB); Corestore closes it with itself. */
    interface Storage { readonly __storage: true }
  }
  class Hypercore extends EventEmitter {
    /** The key of a core whose single signer is `publicKey` (default manifest). */
    static key (publicKey: Uint8Array): Uint8Array
    /** hypercore-storage on `dir`; `writeBufferSize` (bytes) is its RocksDB memtable size; `readOnly` opens it read-only (no device file, no lock). */
    static defaultStorage (dir: string, opts?: { writeBufferSize?: number, createIfMissing?: boolean, readOnly?: boolean }): Hypercore.Storage
    truncate (length: number): Promise<void>
    readonly key: Uint8Array | null
    readonly discoveryKey: Uint8Array | null
    readonly length: number
    readonly contiguousLength: number
    /** Bytes of the first `length` blocks, from the Merkle tree (known before they download). */
    readonly byteLength: number
    readonly writable: boolean
    readonly opened: boolean
    readonly closed: boolean
    readonly closing: Promise<void> | null
    readonly peers: unknown[]
    ready (): Promise<void>
    close (): Promise<void>
    append (block: Uint8Array | Uint8Array[]): Promise<{ length: number, byteLength: number }>
    get (index: number, opts?: { wait?: boolean, timeout?: number }): Promise<Uint8Array | null>
    has (index: number): Promise<boolean>
    purge (): Promise<void>
    findingPeers (): () => void
    clear (start: number, end?: number): Promise<unknown>
    /** The block holding byte `bytes` of the log and the offset in it (null when not known locally and `wait` is false). */
    seek (bytes: number, opts?: { wait?: boolean }): Promise<[number, number] | null>
    update (opts?: { wait?: boolean, force?: boolean }): Promise<boolean>
    download (range?: { start?: number, end?: number, linear?: boolean }): Hypercore.Download
  }
  export = Hypercore
}

declare module 'corestore' {
  import Hypercore from 'hypercore'
  import { EventEmitter } from 'events'
  class Corestore extends EventEmitter {
    constructor (storage: string | Hypercore.Storage, opts?: Record<string, unknown>)
    readonly opened: boolean
    readonly closed: boolean
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: Uint8Array | { key?: Uint8Array, name?: string, exclusive?: boolean, active?: boolean }): Hypercore
    session (opts?: Record<string, unknown>): Corestore
    namespace (name: string): Corestore
    createKeyPair (name: string): Promise<{ publicKey: Uint8Array, secretKey: Uint8Array }>
    replicate (isInitiatorOrStream: boolean | unknown, opts?: Record<string, unknown>): NodeJS.ReadWriteStream & { destroy (err?: Error): void, on (ev: string, fn: (...args: any[]) => void): unknown }
    /** Discovery keys of every core stored. */
    list (): AsyncIterable<Uint8Array>
    getAuth (discoveryKey: Uint8Array): Promise<{ key: Uint8Array } | null>
  }
  export = Corestore
}

declare module 'rocksdb-native' {
  namespace RocksDB {
    interface ReadBatch {
      get (key: Uint8Array): Promise<Uint8Array | null>
      flush (): Promise<void>
      tryFlush (): void
      destroy (): void
    }
    interface WriteBatch {
      put (key: Uint8Array, value: Uint8Array): Promise<void>
      tryPut (key: Uint8Array, value: Uint8Array): void
      tryDelete (key: Uint8Array): void
      tryDeleteRange (start: Uint8Array, end: Uint8Array): void
      flush (): Promise<void>
      destroy (): void
    }
    interface Range {
      gt?: Uint8Array
      gte?: Uint8Array
      lt?: Uint8Array
      lte?: Uint8Array
      reverse?: boolean
      limit?: number
      values?: boolean
      capacity?: number
    }
    interface Entry { key: Uint8Array, value: Uint8Array }
    interface Iterator extends AsyncIterable<Entry> {
      destroy (): void
      on (event: 'data', fn: (entry: Entry) => void): this
      on (event: 'end', fn: () => void): this
      on (event: 'error', fn: (err: Error) => void): this
    }
  }
  class RocksDB {
    constructor (path: string, opts?: Record<string, unknown>)
    ready (): Promise<void>
    close (): Promise<void>
    read (opts?: { capacity?: number, autoDestroy?: boolean }): RocksDB.ReadBatch
    write (opts?: { capacity?: number, autoDestroy?: boolean }): RocksDB.WriteBatch
    get (key: Uint8Array): Promise<Uint8Array | null>
    iterator (range: RocksDB.Range): RocksDB.Iterator
    snapshot (): RocksDB
    flush (): Promise<void>
    compactRange (start: Uint8Array, end: Uint8Array, opts?: { bottommostLevelCompaction?: number }): Promise<void>
    /** A RocksDB property (`rocksdb.num-running-compactions`, ...) as its string. */
    getProperty (name: string): Promise<string>
    /** Counters since open (rocksdb-native's own; more fields exist than declared). */
    readonly stats: { gets: number, puts: number, deletes: number, rangeDeletes: number, readBatches: number, writeBatches: number }
  }
  export = RocksDB
}

declare module 'protomux' {
  import type { Encoder } from 'compact-encoding'
  namespace Protomux {
    interface Message<T> { send (msg: T): boolean }
    interface MessageSpec<T> { encoding: Encoder<T>, onmessage? (msg: T): unknown }
    interface Channel {
      open (handshake?: unknown): void
      close (): void
      closed: boolean
      addMessage<T> (spec: MessageSpec<T>): Message<T>
      messages: Array<Message<any>>
    }
    interface ChannelOptions {
      protocol: string
      id?: Uint8Array | null
      handshake?: Encoder<any>
      messages?: Array<MessageSpec<any>>
      onopen? (handshake: any): unknown
      onclose? (): unknown
      ondestroy? (): unknown
      unique?: boolean
    }
  }
  class Protomux {
    static from (stream: unknown): Protomux
    createChannel (opts: Protomux.ChannelOptions): Protomux.Channel | null
    /** Calls `notify(id)` when the remote opens a channel of `protocol` (any id when `id` is null) that has no local channel yet. */
    pair (opts: { protocol: string, id?: Uint8Array | null }, notify: (id: Uint8Array | null) => void): void
  }
  export = Protomux
}

declare module '@hyperswarm/secret-stream' {
  import { Duplex } from 'stream'
  class NoiseSecretStream extends Duplex {
    constructor (isInitiator: boolean, rawStream?: unknown, opts?: { keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }, remotePublicKey?: Uint8Array })
    readonly isInitiator: boolean
    readonly rawStream: Duplex
    readonly handshakeHash: Uint8Array | null
    readonly publicKey: Uint8Array | null
    readonly remotePublicKey: Uint8Array | null
    userData: unknown
    opened: Promise<boolean>
    setTimeout (ms: number): void
    setKeepAlive (ms: number): void
  }
  export = NoiseSecretStream
}

declare module 'hyperdht' {
  import { EventEmitter } from 'events'
  class HyperDHT extends EventEmitter {
    constructor (opts?: { bootstrap?: Array<string | { host: string, port: number }>, host?: string, port?: number, ephemeral?: boolean, firewalled?: boolean })
    ready (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
    fullyBootstrapped (): Promise<void>
    address (): { host: string, port: number }
    static keyPair (seed?: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array }
    /** A DHT query for the announces of `topic` (hyperdht README, `dht.lookup`). */
    lookup (topic: Uint8Array): AsyncIterable<{ peers: Array<{ publicKey: Uint8Array }> }>
  }
  export = HyperDHT
}

declare module 'hyperdht/testnet.js' {
  import HyperDHT from 'hyperdht'
  interface Testnet {
    nodes: HyperDHT[]
    bootstrap: Array<{ host: string, port: number }>
    createNode (opts?: Record<string, unknown>): HyperDHT
    destroy (): Promise<void>
  }
  function createTestnet (size?: number, opts?: ((fn: () => unknown, opts?: { order?: number }) => void) | { host?: string, port?: number, bootstrap?: Array<{ host: string, port: number }>, teardown?: (fn: () => unknown, opts?: { order?: number }) => void }): Promise<Testnet>
  export = createTestnet
}

declare module 'hyperswarm' {
  import { EventEmitter } from 'events'
  import HyperDHT from 'hyperdht'
  import NoiseSecretStream from '@hyperswarm/secret-stream'
  namespace Hyperswarm {
    interface PeerInfo { publicKey: Uint8Array, topics: Uint8Array[], client: boolean }
    interface Discovery { flushed (): Promise<void>, destroy (): Promise<void> }
  }
  class Hyperswarm extends EventEmitter {
    constructor (opts?: { dht?: HyperDHT, keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }, bootstrap?: unknown, maxPeers?: number })
    readonly keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
    readonly connections: Set<NoiseSecretStream>
    readonly dht: HyperDHT
    join (topic: Uint8Array, opts?: { server?: boolean, client?: boolean }): Hyperswarm.Discovery
    leave (topic: Uint8Array): Promise<void>
    readonly destroyed: boolean
    /** Dials in progress. */
    readonly connecting: number
    /** Peers found or connected, by public key (hex); `topics` are those each was found on (hyperswarm 4 PeerInfo). */
    readonly peers: Map<string, { topics: Uint8Array[] }>
    /** The DHT server: its close unannounces our key's server record. */
    readonly server: { close (): Promise<void> }
    flush (): Promise<void>
    /** The discovery of a joined topic, or null if it is not joined. */
    status (topic: Uint8Array): Hyperswarm.Discovery | null
    /** Leaves every topic (unannouncing each), in parallel. */
    clear (): Promise<unknown>
    destroy (opts?: { force?: boolean }): Promise<void>
    on (ev: 'connection', fn: (conn: NoiseSecretStream, info: Hyperswarm.PeerInfo) => void): this
    on (ev: string, fn: (...args: any[]) => void): this
  }
  export = Hyperswarm
}
