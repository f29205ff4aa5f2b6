import test from 'brittle'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { KeyIndex } from '../src/swarm/key-index.js'

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
