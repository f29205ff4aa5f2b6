import test from 'brittle'
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { identityTopic } from '../src/caps.js'
import { createSeed, keyPairFromSeed } from '../src/feeds/identity.js'
import { describeUndelivered, undelivered } from '../src/swarm/delivery.js'
import type { PeerSession } from '../src/swarm/peer-session.js'

const me = keyPairFromSeed(createSeed()).publicKey
const topic = b4a.toString(identityTopic(me), 'hex')

function session (wantsMe: boolean): PeerSession {
  const conn = {}
  return { conn, remoteIdentity: keyPairFromSeed(createSeed()).publicKey, wanted: new Set(wantsMe ? [topic] : []) } as unknown as PeerSession
}

function core (length: number, peers: Array<{ stream: unknown, remoteContiguousLength: number }>): Hypercore {
  return { key: b4a.alloc(32, length), length, peers, closing: null, closed: false } as unknown as Hypercore
}

test('delivery – which peers that want me lack which of my feeds, and why', (t) => {
  const follower = session(true)
  const stranger = session(false)
  const phone = core(5, [{ stream: follower.conn, remoteContiguousLength: 2 }, { stream: stranger.conn, remoteContiguousLength: 0 }])
  const laptop = core(3, [])
  const done = core(4, [{ stream: follower.conn, remoteContiguousLength: 4 }])
  const list = undelivered([follower, stranger], topic, [phone, laptop, done])
  t.alike(list.map((u) => [u.peer === follower, u.has, u.length, u.reason]), [
    [true, 2, 5, 'downloading'],
    [true, 0, 3, 'not-opened']
  ], 'only the follower counts; the complete feed is not listed')
  const text = describeUndelivered(list)
  t.ok(text.includes('holds 2/5') && text.includes('still downloading'), text)
  t.ok(text.includes('holds 0/3') && text.includes('has not opened it'))
  t.alike(undelivered([follower], topic, [core(4, [{ stream: follower.conn, remoteContiguousLength: 9 }])]), [], 'a peer ahead of us is not missing anything')
})
