/**
 * Hyperswarm as a Transport: every identity topic is joined as both server (announce: we serve
 * these feeds) and client (look up peers that hold them).
 *
 * Joins are batched: a first discovery round (a DHT lookup and announce) costs tens of ms of a
 * DHT node's request window, and thousands started at once (one per follow) starve each other and
 * every connection attempt for minutes. So at most JOIN_CONCURRENCY first rounds run at a time, in
 * the order topics were joined; `discover` moves the topics a sync waits on to the front.
 */
import b4a from 'b4a'
import type Hyperswarm from 'hyperswarm'
import safetyCatch from 'safety-catch'
import type { Connection } from './peer-session.js'
import type { Transport } from './replicator.js'

/** First discovery rounds in flight at once (background joins). */
export const JOIN_CONCURRENCY = 4
/**
 * At most this many topics are unannounced at close: mine, then those on which a peer that
 * connected was found (others look those up). The others (thousands of follows nobody online serves) are left to
 * expire on the DHT: an unannounce is a DHT query each, and close waits for them.
 */
export const UNANNOUNCE_TOPICS = 16
/** Connected peers whose topics close looks at (topicsInUse): the most recent ones. */
const REACHED_KEPT = 64
/**
 * How long `discover` still waits for dials in progress once some peer is connected: a peer that
 * is announced but gone (it went offline; its announces outlive it) takes seconds to fail, and a
 * sync that reached a peer must not wait on that. A dial that succeeds later still replicates.
 */
const DIAL_GRACE_MS = 250

export class HyperswarmTransport implements Transport {
  private readonly listeners = new Map<(conn: Connection) => void, (conn: Connection) => void>()
  /** Topics (hex) joined but whose first round has not started, in join order. */
  private readonly queue = new Set<string>()
  /** Topics (hex) joined on the swarm, with their first round. */
  private readonly started = new Map<string, Promise<void>>()
  private inflight = 0
  private idle: Array<() => void> = []
  /** Holds taken by syncs (see `hold`): while any is taken, no background first round starts. */
  private holds = 0

  /**
   * Peers that connected, the REACHED_KEPT most recent (their topics are those they were found on;
   * hyperswarm forgets a peer once it disconnects, and the replicator closes every connection
   * before the transport closes).
   */
  private readonly reached = new Set<{ topics: Uint8Array[] }>()

  constructor (readonly swarm: Hyperswarm) {
    swarm.on('connection', (_conn: unknown, peer: { topics: Uint8Array[] }) => {
      this.reached.delete(peer) // to the back: most recent last
      this.reached.add(peer)
      if (this.reached.size > REACHED_KEPT) this.reached.delete(this.reached.values().next().value!)
    })
  }

  join (topic: Uint8Array, hex?: string): void {
    const h = hex ?? b4a.toString(topic, 'hex')
    if (this.started.has(h) || this.queue.has(h)) return
    this.queue.add(h)
    this.pump()
  }

  leave (topic: Uint8Array): void {
    const h = b4a.toString(topic, 'hex')
    if (this.queue.delete(h)) { this.pump(); return }
    if (!this.started.delete(h)) return
    this.swarm.leave(b4a.from(topic)).catch(safetyCatch)
  }

  /** Topics joined whose first discovery round has not finished. */
  get pending (): number {
    return this.queue.size + this.inflight
  }

