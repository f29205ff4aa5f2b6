// Minimal declarations for the untyped modules the rooms core uses, limited to what it calls.

declare module 'sodium-universal' {
  export const crypto_box_PUBLICKEYBYTES: number
  export const crypto_box_SECRETKEYBYTES: number
  export const crypto_box_SEALBYTES: number
  export const crypto_secretbox_KEYBYTES: number
  export const crypto_secretbox_NONCEBYTES: number
  export const crypto_secretbox_MACBYTES: number
  export function crypto_box_keypair (pk: Uint8Array, sk: Uint8Array): void
  export function crypto_box_seal (out: Uint8Array, msg: Uint8Array, pk: Uint8Array): void
  export function crypto_box_seal_open (out: Uint8Array, ct: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean
  export function crypto_secretbox_easy (out: Uint8Array, msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): void
  export function crypto_secretbox_open_easy (out: Uint8Array, ct: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean
}

declare module 'hyperbee' {
  namespace Hyperbee {
    interface Entry { seq: number, key: Uint8Array, value: Uint8Array }
    interface Range { gt?: Uint8Array, gte?: Uint8Array, lt?: Uint8Array, lte?: Uint8Array, reverse?: boolean, limit?: number }
    interface Batch {
      get (key: Uint8Array): Promise<Entry | null>
      put (key: Uint8Array, value: Uint8Array): Promise<void>
      del (key: Uint8Array): Promise<void>
      flush (): Promise<void>
      close (): Promise<void>
      createReadStream (range?: Range): AsyncIterable<Entry>
    }
  }
  class Hyperbee {
    constructor (core: unknown, opts?: { keyEncoding?: string, valueEncoding?: string, extension?: boolean })
    readonly version: number
    ready (): Promise<void>
    close (): Promise<void>
    get (key: Uint8Array): Promise<Hyperbee.Entry | null>
    batch (): Hyperbee.Batch
    createReadStream (range?: Hyperbee.Range): AsyncIterable<Hyperbee.Entry>
  }
  export = Hyperbee
}

declare module 'autobase' {
  import ReadyResource from 'ready-resource'
  import Corestore from 'corestore'
  import Hypercore from 'hypercore'
  namespace Autobase {
    interface Node { value: Uint8Array | null, from: { key: Uint8Array }, length: number }
    /** A writer as the `writer` event gives it: its core session (blocks decoded as oplog messages) and how many of its nodes are indexed. */
    interface Writer { readonly core: Hypercore, readonly indexed: number }
    interface Host {
      readonly key: Uint8Array
      readonly discoveryKey: Uint8Array
      addWriter (key: Uint8Array, opts?: { indexer?: boolean }): Promise<void>
      removeWriter (key: Uint8Array): Promise<void>
      removeable (key: Uint8Array): boolean
      interrupt (reason?: unknown): void
    }
    interface Options<V> {
      open (store: { get (name: string | Record<string, unknown>): Hypercore }): V
      apply (nodes: Node[], view: V, host: Host): Promise<void>
      close? (view: V): Promise<void>
      encryptionKey?: Uint8Array
      valueEncoding?: string
      ackInterval?: number
      fastForward?: boolean
      /** A shared protomux-wakeup (one per node, its streams added once); default: the base's own. */
      wakeup?: unknown
    }
  }
  class Autobase<V = unknown> extends ReadyResource {
    constructor (store: Corestore, bootstrap: Uint8Array | null, opts: Autobase.Options<V>)
    readonly key: Uint8Array
    readonly discoveryKey: Uint8Array
    readonly local: Hypercore
    readonly view: V
    readonly writable: boolean
    readonly isIndexer: boolean
    readonly length: number
    readonly signedLength: number
    append (value: Uint8Array | Uint8Array[]): Promise<number>
    heads (): Array<{ key: Uint8Array, length: number }>
    readonly wakeupProtocol: { addStream (stream: unknown): void }
    /** The wakeup topic session (null before ready): `broadcastLookup` asks every peer to announce its writers' heads again. */
    readonly wakeupSession: { broadcastLookup (req: Record<string, never>): void } | null
    /** The system view: `members` is the number of writers it knows, `indexers` the current indexers. */
    readonly system: { members: number, indexers: Array<{ key: Uint8Array }> } | null
    /** The Corestore session the base was given (it closes it). */
    readonly store: Corestore
    /** `writer`: a writer's core was opened (again after Autobase closed it while idle). */
    on (event: 'writer', listener: (writer: Autobase.Writer) => void): this
    on (event: string, listener: (...args: any[]) => void): this
    update (): Promise<void>
    ack (bg?: boolean): Promise<void>
    replicate (isInitiator: boolean | unknown, opts?: Record<string, unknown>): NodeJS.ReadWriteStream
    static getLocalKey (store: Corestore): Promise<Uint8Array>
  }
  export = Autobase
}

declare module 'blind-pairing-core' {
  interface Auth { key: Uint8Array, encryptionKey: Uint8Array | null, data: Uint8Array | null }
  export class CandidateRequest {
    constructor (invite: Uint8Array, userData: Uint8Array)
    readonly discoveryKey: Uint8Array
    readonly inviteId: Uint8Array
    encode (): Uint8Array
    handleResponse (payload: Uint8Array): Auth | null
    on (ev: 'rejected', fn: (err: Error & { code?: string }) => void): this
  }
  export class MemberRequest {
    static from (buf: Uint8Array): MemberRequest
    readonly inviteId: Uint8Array
    receipt: Uint8Array | null
    userData: Uint8Array | null
    response: Uint8Array | null
    open (publicKey: Uint8Array): Uint8Array
    confirm (res: { key: Uint8Array, encryptionKey?: Uint8Array | null }): void
    deny (opts?: { status?: number }): void
  }
  export function createInvite (key: Uint8Array, opts?: { expires?: number }): { id: Uint8Array, invite: Uint8Array, publicKey: Uint8Array, expires: number }
  export function decodeInvite (invite: Uint8Array): { id: Uint8Array, discoveryKey: Uint8Array, expires: number }
  export function createReceipt (invite: Uint8Array, userData: Uint8Array): { id: Uint8Array, receipt: Uint8Array }
  export function verifyReceipt (receipt: Uint8Array, publicKey: Uint8Array): Uint8Array | null
}

declare module 'protomux-wakeup' {
  /** One wakeup swarm: rooms share it, and every replication stream is added to it once. */
  class ProtomuxWakeup {
    constructor ()
    addStream (stream: unknown): void
    destroy (): void
  }
  export = ProtomuxWakeup
}

declare module 'blind-pairing' {
  import type { CandidateRequest, MemberRequest } from 'blind-pairing-core'
  namespace BlindPairing {
    interface Member { close (): Promise<void>, flushed (): Promise<void> }
    interface Candidate { close (): Promise<void>, readonly pairing: Promise<unknown>, readonly request: CandidateRequest }
  }
  /** Invite pairing over a HyperDHT rendezvous (mutable records + an announce per invite). */
  class BlindPairing {
    constructor (swarm: unknown, opts?: { poll?: number })
    addMember (opts: { discoveryKey: Uint8Array, onadd: (req: MemberRequest) => Promise<void> }): BlindPairing.Member
    addCandidate (opts: { invite: Uint8Array, userData: Uint8Array, onadd: (result: { key: Uint8Array, encryptionKey: Uint8Array | null }) => Promise<void> | void }): BlindPairing.Candidate
    close (): Promise<void>
  }
  export = BlindPairing
}
