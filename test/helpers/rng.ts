/**
 * A seeded PRNG for the fuzz and random-history tests (mulberry32), so a failing run replays
 * exactly from the seed it prints. Portable: runs on Node and Bare.
 */
import process from '#process'
import b4a from 'b4a'

export class Rng {
  private s: number
  constructor (seed: number) { this.s = seed >>> 0 }

  /** A float in [0, 1). */
  next (): number {
    let x = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 0x100000000
  }

  /** An integer in [0, n). */
  int (n: number): number { return Math.floor(this.next() * n) }
  /** An integer in [lo, hi]. */
  range (lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)] }
  bytes (n: number): Uint8Array {
    const out = b4a.alloc(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

/** The seed in environment variable `name`, else a fresh random one (print it to replay a run). */
export function seedFrom (name: string): number {
  const given = process.env[name]
  return given !== undefined ? Number(given) >>> 0 : (Date.now() ^ (Math.random() * 0x100000000)) >>> 0
}