  /** Resolves when every topic joined has had its first round and the peers found are connected. */
  async flush (): Promise<void> {
    while (this.queue.size > 0 || this.inflight > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
    await this.swarm.flush()
  }

  /** Per-topic discovery: a topic's lookup finds only the peers announcing it. */
  readonly perTopic = true

  /**
   * Starts the first round of `topics` now (ahead of the queue) and resolves when those rounds are
   * done and the peers found are connected, or, once some peer is connected, DIAL_GRACE_MS later
   * (with no peer connected, every dial counts).
   */
  async discover (topics: Uint8Array[]): Promise<void> {
    const rounds: Array<Promise<void>> = []
    for (const topic of topics) {
      const h = b4a.toString(topic, 'hex')
      if (this.queue.delete(h)) this.start(h)
      const first = this.started.get(h)
      if (first !== undefined) rounds.push(first)
    }
    await Promise.all(rounds)
    // Once some peer is connected, swarm.flush() is no longer waited for: it also waits for every
    // other topic's round in flight (the background ones), not only for these rounds' dials.
    const flushed = this.swarm.flush()
    let done = false
    flushed.then(() => { done = true }, () => { done = true })
    while (!done && !this.swarm.destroyed) {
      if (this.swarm.connections.size > 0) { await this.dialsWithin(DIAL_GRACE_MS); return }
      await this.nextUpdate(flushed)
    }
    while (this.swarm.connections.size === 0 && this.swarm.connecting > 0 && !this.swarm.destroyed) await this.nextUpdate(null)
  }

  /** Resolves when no dial is in progress, or after `ms`. */
  private async dialsWithin (ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | null = null
    let late = false
    const grace = new Promise<void>((resolve) => { timer = setTimeout(() => { late = true; resolve() }, ms) })
    try {
      while (this.swarm.connecting > 0 && !late && !this.swarm.destroyed) await this.nextUpdate(grace)
    } finally {
      if (timer !== null) clearTimeout(timer)
    }
  }

  /**
   * Pauses the background first rounds (those `discover` starts are not held) until the returned
   * release is called: a sync's own lookups and handshakes go first.
   */
  hold (): () => void {
    this.holds++
    let released = false
    return () => {
      if (released) return
      released = true
      this.holds--
      this.pump()
    }
  }

  /** Resolves on the swarm's next update (a peer found, connected or gone), or when `p` settles. */
  private async nextUpdate (p: Promise<unknown> | null): Promise<void> {
    let fn: () => void = () => {}
    const update = new Promise<void>((resolve) => { fn = resolve; this.swarm.once('update', fn) })
    try {
      await (p === null ? update : Promise.race([update, p.then(() => {}, () => {})]))
    } finally {
      this.swarm.off('update', fn)
    }
  }

  /**
   * Closes the swarm: our key's server record is unannounced (one query, waited on for at most
   * `ms`), so a peer that finds one of our stale announces fails fast instead of trying to
   * holepunch a key that is gone; so are mine and the topics peers were found on (topicsInUse),
   * within the same wait. The other topic announces expire on the DHT by themselves (and our next
   * run uses a new key).
   */
  async close (ms: number): Promise<void> {
    const unannounce = this.topicsInUse()
    this.queue.clear()
    this.started.clear()
    // Every discovery still joined is destroyed now (each holds a refresh timer that would keep the
    // process alive for minutes). Hyperswarm 4 unannounces each topic in destroy (a DHT query per
    // topic): only the first UNANNOUNCE_TOPICS do, awaited with the server record's unannounce
    // (the DHT's destroy below aborts whatever has not finished by then).
    skipUnannounce(this.swarm, unannounce)
    const cleared = this.swarm.clear()
    await settledWithin(Promise.all([this.swarm.server.close(), cleared]), ms)
    await this.swarm.dht.destroy({ force: true })
    await this.swarm.destroy({ force: true })
  }

  /**
   * Mine (the first topic started) and those on which a peer that connected was found, up to
   * UNANNOUNCE_TOPICS: those are in use. A peer found but never reached (a stale announce of a node
   * that is gone) does not count.
   */
  private topicsInUse (): Set<string> {
    const out = new Set<string>()
    const first = this.started.keys().next()
    if (first.done !== true) out.add(first.value)
    for (const peer of [...this.reached].reverse()) { // the most recent first
      for (const topic of peer.topics) {
        if (out.size >= UNANNOUNCE_TOPICS) return out
        const h = b4a.toString(topic, 'hex')
        if (this.started.has(h)) out.add(h)
      }
    }
    return out
  }

  private pump (): void {
    for (const h of this.queue) {
      if (this.inflight >= JOIN_CONCURRENCY || this.holds > 0) break
      this.queue.delete(h)
      this.start(h)
    }
    if (this.queue.size === 0 && this.inflight === 0) {
      const idle = this.idle
      this.idle = []
      for (const fn of idle) fn()
    }
  }

  private start (h: string): void {
    if (this.swarm.destroyed) return
    this.inflight++
    const discovery = this.swarm.join(b4a.from(h, 'hex'), { server: true, client: true })
    const first = discovery.flushed().then(() => {}, safetyCatch).finally(() => {
      this.inflight--
      this.pump()
    })
    this.started.set(h, first)
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

/**
 * Marks the joined discoveries of `swarm` whose topic (hex) is not in `keep` as having nothing to
 * unannounce (hyperswarm 4's PeerDiscovery `_needsUnannounce`, read in its `_abort`, in its
 * `_discovery` map keyed by topic hex; a no-op if a version lacks them).
 */
function skipUnannounce (swarm: Hyperswarm, keep: Set<string>): void {
  const discoveries = (swarm as unknown as { _discovery?: Map<string, { _needsUnannounce?: boolean }> })._discovery
  if (discoveries === undefined) return
  for (const [topic, d] of discoveries) if (d._needsUnannounce === true && !keep.has(topic)) d._needsUnannounce = false
}

/** True if `p` settles within `ms` (0: already settled, checked after pending callbacks run). */
async function settledWithin (p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | null = null
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  const done = p.then(() => true, () => true)
  const r = await Promise.race([done, late])
  if (timer !== null) clearTimeout(timer)
  return r
}
