import test from 'brittle'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { eachNamespaceHash, namespaceHashes } from '../src/caps.js'
import { KeyIndex } from '../src/swarm/key-index.js'
import { knowledgeProofs, matchKnowledgeProofs } from '../src/swarm/messages.js'

test('key index – finds each key added, and only by its full 32 bytes', (t) => {
  const keys = Array.from({ length: 1000 }, () => crypto.randomBytes(32))
  const index = new KeyIndex(keys, keys.map((_, i) => i))
  t.is(index.size, 1000)
  t.ok(keys.every((k, i) => index.get(b4a.from(k)) === i), 'every key, from a copy of its bytes')
  const near = b4a.from(keys[7])
  near[31] ^= 1
  t.is(index.get(near), undefined, 'same first 6 bytes, another key: not found')
  t.is(index.get(keys[7].subarray(0, 31)), undefined, 'a 31-byte prefix: not found')
  t.is(index.get(b4a.concat([keys[7], b4a.alloc(1)])), undefined, '33 bytes: not found')
  t.is(index.get(crypto.randomBytes(32)), undefined, 'a key never added: not found')
})

test('key index – keys that share their first 6 bytes are all found', (t) => {
  const prefix = crypto.randomBytes(6)
  const keys = Array.from({ length: 5 }, () => b4a.concat([prefix, crypto.randomBytes(26)]))
  const index = new KeyIndex<string>()
  keys.forEach((k, i) => index.add(k, `v${i}`))
  t.alike(keys.map((k) => index.get(b4a.from(k))), ['v0', 'v1', 'v2', 'v3', 'v4'])
  t.is(index.get(b4a.concat([prefix, crypto.randomBytes(26)])), undefined, 'a sixth key with the prefix, never added')
})

test('proof match – names the identities whose proofs a peer sent, in the order of its proofs, each once', (t) => {
  const hash = crypto.randomBytes(32)
  const ids = Array.from({ length: 300 }, () => crypto.randomBytes(32))
  const proofs = knowledgeProofs(hash, true, ids)
  const sent = [proofs[250], crypto.randomBytes(32), proofs[3], proofs[250], proofs[120].subarray(0, 31), b4a.concat([proofs[7], b4a.alloc(1)]), proofs[0]]
  const got = matchKnowledgeProofs(hash, true, ids, sent)
  t.alike(got.map(hex), [ids[250], ids[3], ids[0]].map(hex), 'by the first of equal proofs; unknown, 31- and 33-byte proofs name nobody')
  t.alike(matchKnowledgeProofs(hash, false, ids, sent), [], 'proofs of the other Noise role name nobody')
  t.alike(matchKnowledgeProofs(hash, true, [], sent), [])
  t.alike(matchKnowledgeProofs(hash, true, ids, []), [])
})

test('proof match – the same answer as a key index of every proof, for lists a peer sorted against it', (t) => {
  const hash = crypto.randomBytes(32)
  const ids = Array.from({ length: 2000 }, () => crypto.randomBytes(32))
  const proofs = knowledgeProofs(hash, false, ids)
  const index = new KeyIndex(proofs, ids)
  const sent = [...proofs.filter((_p, i) => i % 7 === 0), ...Array.from({ length: 500 }, () => crypto.randomBytes(32))].sort((a, b) => b4a.compare(b, a))
  const expected = sent.map((p) => index.get(p)).filter((id) => id !== undefined).map(hex)
  t.is(expected.length, Math.ceil(2000 / 7))
  t.alike(matchKnowledgeProofs(hash, false, ids, sent).map(hex), expected)
})

test('proof match – eachNamespaceHash visits the hashes namespaceHashes makes, in order', (t) => {
  const fixed = [crypto.randomBytes(32), b4a.from([1])]
  const varying = [crypto.randomBytes(32), crypto.randomBytes(16), crypto.randomBytes(32)]
  const seen: string[] = []
  eachNamespaceHash('test/v1', fixed, varying, (h, i) => { seen[i] = hex(h) })
  t.alike(seen, namespaceHashes('test/v1', fixed, varying).map(hex))
})

function hex (k: Uint8Array): string {
  return b4a.toString(k, 'hex')
}
