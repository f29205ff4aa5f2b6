/**
 * Invite pairing over any duplex message channel: blind-pairing-core's request and response,
 * one message each way, so the node can run it over Shoal's own encrypted channel on every
 * transport (or the blind-pairing DHT rendezvous). Reply frames: `[0, ...response]` for a pairing
 * response, `[1]` for an invite this member does not know.
 */
import b4a from 'b4a'
import { CandidateRequest, MemberRequest } from 'blind-pairing-core'
import { ShoalError } from '../errors.js'

/** A duplex message channel as a function pair: send one message, receive the next one. */
export interface MessageChannel {
  send (msg: Uint8Array): void
  receive (): Promise<Uint8Array>
}

/** What the joiner gets from an accepted invite: the room key and the room's encryption key. */
export interface PairingResult { key: Uint8Array, encryptionKey: Uint8Array }

/** The member side's decisions: find an invite's public key, then accept (or throw a coded error). */
export interface PairingHost {
  lookup (inviteId: Uint8Array): Promise<Uint8Array | null>
  accept (req: { inviteId: Uint8Array, userData: Uint8Array, receipt: Uint8Array }): Promise<PairingResult>
}

const REPLY = { response: 0, unknown: 1 } as const
const STATUS = { rejected: 1, used: 2, expired: 3 } as const

/** Two connected in-memory channels (tests, same-process pairing). */
export function memoryChannelPair (): [MessageChannel, MessageChannel] {
  const make = (): { queue: Uint8Array[], waiters: Array<(m: Uint8Array) => void> } => ({ queue: [], waiters: [] })
  const boxes = [make(), make()]
  const channel = (mine: number): MessageChannel => ({
    send (msg) {
      const other = boxes[1 - mine]!
      const w = other.waiters.shift()
      if (w !== undefined) w(msg)
      else other.queue.push(msg)
    },
    receive () {
      const box = boxes[mine]!
      const m = box.queue.shift()
      if (m !== undefined) return Promise.resolve(m)
      return new Promise(resolve => box.waiters.push(resolve))
    }
  })
  return [channel(0), channel(1)]
}

function candidateError (err: (Error & { code?: string }) | null): ShoalError {
  if (err?.code === 'INVITE_USED') return ShoalError.INVITE_USED('the invite has been used')
  if (err?.code === 'INVITE_EXPIRED') return ShoalError.INVITE_EXPIRED('the invite has expired')
  return ShoalError.INVITE_INVALID('the invite was rejected', err)
}

/** Joiner side: sends a pairing request for `invite` carrying `userData`; resolves with the room keys. */
export async function requestPairing (channel: MessageChannel, invite: Uint8Array, userData: Uint8Array): Promise<PairingResult> {
  let req: CandidateRequest
  try {
    req = new CandidateRequest(invite, userData)
  } catch (err) {
    throw ShoalError.INVITE_INVALID('not an invite code', err)
  }
  let rejected: (Error & { code?: string }) | null = null
  req.on('rejected', err => { rejected = err })
  channel.send(req.encode())
  const reply = await channel.receive()
  if (reply.byteLength === 0 || reply[0] === REPLY.unknown) throw ShoalError.INVITE_INVALID('unknown invite')
  let auth
  try {
    auth = req.handleResponse(reply.subarray(1))
  } catch (err) {
    throw ShoalError.PROTOCOL_ERROR('malformed pairing response: ' + String(err))
  }
  if (auth === null) throw candidateError(rejected)
  if (auth.encryptionKey === null) throw ShoalError.PROTOCOL_ERROR('pairing response without an encryption key')
  return { key: auth.key, encryptionKey: auth.encryptionKey }
}

function statusOf (err: unknown): number {
  const code = err instanceof ShoalError ? err.code : null
  return code === 'INVITE_USED' ? STATUS.used : code === 'INVITE_EXPIRED' ? STATUS.expired : STATUS.rejected
}

/**
 * Member side: answers one pairing request from the channel. Resolves with the accepted request's
 * invite id and user data; throws the coded error it answered with (INVITE_INVALID / _USED / _EXPIRED).
 */
export async function answerPairing (channel: MessageChannel, host: PairingHost): Promise<{ inviteId: Uint8Array, userData: Uint8Array }> {
  const buf = await channel.receive()
  let req: MemberRequest
  let publicKey: Uint8Array | null = null
  try {
    req = MemberRequest.from(buf)
    publicKey = await host.lookup(req.inviteId)
    if (publicKey !== null) req.open(publicKey)
  } catch (err) {
    channel.send(b4a.from([REPLY.unknown]))
    throw ShoalError.INVITE_INVALID('malformed pairing request', err)
  }
  if (publicKey === null) {
    channel.send(b4a.from([REPLY.unknown]))
    throw ShoalError.INVITE_INVALID('unknown invite')
  }
  const userData = req.userData!
  try {
    const res = await host.accept({ inviteId: req.inviteId, userData, receipt: req.receipt! })
    req.confirm(res)
  } catch (err) {
    req.deny({ status: statusOf(err) })
    channel.send(b4a.concat([b4a.from([REPLY.response]), req.response!]))
    throw err
  }
  channel.send(b4a.concat([b4a.from([REPLY.response]), req.response!]))
  return { inviteId: req.inviteId, userData }
}

/**
 * Member side for a request that arrived another way (the blind-pairing DHT rendezvous): opens
 * it with the invite's public key and confirms or denies it. For an invite this member does not
 * know it leaves the request unanswered (another member may know it) and throws INVITE_INVALID.
 */
export async function answerRequest (req: MemberRequest, host: PairingHost): Promise<void> {
  const publicKey = await host.lookup(req.inviteId)
  if (publicKey === null) throw ShoalError.INVITE_INVALID('unknown invite')
  try {
    req.open(publicKey)
  } catch (err) {
    throw ShoalError.INVITE_INVALID('malformed pairing request', err)
  }
  try {
    req.confirm(await host.accept({ inviteId: req.inviteId, userData: req.userData!, receipt: req.receipt! }))
  } catch (err) {
    req.deny({ status: statusOf(err) })
    throw err
  }
}

/** A way for the joiner to send its request and get the room keys (the DHT rendezvous). */
export type RequestPairer = (invite: Uint8Array, userData: Uint8Array) => Promise<PairingResult>

/** The joiner's coded error for a rejected candidate request (blind-pairing-core's code). */
export function rejectedError (err: (Error & { code?: string }) | null): ShoalError {
  return candidateError(err)
}
