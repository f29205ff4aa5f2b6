/**
 * The `shoal/feeds` Protomux channel, declared once. On every connection both peers:
 *   1. open with `hello`: their identity and its signature over the Noise handshake hash
 *      (binds the identity to this connection; no replay),
 *   2. send `want`: the discovery topics of the identities they replicate (keyed hashes, so the
 *      list means nothing to a peer that does not already know those identities),
 *   3. answer a want with `have`: for each wanted identity they hold, the header blocks of its
 *      device feeds. Each header carries the identity's signature over its feed key, so the
 *      receiver verifies every entry and rejects any without a valid signature.
 * `have` is also pushed unasked (round 0) when a new device feed of a wanted identity appears.
 */
import c from 'compact-encoding'
import { namespaceHash } from '../caps.js'
import { ShoalError } from '../errors.js'
import type { IdentityKey } from '../ids.js'

export const PROTOCOL = 'shoal/feeds/v1'
export const HELLO_NAMESPACE = 'peer-hello/v1'

/** Caps on what a peer may send in one message. */
export const WIRE_CAPS = { topics: 100_000, entries: 4096, headerBytes: 1024 } as const

export interface Hello { version: number, identity: IdentityKey, signature: Uint8Array }
export interface Want { round: number, topics: Uint8Array[] }
export interface Have { round: number, headers: Uint8Array[] }

export function helloPayload (handshakeHash: Uint8Array): Uint8Array {
  return namespaceHash(HELLO_NAMESPACE, handshakeHash)
}

export const hello: c.Encoder<Hello> = {
  preencode (s, v) { c.uint.preencode(s, v.version); c.fixed32.preencode(s, v.identity); c.fixed64.preencode(s, v.signature) },
  encode (s, v) { c.uint.encode(s, v.version); c.fixed32.encode(s, v.identity); c.fixed64.encode(s, v.signature) },
  decode (s) { return { version: c.uint.decode(s), identity: c.fixed32.decode(s) as IdentityKey, signature: c.fixed64.decode(s) } }
}

function cappedArray<T> (enc: c.Encoder<T>, cap: number): c.Encoder<T[]> {
  return {
    preencode (s, v) { c.uint.preencode(s, v.length); for (const x of v) enc.preencode(s, x) },
    encode (s, v) { c.uint.encode(s, v.length); for (const x of v) enc.encode(s, x) },
    decode (s) {
      const n = c.uint.decode(s)
      if (n > cap) throw ShoalError.PROTOCOL_ERROR(`list of ${n} exceeds the cap of ${cap}`)
      const out: T[] = []
      for (let i = 0; i < n; i++) out.push(enc.decode(s))
      return out
    }
  }
}

const headerBlock: c.Encoder<Uint8Array> = {
  preencode (s, v) { c.buffer.preencode(s, v) },
  encode (s, v) { c.buffer.encode(s, v) },
  decode (s) {
    const b = c.buffer.decode(s)
    if (b === null || b.byteLength > WIRE_CAPS.headerBytes) throw ShoalError.PROTOCOL_ERROR('header entry is empty or too large')
    return b
  }
}

export const want: c.Encoder<Want> = {
  preencode (s, v) { c.uint.preencode(s, v.round); cappedArray(c.fixed32, WIRE_CAPS.topics).preencode(s, v.topics) },
  encode (s, v) { c.uint.encode(s, v.round); cappedArray(c.fixed32, WIRE_CAPS.topics).encode(s, v.topics) },
  decode (s) { return { round: c.uint.decode(s), topics: cappedArray(c.fixed32, WIRE_CAPS.topics).decode(s) } }
}

export const have: c.Encoder<Have> = {
  preencode (s, v) { c.uint.preencode(s, v.round); cappedArray(headerBlock, WIRE_CAPS.entries).preencode(s, v.headers) },
  encode (s, v) { c.uint.encode(s, v.round); cappedArray(headerBlock, WIRE_CAPS.entries).encode(s, v.headers) },
  decode (s) { return { round: c.uint.decode(s), headers: cappedArray(headerBlock, WIRE_CAPS.entries).decode(s) } }
}
