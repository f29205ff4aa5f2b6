/**
 * 32-byte hashes I computed (knowledge proofs, identity topics) → values, findable by the bytes a
 * peer sent: keyed by a hash's first 6 bytes as a number, so a list of thousands costs no string
 * per entry; a full compare confirms a match, and the rare hashes whose number another took are
 * checked one by one. Only my own hashes are added, so a peer cannot fill the clash list.
 */
import b4a from 'b4a'

export class KeyIndex<T> {
  private readonly slots = new Map<number, number>()
  private readonly clashes: number[] = []
  private readonly keys: Uint8Array[] = []
  private readonly values: T[] = []

  /** Indexes `keys[i]` → `values[i]`. */
  constructor (keys: Uint8Array[] = [], values: T[] = []) {
    for (let i = 0; i < keys.length; i++) this.add(keys[i], values[i])
  }

  get size (): number {
    return this.keys.length
  }

  add (key: Uint8Array, value: T): void {
    const i = this.keys.length
    this.keys.push(key)
    this.values.push(value)
    const k = slotOf(key)
    if (this.slots.has(k)) this.clashes.push(i)
    else this.slots.set(k, i)
  }

  /** The value of `key`, or undefined (also for a key that is not 32 bytes). */
  get (key: Uint8Array): T | undefined {
    if (key.byteLength !== 32) return undefined
    const i = this.slots.get(slotOf(key))
    if (i !== undefined && b4a.equals(this.keys[i], key)) return this.values[i]
    for (const j of this.clashes) if (b4a.equals(this.keys[j], key)) return this.values[j]
    return undefined
  }
}

function slotOf (p: Uint8Array): number {
  return p[0] + p[1] * 0x100 + p[2] * 0x10000 + p[3] * 0x1000000 + p[4] * 0x100000000 + p[5] * 0x10000000000
}
