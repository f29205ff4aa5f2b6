/**
 * `SHOAL_DEBUG`: what the network does, one line each on stderr with the ms since the process
 * started (serve and the one-shot sync): connections, peers identified and gone, drops, feed lists.
 */
import b4a from 'b4a'
import { escapeLine } from './escape.js'
import { identityToString } from '../ids.js'
import type { Shoal } from '../node/shoal.js'
import type { PeerDrop } from '../swarm/drop-log.js'
import type { PeerSession, Connection } from '../swarm/peer-session.js'

/** A logger writing `[ms since the process started] msg` lines to `write`. */
export function debugLogger (write: (line: string) => void): (msg: string) => void {
  // A drop's detail or a rejected entry's reason can carry a peer's bytes: one escaped line each.
  return (msg) => write(`[${Math.round(performance.now())} ms] ${escapeLine(msg)}\n`)
}

/** Logs the replicator's connections, peers, drops and accepted lists of `shoal` (joined). */
export function watchNetwork (shoal: Shoal, log: (msg: string) => void): void {
  const r = shoal.replicator
  if (r === null) return
  const key = (k: Uint8Array | null | undefined): string => k ? b4a.toString(k, 'hex').slice(0, 8) : '?'
  const who = (s: PeerSession): string => `${key(s.publicKey)} ${s.remoteIdentity ? identityToString(s.remoteIdentity).slice(0, 12) : '?'}`
  r.on('connection', (conn: Connection) => {
    log(`connection ${key(conn.remotePublicKey)} ${conn.isInitiator ? 'out' : 'in'}`)
    conn.on('close', () => log(`connection ${key(conn.remotePublicKey)} closed`))
  })
  r.on('peer', (s: PeerSession) => log(`peer ${who(s)} identified`))
  r.on('peer-close', (s: PeerSession) => log(`peer ${who(s)} left`))
  r.on('drop', (d: PeerDrop) => log(`drop ${JSON.stringify(d)}`))
  r.on('accepted', (ev: { from: PeerSession, entries: number, added: number }) => log(`feed list from ${who(ev.from)}: ${ev.entries} entries, ${ev.added} new identities`))
  r.on('rejected', (ev: { from: Uint8Array | null, reason: string }) => log(`rejected an entry from ${key(ev.from)}: ${ev.reason}`))
}
