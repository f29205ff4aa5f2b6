/**
 * What one peer may cost this node: the limits (all configurable through `JoinOptions.limits`)
 * and the per-connection budget that counts messages, bytes and rejected entries per window.
 */
import { ShoalError } from '../errors.js'

export interface PeerLimits {
  /** Device feeds tracked per identity; further attested feeds of it are ignored. */
  feedsPerIdentity: number
  /** Connections (open or still in the handshake) kept at once; see Replicator.connect. */
  maxPeers: number
  /** A connection whose channel has not opened (and proofs been exchanged) by then is dropped (ms). */
  helloTimeoutMs: number
  /** Budget window (ms) for the three counts below. */
  windowMs: number
  /** Channel messages a peer may send per window. */
  messages: number
  /** Channel bytes a peer may send per window. */
  bytes: number
  /** Feed-list entries of a peer that may fail a check per window. */
  rejections: number
}

export const DEFAULT_LIMITS: Readonly<PeerLimits> = {
  feedsPerIdentity: 16,
  maxPeers: 48,
  helloTimeoutMs: 10_000,
  windowMs: 10_000,
  messages: 512,
  bytes: 16 * 1024 * 1024,
  rejections: 64
}

/** The limits with `opts` over the defaults; throws INVALID_ARGUMENT for a non-positive value. */
export function peerLimits (opts: Partial<PeerLimits> = {}): PeerLimits {
  const out = { ...DEFAULT_LIMITS, ...opts }
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || v <= 0) throw ShoalError.INVALID_ARGUMENT(`peer limit ${k} must be a positive integer`)
  }
  return out
}

/** Counts one peer's traffic in fixed windows; `charge` throws PEER_ABUSE once a count is over. */
export class PeerBudget {
  private windowStart: number
  private messages = 0
  private bytes = 0
  private rejections = 0

  constructor (private readonly limits: PeerLimits, private readonly now: () => number = Date.now) {
    this.windowStart = now()
  }

  /** One message of `bytes` bytes arrived. */
  message (bytes: number): void {
    this.roll()
    this.messages++
    this.bytes += bytes
    if (this.messages > this.limits.messages) throw ShoalError.PEER_ABUSE(`more than ${this.limits.messages} messages in ${this.limits.windowMs} ms`)
    if (this.bytes > this.limits.bytes) throw ShoalError.PEER_ABUSE(`more than ${this.limits.bytes} bytes in ${this.limits.windowMs} ms`)
  }

  /** One entry the peer sent failed a check. */
  reject (): void {
    this.roll()
    if (++this.rejections > this.limits.rejections) throw ShoalError.PEER_ABUSE(`more than ${this.limits.rejections} rejected entries in ${this.limits.windowMs} ms`)
  }

  private roll (): void {
    const t = this.now()
    if (t - this.windowStart < this.limits.windowMs) return
    this.windowStart = t
    this.messages = this.bytes = this.rejections = 0
  }
}
