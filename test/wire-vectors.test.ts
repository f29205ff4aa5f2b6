import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import fs from '#fs'
import { fixturePath } from './helpers/fixtures.js'
import { identityTopic } from '../src/caps.js'
import { keyPairFromSeed } from '../src/feeds/identity.js'
import { ShoalError } from '../src/errors.js'
import * as m from '../src/swarm/messages.js'
import * as pair from '../src/swarm/room-pair-wire.js'

interface Vectors {
  protocol: string
  inputs: Record<string, string>
  derived: Array<{ name: string, hex: string }>
  messages: Array<{ name: string, type: number | null, fields: Record<string, unknown>, hex: string }>
  invalid: Array<{ name: string, message: string, hex: string, code: string | null }>
}

const vectors = JSON.parse(await fs.readFile(fixturePath('wire-vectors.json'), 'utf8')) as Vectors
const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
const bytes = (h: string): Uint8Array => b4a.from(h, 'hex')

const encoders: Record<string, c.Encoder<any>> = { open: m.open, proofs: m.proofs, identify: m.identify, want: m.want, have: m.have, request: m.request }
const byType = ['proofs', 'identify', 'want', 'have', 'request']

/** The fields of a vector as the encoder's value (hex strings → bytes). */
function toValue (fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) {
    out[k] = typeof v === 'string' ? bytes(v) : Array.isArray(v) ? v.map((x) => bytes(x as string)) : v
  }
  return out
}

function toFields (value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = v instanceof Uint8Array ? hex(v) : Array.isArray(v) ? v.map((x) => hex(x as Uint8Array)) : v
  }
  return out
}

test('wire vectors – protocol name, message numbers and derived hashes', (t) => {
  t.is(vectors.protocol, m.PROTOCOL)
  t.alike(m.MESSAGE_TYPES, { proofs: 0, identify: 1, want: 2, have: 3, request: 4 })
  const hh = bytes(vectors.inputs.handshakeHash)
  const alice = keyPairFromSeed(bytes(vectors.inputs.aliceSeed))
  const bob = keyPairFromSeed(bytes(vectors.inputs.bobSeed))
  t.is(hex(alice.publicKey), vectors.inputs.alice)
  t.is(hex(bob.publicKey), vectors.inputs.bob)
  const derived = new Map(vectors.derived.map((d) => [d.name, d.hex]))
  t.is(hex(identityTopic(alice.publicKey)), derived.get('identityTopic(alice)'))
  t.is(hex(m.knowledgeProof(hh, true, alice.publicKey)), derived.get('knowledgeProof(handshakeHash, initiator=true, alice)'))
  t.is(hex(m.knowledgeProof(hh, false, alice.publicKey)), derived.get('knowledgeProof(handshakeHash, initiator=false, alice)'))
  t.alike(m.knowledgeProofs(hh, true, [alice.publicKey, bob.publicKey]).map(hex), [alice, bob].map((k) => hex(m.knowledgeProof(hh, true, k.publicKey))), 'knowledgeProofs: the same bytes for each identity')
  t.is(hex(m.knowledgeProofs(hh, false, [alice.publicKey])[0]!), derived.get('knowledgeProof(handshakeHash, initiator=false, alice)'))
  t.is(hex(m.identifyPayload(hh, true)), derived.get('identifyPayload(handshakeHash, initiator=true)'))
  t.is(hex(m.identifyPayload(hh, false)), derived.get('identifyPayload(handshakeHash, initiator=false)'))
})

test('wire vectors – every channel message encodes to its bytes and decodes back', (t) => {
  const seen = new Set<string>()
  for (const v of vectors.messages) {
    const name = v.type === null ? 'open' : byType[v.type]
    seen.add(name)
    const enc = encoders[name]
    t.is(hex(c.encode(enc, toValue(v.fields))), v.hex, `${v.name}: encode`)
    t.alike(toFields(c.decode(enc, bytes(v.hex)) as Record<string, unknown>), v.fields, `${v.name}: decode`)
  }
  t.alike([...seen].sort(), ['have', 'identify', 'open', 'proofs', 'request', 'want'], 'a vector for every message')
})

test('wire vectors – invalid messages are refused with their code', (t) => {
  for (const v of vectors.invalid) {
    try {
      c.decode(encoders[v.message], bytes(v.hex))
      t.fail(`${v.name}: decoded`)
    } catch (err) {
      if (v.code === null) t.absent(err instanceof ShoalError, `${v.name}: a decoding error`)
      else t.is((err as ShoalError).code, v.code, v.name)
    }
  }
})

test('wire vectors – shoal/room-pair/v1: its one message encodes to its bytes, and bad frames are refused', (t) => {
  const v = (vectors as unknown as { roomPair: { protocol: string, messageType: number, maxBytes: number, messages: Array<{ name: string, bytes: string, hex: string }>, invalid: Array<{ name: string, hex: string, code: string | null }> } }).roomPair
  t.is(v.protocol, pair.PAIR_PROTOCOL)
  t.is(v.messageType, pair.PAIR_MESSAGE_TYPE)
  t.is(v.maxBytes, pair.PAIR_MAX_BYTES)
  for (const msg of v.messages) {
    t.is(hex(c.encode(pair.pairFrame, bytes(msg.bytes))), msg.hex, `${msg.name}: encode`)
    t.is(hex(c.decode(pair.pairFrame, bytes(msg.hex))), msg.bytes, `${msg.name}: decode`)
  }
  for (const bad of v.invalid) {
    try {
      c.decode(pair.pairFrame, bytes(bad.hex))
      t.fail(`${bad.name}: decoded`)
    } catch (err) {
      if (bad.code === null) t.absent(err instanceof ShoalError, `${bad.name}: a decoding error`)
      else t.is((err as ShoalError).code, bad.code, bad.name)
    }
  }
})
