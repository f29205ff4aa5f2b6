/**
 * The `shoal/feeds/v2` Protomux channel, declared once (byte layouts in docs/SYNC.md). On every
 * connection both peers:
 *   1. open the channel with `open` {version, proofs}: for each identity they want or hold, a hash
 *      of the Noise handshake hash, their Noise role and the identity key. Only a peer that knows
 *      the key can recompute one; to anyone else the list is fresh random bytes.
 *   2. If the remote's proofs name an identity I want or hold, send `identify`: my identity and
 *      its signature over the handshake hash and my role. Otherwise send nothing more (and
 *      `proofs` again when my scope changes).
 *   3. Once both sides identified: `want` {round, topics} and `have` {round, headers} as before:
 *      each header carries the identity's signature over its feed key and is checked on receipt.
 * `have` is also pushed unasked (round 0) when a new device feed of a wanted identity appears.
 *   4. `request` (only between identified peers): "I wrote you DMs in these conversations; here
 *      are my device feeds": a message request for a peer whose scope does not include me.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { eachNamespaceHash, namespaceHash, namespaceHasher, namespaceHashes } from '../caps.js'
import { ShoalError } from '../errors.js'
import type { IdentityKey } from '../ids.js'

export const PROTOCOL = 'shoal/feeds/v2'
/** The `version` field of `open`; a peer with another version is dropped. */
export const PROTOCOL_VERSION = 2
export const PROOF_NAMESPACE = 'peer-proof/v2'
export const IDENTIFY_NAMESPACE = 'peer-identify/v2'

/** Caps on what a peer may send in one message (entries, bytes). */
export const WIRE_CAPS = { proofs: 4096, topics: 4096, entries: 4096, headerBytes: 1024, requestConversations: 16, requestFeeds: 16 } as const

/** Message type numbers inside the channel (Protomux's order of addMessage). */
export const MESSAGE_TYPES = { proofs: 0, identify: 1, want: 2, have: 3, request: 4 } as const

export interface Open { version: number, proofs: Uint8Array[] }
export interface Proofs { proofs: Uint8Array[] }
export interface Identify { identity: IdentityKey, signature: Uint8Array }
export interface Want { round: number, topics: Uint8Array[] }
export interface Have { round: number, headers: Uint8Array[] }
/** A message request: conversation ids (32 bytes) with DMs for the receiver, and the sender's device feed headers. */
export interface Request { conversations: Uint8Array[], headers: Uint8Array[] }

/** The role byte: 1 for the side that started the Noise handshake, 0 for the other. */
function role (initiator: boolean): Uint8Array {
  return initiator ? ROLES[1] : ROLES[0]
}

const ROLES = [b4a.from([0]), b4a.from([1])]
/** A node hashes a proof per identity it wants or holds on every connection: thousands. */
const proofHash = namespaceHasher(PROOF_NAMESPACE)

/** Proof that the sender (of Noise role `initiator`) knows `identity`, bound to this session. */
export function knowledgeProof (handshakeHash: Uint8Array, initiator: boolean, identity: Uint8Array): Uint8Array {
  return proofHash(handshakeHash, role(initiator), identity)
}

/**
 * `knowledgeProof` of each of `identities`, the same bytes, hashed from one reused input buffer
 * (`namespaceHashes`): thousands per connection.
 */
export function knowledgeProofs (handshakeHash: Uint8Array, initiator: boolean, identities: Uint8Array[]): Uint8Array[] {
  return namespaceHashes(PROOF_NAMESPACE, [handshakeHash, role(initiator)], identities)
}

/**
 * The identities of `identities` whose knowledgeProof (by a sender of Noise role `initiator`) is
 * in `proofs`, in the order of `proofs` (each once, by its first proof): a hash per identity into
 * one reused buffer, looked up in a sorted copy of `proofs`, so a peer's list cannot slow the lookup.
 */
export function matchKnowledgeProofs (handshakeHash: Uint8Array, initiator: boolean, identities: Uint8Array[], proofs: Uint8Array[]): Uint8Array[] {
  if (proofs.length === 0 || identities.length === 0) return []
  // Proof indices by (bytes, index): a lower bound finds the first of equal proofs.
  const order = proofs.map((_p, i) => i).sort((a, b) => b4a.compare(proofs[a], proofs[b]) || a - b)
  const hits: Array<{ at: number, id: Uint8Array }> = []
  eachNamespaceHash(PROOF_NAMESPACE, [handshakeHash, role(initiator)], identities, (hash, i) => {
    let lo = 0
    let hi = order.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (b4a.compare(proofs[order[mid]], hash) < 0) lo = mid + 1
      else hi = mid
    }
    if (lo < order.length && b4a.equals(proofs[order[lo]], hash)) hits.push({ at: order[lo], id: identities[i] })
  })
  return hits.sort((a, b) => a.at - b.at).map((h) => h.id)
}

