/**
 * The connections this node closed recently, and why: a bounded list the replicator fills and
 * `sync` / `status` report (the CLI prints it).
 */
import type { ShoalError, ShoalErrorCode } from '../errors.js'
import { identityToString } from '../ids.js'

/** How many recent drops are remembered. */
export const MAX_DROPS = 32

/** A connection this node closed: the peer's Noise key (z-base32), its identity if it proved one, why, when (ms). */
export interface PeerDrop { publicKey: string | null, identity: string | null, reason: ShoalErrorCode, detail: string, at: number }

export class DropLog {
  private readonly drops: PeerDrop[] = []

  constructor (private readonly now: () => number = Date.now) {}

  /** Records a drop and returns it (the oldest one goes past MAX_DROPS). */
  add (publicKey: Uint8Array | null, identity: Uint8Array | null, reason: ShoalError): PeerDrop {
    const drop: PeerDrop = {
      publicKey: publicKey === null ? null : identityToString(publicKey),
      identity: identity === null ? null : identityToString(identity),
      reason: reason.code,
      detail: reason.detail,
      at: this.now()
    }
    this.drops.push(drop)
    if (this.drops.length > MAX_DROPS) this.drops.shift()
    return drop
  }

  /** Drops at or after `since` (ms), oldest first. */
  since (since = 0): PeerDrop[] {
    return this.drops.filter((d) => d.at >= since)
  }
}
