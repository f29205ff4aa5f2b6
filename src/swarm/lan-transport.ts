/**
 * LAN discovery as a Transport. Nothing topic-specific is announced on the LAN (see lan.ts), so
 * join and leave do nothing: every Shoal node found is connected, and the `shoal/feeds` channel
 * decides what is exchanged. Peers may dial us as soon as discovery starts, before the
 * replicator listens, so connections are held until the first listener arrives.
 */
import safetyCatch from 'safety-catch'
import type { LanDiscovery } from './lan.js'
import type { Connection } from './peer-session.js'
import type { Transport } from './replicator.js'

type Listener = (conn: Connection) => void

export class LanTransport implements Transport {
  private readonly listeners = new Set<Listener>()
  private held: Connection[] = []

  constructor (readonly lan: LanDiscovery) {
    lan.on('connection', (conn: Connection) => {
      if (this.listeners.size === 0) {
        conn.on('error', safetyCatch)
        conn.on('close', () => { this.held = this.held.filter((c) => c !== conn) })
        this.held.push(conn)
        return
      }
      for (const fn of this.listeners) fn(conn)
    })
  }

  join (): void {}
  leave (): void {}

  flush (): Promise<void> {
    return this.lan.flush()
  }

  /** One LAN round covers every topic. */
  discover (): Promise<void> {
    return this.lan.flush()
  }

  readonly pending = 0
  /** One LAN round finds every Shoal node there is, whatever the topics. */
  readonly perTopic = false

  on (_ev: 'connection', fn: Listener): this {
    this.listeners.add(fn)
    const held = this.held
    this.held = []
    for (const conn of held) fn(conn)
    return this
  }

  off (_ev: 'connection', fn: Listener): this {
    this.listeners.delete(fn)
    return this
  }
}