/** What the sender of `identify` (of Noise role `initiator`) signs with its identity key. */
export function identifyPayload (handshakeHash: Uint8Array, initiator: boolean): Uint8Array {
  return namespaceHash(IDENTIFY_NAMESPACE, handshakeHash, role(initiator))
}

function cappedArray<T> (enc: c.Encoder<T>, cap: number): c.Encoder<T[]> {
  return {
    preencode (s, v) { c.uint.preencode(s, v.length); for (const x of v) enc.preencode(s, x) },
    encode (s, v) {
      if (v.length > cap) throw ShoalError.PROTOCOL_ERROR(`list of ${v.length} exceeds the cap of ${cap}`)
      c.uint.encode(s, v.length)
      for (const x of v) enc.encode(s, x)
    },
    decode (s) {
      const n = c.uint.decode(s)
      if (n > cap) throw ShoalError.PROTOCOL_ERROR(`list of ${n} exceeds the cap of ${cap}`)
      const out: T[] = []
      for (let i = 0; i < n; i++) out.push(enc.decode(s))
      return out
    }
  }
}

/** Every message must end exactly where its frame ends. */
function whole<T> (enc: c.Encoder<T>): c.Encoder<T> {
  return {
    preencode: enc.preencode,
    encode: enc.encode,
    decode (s) {
      const v = enc.decode(s)
      if (s.start !== s.end) throw ShoalError.PROTOCOL_ERROR('trailing bytes after a message')
      return v
    }
  }
}

const headerBlock: c.Encoder<Uint8Array> = {
  preencode (s, v) { c.buffer.preencode(s, v) },
  encode (s, v) { c.buffer.encode(s, v) },
  decode (s) {
    const b = c.buffer.decode(s)
    if (b === null || b.byteLength === 0 || b.byteLength > WIRE_CAPS.headerBytes) throw ShoalError.PROTOCOL_ERROR('header entry is empty or too large')
    return b
  }
}

const proofList = cappedArray(c.fixed32, WIRE_CAPS.proofs)
const topicList = cappedArray(c.fixed32, WIRE_CAPS.topics)
const headerList = cappedArray(headerBlock, WIRE_CAPS.entries)

/** The channel's open handshake. */
export const open: c.Encoder<Open> = whole({
  preencode (s, v) { c.uint.preencode(s, v.version); proofList.preencode(s, v.proofs) },
  encode (s, v) { c.uint.encode(s, v.version); proofList.encode(s, v.proofs) },
  decode (s) {
    const version = c.uint.decode(s)
    if (version !== PROTOCOL_VERSION) throw ShoalError.PROTOCOL_ERROR(`peer speaks version ${version}, not ${PROTOCOL_VERSION}`)
    return { version, proofs: proofList.decode(s) }
  }
})

export const proofs: c.Encoder<Proofs> = whole({
  preencode (s, v) { proofList.preencode(s, v.proofs) },
  encode (s, v) { proofList.encode(s, v.proofs) },
  decode (s) { return { proofs: proofList.decode(s) } }
})

export const identify: c.Encoder<Identify> = whole({
  preencode (s, v) { c.fixed32.preencode(s, v.identity); c.fixed64.preencode(s, v.signature) },
  encode (s, v) { c.fixed32.encode(s, v.identity); c.fixed64.encode(s, v.signature) },
  decode (s) { return { identity: c.fixed32.decode(s) as IdentityKey, signature: c.fixed64.decode(s) } }
})

export const want: c.Encoder<Want> = whole({
  preencode (s, v) { c.uint.preencode(s, v.round); topicList.preencode(s, v.topics) },
  encode (s, v) { c.uint.encode(s, v.round); topicList.encode(s, v.topics) },
  decode (s) { return { round: c.uint.decode(s), topics: topicList.decode(s) } }
})

export const have: c.Encoder<Have> = whole({
  preencode (s, v) { c.uint.preencode(s, v.round); headerList.preencode(s, v.headers) },
  encode (s, v) { c.uint.encode(s, v.round); headerList.encode(s, v.headers) },
  decode (s) { return { round: c.uint.decode(s), headers: headerList.decode(s) } }
})

const conversationList = cappedArray(c.fixed32, WIRE_CAPS.requestConversations)
const requestHeaders = cappedArray(headerBlock, WIRE_CAPS.requestFeeds)

/** A message request (type 4): at least one conversation and one device feed header. */
export const request: c.Encoder<Request> = whole({
  preencode (s, v) { conversationList.preencode(s, v.conversations); requestHeaders.preencode(s, v.headers) },
  encode (s, v) { conversationList.encode(s, v.conversations); requestHeaders.encode(s, v.headers) },
  decode (s) {
    const conversations = conversationList.decode(s)
    const headers = requestHeaders.decode(s)
    if (conversations.length === 0 || headers.length === 0) throw ShoalError.PROTOCOL_ERROR('a request names no conversation or no feed')
    return { conversations, headers }
  }
})
