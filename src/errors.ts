/**
 * Every error Shoal raises on purpose. Callers branch on `err.code`, never on the message.
 * The CLI maps codes to exit status (usage errors exit 2), the API maps them to responses.
 */
export type ShoalErrorCode =
  | 'USAGE'
  | 'INVALID_ID'
  | 'INVALID_ARGUMENT'
  | 'INVALID_PHRASE'
  | 'INVALID_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'UNKNOWN_MESSAGE'
  | 'NOT_OWN_MESSAGE'
  | 'INVALID_FEED_HEADER'
  | 'IDENTITY_EXISTS'
  | 'NO_IDENTITY'
  | 'STORAGE_ERROR'
  | 'CLOSED'
  | 'LAN_ERROR'
  | 'SYNC_TIMEOUT'
  | 'PEER_REJECTED'
  | 'PROTOCOL_ERROR'
  | 'PEER_ABUSE'
  | 'PEER_TIMEOUT'
  | 'PEER_LIMIT'
  | 'BAD_REQUEST'
  | 'UNKNOWN_METHOD'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INTERNAL'
  | 'STORAGE_LOCKED'
  | 'NETWORK_ERROR'
  | 'DM_DECRYPT_FAILED'
  | 'DM_TOO_MANY_SKIPPED'
  | 'DM_INVALID_KEYS'
  | 'DM_TOO_MANY_RECIPIENTS'
  | 'DM_NO_DEVICES'
  | 'INVITE_INVALID'
  | 'INVITE_USED'
  | 'INVITE_EXPIRED'
  | 'ROOM_KEY_MISSING'
  | 'ROOM_VERSION_UNSUPPORTED'
  | 'UNKNOWN_ROOM'
  | 'NOT_MEMBER'
  | 'LAST_ADMIN'
  | 'NOT_PERMITTED'
  | 'INVITE_TIMEOUT'
  | 'STORAGE_INSECURE'
  | 'NO_SPACE'
  | 'FEED_ROLLED_BACK'
  | 'DEVICE_FEED_MISSING'
  | 'STORAGE_DAMAGED'
  | 'REQUEST_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'BROWSER_FAILED'
  | 'BLOCKED'
  | 'NOT_REACTED'
  | 'READ_ONLY'

/** Codes that mean "the caller asked wrongly" (CLI exit status 2). */
export const USAGE_CODES: ReadonlySet<ShoalErrorCode> = new Set<ShoalErrorCode>(['USAGE', 'INVALID_ID'])

export class ShoalError extends Error {
  readonly code: ShoalErrorCode

  constructor (code: ShoalErrorCode, message: string, opts?: { cause?: unknown }) {
    super(`${code}: ${message}`, opts)
    this.code = code
    this.name = 'ShoalError'
  }

  /** The message without the code prefix, for places that print the code separately. */
  get detail (): string {
    return this.message.slice(this.code.length + 2)
  }

  static USAGE (msg: string): ShoalError { return new ShoalError('USAGE', msg) }
  static INVALID_ID (msg: string): ShoalError { return new ShoalError('INVALID_ID', msg) }
  static INVALID_ARGUMENT (msg: string): ShoalError { return new ShoalError('INVALID_ARGUMENT', msg) }
  static INVALID_PHRASE (msg: string, cause?: unknown): ShoalError { return new ShoalError('INVALID_PHRASE', msg, { cause }) }
  static INVALID_MESSAGE (msg: string, cause?: unknown): ShoalError { return new ShoalError('INVALID_MESSAGE', msg, { cause }) }
  static MESSAGE_TOO_LARGE (msg: string): ShoalError { return new ShoalError('MESSAGE_TOO_LARGE', msg) }
  static UNKNOWN_MESSAGE (msg: string): ShoalError { return new ShoalError('UNKNOWN_MESSAGE', msg) }
  static NOT_OWN_MESSAGE (msg: string): ShoalError { return new ShoalError('NOT_OWN_MESSAGE', msg) }
  static INVALID_FEED_HEADER (msg: string, cause?: unknown): ShoalError { return new ShoalError('INVALID_FEED_HEADER', msg, { cause }) }
  static IDENTITY_EXISTS (msg: string): ShoalError { return new ShoalError('IDENTITY_EXISTS', msg) }
  static NO_IDENTITY (msg: string): ShoalError { return new ShoalError('NO_IDENTITY', msg) }
  static STORAGE_ERROR (msg: string, cause?: unknown): ShoalError { return new ShoalError('STORAGE_ERROR', msg, { cause }) }
  static CLOSED (msg: string): ShoalError { return new ShoalError('CLOSED', msg) }
  static LAN_ERROR (msg: string, cause?: unknown): ShoalError { return new ShoalError('LAN_ERROR', msg, { cause }) }
  static PEER_REJECTED (msg: string): ShoalError { return new ShoalError('PEER_REJECTED', msg) }
  static PROTOCOL_ERROR (msg: string): ShoalError { return new ShoalError('PROTOCOL_ERROR', msg) }
  /** A peer went over its budget of messages, bytes or rejected entries (it is disconnected). */
  static PEER_ABUSE (msg: string): ShoalError { return new ShoalError('PEER_ABUSE', msg) }
  /** A peer did not complete the channel handshake in time. */
  static PEER_TIMEOUT (msg: string): ShoalError { return new ShoalError('PEER_TIMEOUT', msg) }
  /** A connection was closed to keep room under the connection limit. */
  static PEER_LIMIT (msg: string): ShoalError { return new ShoalError('PEER_LIMIT', msg) }
  static BAD_REQUEST (msg: string): ShoalError { return new ShoalError('BAD_REQUEST', msg) }
  static UNKNOWN_METHOD (msg: string): ShoalError { return new ShoalError('UNKNOWN_METHOD', msg) }
  /** Wraps anything thrown that is not a ShoalError (a bug or a dependency's failure). */
  static INTERNAL (cause: unknown): ShoalError {
    return new ShoalError('INTERNAL', cause instanceof Error ? cause.message : String(cause), { cause })
  }

