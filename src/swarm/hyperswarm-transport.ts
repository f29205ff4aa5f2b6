/**
 * Hyperswarm as a Transport: every identity topic is joined as both server (announce: we serve
 * these feeds) and client (look up peers that hold them).
 */
import b4a from 'b4a'
import type Hyperswarm from 'hyperswarm'
import safetyCatch from 'safety-catch'
import type { Connection } from './peer-session.js'
import type { Transport } from './replicator.js'

export class HyperswarmTransport implements Transport {
  private readonly listeners = new Map<(conn: Connection) => void, (conn: Connection) => void>()

  constructor (readonly swarm: Hyperswarm) {}

  join (topic: Uint8Array): void {
    this.swarm.join(b4a.from(topic), { server: true, client: true })
  }

  leave (topic: Uint8Array): void {
    this.swarm.leave(b4a.from(topic)).catch(safetyCatch)
  }

  flush (): Promise<void> {
    return this.swarm.flush()
  }

  on (ev: 'connection', fn: (conn: Connection) => void): this {
    const wrapped = (conn: Connection): void => fn(conn)
    this.listeners.set(fn, wrapped)
    this.swarm.on(ev, wrapped)
    return this
  }

  off (ev: 'connection', fn: (conn: Connection) => void): this {
    const wrapped = this.listeners.get(fn)
    if (wrapped) this.swarm.off(ev, wrapped)
    this.listeners.delete(fn)
    return this
  }
}
