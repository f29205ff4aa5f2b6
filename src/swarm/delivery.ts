/**
 * Delivery of my own writes: which connected peers that want my identity still lack blocks of my
 * identity's device feeds, read from Hypercore's per-peer replication state (what each peer told
 * us it holds), and a wait for the next sign of progress.
 */
import type Hypercore from 'hypercore'
import { identityToString, feedToString, type FeedKey } from '../ids.js'
import type { PeerSession } from './peer-session.js'

/**
 * The part of a Hypercore replication peer read here (hypercore lib/replicator.js `Peer`): its
 * stream is the connection it rides on; `remoteContiguousLength` is what the peer said it holds
 * from block 0 (range messages), `remoteLength` the length it knows of.
 */
interface CorePeer {
  readonly stream: unknown
  readonly remoteContiguousLength: number
  readonly remoteLength: number
}

/** One peer that wants my identity and lacks blocks of one of my feeds. */
export interface Undelivered {
  peer: PeerSession
  feed: FeedKey
  /** Blocks the peer holds from block 0. */
  has: number
  /** Blocks it should hold (the feed's length here). */
  length: number
  reason: 'not-opened' | 'downloading'
}

/** Every (peer, feed) pair where a peer in `sessions` wanting `topic` (hex) lacks blocks of `cores`. */
export function undelivered (sessions: Iterable<PeerSession>, topic: string, cores: Hypercore[]): Undelivered[] {
  const out: Undelivered[] = []
  for (const s of sessions) {
    if (s.remoteIdentity === null || !s.wanted.has(topic)) continue
    for (const core of cores) {
      if (core.length === 0 || core.closing || core.closed) continue
      const peer = (core.peers as CorePeer[]).find((p) => p.stream === s.conn)
      const has = peer === undefined ? 0 : Math.min(peer.remoteContiguousLength, core.length)
      if (has >= core.length) continue
      out.push({ peer: s, feed: core.key as FeedKey, has, length: core.length, reason: peer === undefined ? 'not-opened' : 'downloading' })
    }
  }
  return out
}

/** One line per pair, for a SYNC_TIMEOUT message. */
export function describeUndelivered (list: Undelivered[]): string {
  return list.map((u) => {
    const who = u.peer.remoteIdentity ? identityToString(u.peer.remoteIdentity).slice(0, 12) + '…' : 'a peer'
    const why = u.reason === 'not-opened' ? 'has not opened it' : 'still downloading'
    return `peer ${who} holds ${u.has}/${u.length} of my feed ${feedToString(u.feed).slice(0, 12)}… (${why})`
  }).join('; ')
}

/** A range message from a peer fires no event, so the wait re-checks on this tick too. */
const RECHECK_MS = 100

/**
 * Resolves on the next sign that delivery may have moved: a block uploaded, a peer attaching to or
 * leaving one of `cores`, an append, a remote contiguous length rising, a session closing, or the
 * re-check tick.
 */
export function nextProgress (cores: Hypercore[], sessions: { on (ev: 'peer-close', fn: () => void): unknown, off (ev: 'peer-close', fn: () => void): unknown }): Promise<void> {
  const events = ['upload', 'peer-add', 'peer-remove', 'append', 'remote-contiguous-length', 'close']
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      for (const core of cores) for (const ev of events) core.off(ev, done)
      sessions.off('peer-close', done)
      resolve()
    }
    const timer = setTimeout(done, RECHECK_MS)
    for (const core of cores) for (const ev of events) core.on(ev, done)
    sessions.on('peer-close', done)
  })
}