  /** `err` itself when it is coded, else INTERNAL wrapping it. */
  static from (err: unknown): ShoalError {
    return err instanceof ShoalError ? err : ShoalError.INTERNAL(err)
  }

  static SYNC_TIMEOUT (msg: string): ShoalError { return new ShoalError('SYNC_TIMEOUT', msg) }
  static STORAGE_LOCKED (msg: string, cause?: unknown): ShoalError { return new ShoalError('STORAGE_LOCKED', msg, { cause }) }
  /** Primary state (the node state or the Corestore) is damaged or missing: never started afresh silently. */
  static STORAGE_DAMAGED (msg: string, cause?: unknown): ShoalError { return new ShoalError('STORAGE_DAMAGED', msg, { cause }) }
  static NETWORK_ERROR (msg: string, cause?: unknown): ShoalError { return new ShoalError('NETWORK_ERROR', msg, { cause }) }
  /** A DM slot opened for this device but the rest did not (tampered, replayed, or a key already used). */
  static DM_DECRYPT_FAILED (msg: string, cause?: unknown): ShoalError { return new ShoalError('DM_DECRYPT_FAILED', msg, { cause }) }
  /** A ratchet header asks to skip more message keys than the limit allows. */
  static DM_TOO_MANY_SKIPPED (msg: string): ShoalError { return new ShoalError('DM_TOO_MANY_SKIPPED', msg) }
  /** A `keys` record that is malformed or whose signature does not verify. */
  static DM_INVALID_KEYS (msg: string, cause?: unknown): ShoalError { return new ShoalError('DM_INVALID_KEYS', msg, { cause }) }
  /** More recipient devices or identities than one box may carry. */
  static DM_TOO_MANY_RECIPIENTS (msg: string): ShoalError { return new ShoalError('DM_TOO_MANY_RECIPIENTS', msg) }
  /** No DM device keys are known for a participant (their feeds are not replicated, or they published none). */
  static DM_NO_DEVICES (msg: string): ShoalError { return new ShoalError('DM_NO_DEVICES', msg) }
  static INVITE_INVALID (msg: string, cause?: unknown): ShoalError { return new ShoalError('INVITE_INVALID', msg, { cause }) }
  static INVITE_USED (msg: string): ShoalError { return new ShoalError('INVITE_USED', msg) }
  static INVITE_EXPIRED (msg: string): ShoalError { return new ShoalError('INVITE_EXPIRED', msg) }
  static ROOM_KEY_MISSING (msg: string): ShoalError { return new ShoalError('ROOM_KEY_MISSING', msg) }
  static ROOM_VERSION_UNSUPPORTED (msg: string): ShoalError { return new ShoalError('ROOM_VERSION_UNSUPPORTED', msg) }
  static UNKNOWN_ROOM (msg: string): ShoalError { return new ShoalError('UNKNOWN_ROOM', msg) }
  /** This identity is not (or no longer) an active member of the room. */
  static NOT_MEMBER (msg: string): ShoalError { return new ShoalError('NOT_MEMBER', msg) }
  /** The last admin of a room cannot leave, be removed or be demoted while other members remain. */
  static LAST_ADMIN (msg: string): ShoalError { return new ShoalError('LAST_ADMIN', msg) }
  /** My role in a room does not allow that (a member removing someone, a muted member posting). */
  static NOT_PERMITTED (msg: string): ShoalError { return new ShoalError('NOT_PERMITTED', msg) }
  static INVITE_TIMEOUT (msg: string): ShoalError { return new ShoalError('INVITE_TIMEOUT', msg) }
  /** The storage folder (or a file in it) can be written or read by another user. */
  static STORAGE_INSECURE (msg: string): ShoalError { return new ShoalError('STORAGE_INSECURE', msg) }
  /** The disk (or quota) holding the storage folder is full. */
  static NO_SPACE (msg: string, cause?: unknown): ShoalError { return new ShoalError('NO_SPACE', msg, { cause }) }
  /** My own device feed is shorter than it was: appending would fork it. */
  static FEED_ROLLED_BACK (msg: string): ShoalError { return new ShoalError('FEED_ROLLED_BACK', msg) }
  /** My own device feed is gone from cores/ (deleted or replaced). */
  static DEVICE_FEED_MISSING (msg: string): ShoalError { return new ShoalError('DEVICE_FEED_MISSING', msg) }
  static REQUEST_TOO_LARGE (msg: string): ShoalError { return new ShoalError('REQUEST_TOO_LARGE', msg) }
  static TOO_MANY_REQUESTS (msg: string): ShoalError { return new ShoalError('TOO_MANY_REQUESTS', msg) }
  static BROWSER_FAILED (msg: string, cause?: unknown): ShoalError { return new ShoalError('BROWSER_FAILED', msg, { cause }) }
  /** The identity is one I block: following it is refused until I unblock it. */
  static BLOCKED (msg: string): ShoalError { return new ShoalError('BLOCKED', msg) }
  /** Removing a reaction I do not have on that message. */
  static NOT_REACTED (msg: string): ShoalError { return new ShoalError('NOT_REACTED', msg) }
  /** A write on a node opened read-only (`ShoalOptions.readOnly`): the CLI's refusal check then runs the command read-write. */
  static READ_ONLY (msg: string): ShoalError { return new ShoalError('READ_ONLY', msg) }
}
