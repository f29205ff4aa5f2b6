/**
 * What both sides of the rooms benchmark share: the in-process replication mesh, the wait for a
 * condition re-checked on `update`, and the writers' burst loop (so both sides append alike).
 */
import safetyCatch from 'safety-catch'
import type Corestore from 'corestore'

/** Anything whose streams must join an Autobase wakeup protocol (a Room, or `base.wakeupProtocol`). */
export interface Replicable { addStream (s: unknown): void }

/** Full mesh of store replication; every stream joins each base's wakeup protocol. Returns stop. */
export function mesh (stores: Corestore[], bases: Replicable[][]): () => void {
  const streams: Array<{ destroy (): void }> = []
  for (let i = 0; i < stores.length; i++) {
    for (let j = i + 1; j < stores.length; j++) {
      const s1 = stores[i]!.replicate(true)
      const s2 = stores[j]!.replicate(false)
      s1.pipe(s2).pipe(s1)
      for (const b of bases[i]!) b.addStream(s1)
      for (const b of bases[j]!) b.addStream(s2)
      streams.push(s1, s2)
    }
  }
  return () => { for (const s of streams) s.destroy() }
}

type Emitter = { on (e: string, f: () => void): unknown, off (e: string, f: () => void): unknown }

/** Resolves when `done()` holds, re-checking on every `update` event of the given emitters. */
export async function until (emitters: Emitter[], done: () => Promise<boolean>): Promise<void> {
  for (;;) {
    let wake!: () => void
    const next = new Promise<void>(resolve => { wake = resolve })
    for (const e of emitters) e.on('update', wake)
    try {
      if (await done()) return
      await next
    } finally {
      for (const e of emitters) e.off('update', wake)
    }
  }
}

/**
 * One writer's run: `n` messages in bursts of `burst` appends issued together (Autobase folds the
 * appends that arrive while it is busy into one batch), awaiting each burst before the next.
 */
export async function writeBursts (n: number, burst: number, append: () => Promise<unknown>): Promise<void> {
  for (let done = 0; done < n; done += burst) {
    const size = Math.min(burst, n - done)
    const pending: Array<Promise<unknown>> = []
    for (let k = 0; k < size; k++) pending.push(append())
    await Promise.all(pending)
  }
}

interface Ackable { on (e: 'update', f: () => void): unknown, off (e: 'update', f: () => void): unknown, ack (): Promise<void> }

/**
 * Keeps an indexer acking while the others write: after every update of its base (which is how it
 * learns of new nodes), one ack at a time; `ack` appends only when there are nodes to confirm.
 * Without it, the nodes of writers that are still posting after the indexer stopped would stay
 * unindexed (held in memory, and reordered) until the indexer's next append. Returns stop.
 */
export function ackOnUpdate (base: Ackable): () => Promise<void> {
  let running: Promise<void> | null = null
  let again = false
  let stopped = false
  const kick = (): void => {
    if (stopped) return
    if (running !== null) { again = true; return }
    running = (async () => {
      do {
        again = false
        await base.ack()
      } while (again && !stopped)
    })().catch(safetyCatch).finally(() => { running = null })
  }
  base.on('update', kick)
  return async () => {
    stopped = true
    base.off('update', kick)
    while (running !== null) await running
  }
}

/** The timings one side reports (times in ms). */
export interface SideResult {
  /** From the first append until all three replicas hold all 3n messages. */
  ms: number
  /** From connecting the offline replica until it holds all 3n messages. */
  catchupMs: number
  /** Nodes the offline replica's apply was given during catch-up, per message. */
  appliesPerMessage: number
}

/** One side of the benchmark: three writers, a fourth replica kept offline, and how to use them. */
export interface Side<W extends Emitter> {
  stores: Corestore[]
  writers: W[]
  late: W
  /** What a replica's streams join (its base's wakeup protocol, or the room itself). */
  links: (w: W) => Replicable[]
  post: (w: W) => Promise<unknown>
  /** Messages the replica's view holds from this run. */
  messages: (w: W) => Promise<number>
  /** The indexer, kept acking while the others write. */
  indexer: Ackable
  /** Nodes the offline replica's apply is given. */
  stats: { applied: number }
}

/**
 * Times the three writers' `n` messages each (in bursts) until all three hold all 3n
 * (`onWritten` then), then the offline fourth replica's catch-up from all three, and stops
 * every stream it made: what each side of the benchmark measures, done alike on both.
 */
export async function writeThenCatchUp<W extends Emitter> (side: Side<W>, n: number, burst: number, onWritten: () => void): Promise<SideResult> {
  const { stores, writers, late } = side
  const stopWriters = mesh(stores.slice(0, 3), writers.map(side.links))
  const start = performance.now()
  const stopAcks = ackOnUpdate(side.indexer)
  await Promise.all(writers.map(async w => writeBursts(n, burst, async () => side.post(w))))
  await until(writers, async () => {
    for (const w of writers) if (await side.messages(w) !== 3 * n) return false
    return true
  })
  const ms = performance.now() - start
  onWritten()
  await stopAcks()
  const appliedBefore = side.stats.applied
  const t0 = performance.now()
  const stops = [0, 1, 2].map(i => mesh([stores[i]!, stores[3]!], [side.links(writers[i]!), side.links(late)]))
  await until([late], async () => await side.messages(late) === 3 * n)
  const catchupMs = performance.now() - t0
  const appliesPerMessage = (side.stats.applied - appliedBefore) / (3 * n)
  stopWriters()
  for (const s of stops) s()
  return { ms, catchupMs, appliesPerMessage }
}
