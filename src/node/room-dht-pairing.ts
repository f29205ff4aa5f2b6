/**
 * Invite pairing over the `blind-pairing` DHT rendezvous, used beside `shoal/room-pair/v1` when
 * the node is on a DHT: an admin device registers each room it administers; a joiner posts its
 * request under the invite and polls for the answer. Same requests, checks and coded errors as
 * the Shoal channel (room-pairing.ts); see docs/ROOMS.md.
 */
import BlindPairing from 'blind-pairing'
import { CandidateRequest, type MemberRequest } from 'blind-pairing-core'
import safetyCatch from 'safety-catch'
import { ShoalError } from '../errors.js'
import { rejectedError, type PairingResult } from '../groups/room-pairing.js'

/** Poll interval of the rendezvous (ms): how often a waiting side looks for news. */
const POLL_MS = 2000

export class DhtPairing {
  readonly #blind: BlindPairing
  readonly #members = new Map<string, BlindPairing.Member>()

  constructor (swarm: unknown) {
    this.#blind = new BlindPairing(swarm, { poll: POLL_MS })
  }

  /** Answers requests for the room `discoveryKey` (hex-keyed; once per room). */
  serve (key: string, discoveryKey: Uint8Array, answer: (req: MemberRequest) => Promise<void>): void {
    if (this.#members.has(key)) return
    this.#members.set(key, this.#blind.addMember({ discoveryKey, onadd: async (req) => { await answer(req).catch(safetyCatch) } }))
  }

  /** Stops answering for a room. */
  unserve (key: string): void {
    const m = this.#members.get(key)
    this.#members.delete(key)
    m?.close().catch(safetyCatch)
  }

  /** Joiner: resolves with the room keys, or rejects with the admin's coded refusal. */
  request (invite: Uint8Array, userData: Uint8Array, signal: { cancelled: boolean, onCancel: (fn: () => void) => void }): Promise<PairingResult> {
    try {
      void new CandidateRequest(invite, userData) // throws on a malformed code, before anything is posted
    } catch (err) {
      return Promise.reject(ShoalError.INVITE_INVALID('not an invite code', err))
    }
    return new Promise((resolve, reject) => {
      const candidate = this.#blind.addCandidate({
        invite,
        userData,
        onadd: (res) => {
          if (res.encryptionKey === null) reject(ShoalError.PROTOCOL_ERROR('pairing response without an encryption key'))
          else resolve({ key: res.key, encryptionKey: res.encryptionKey })
        }
      })
      candidate.request.on('rejected', (err) => { candidate.close().catch(safetyCatch); reject(rejectedError(err)) })
      signal.onCancel(() => { candidate.close().catch(safetyCatch) })
    })
  }

  close (): Promise<void> {
    return this.#blind.close()
  }
}
