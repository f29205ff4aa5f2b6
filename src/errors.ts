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
  | 'BAD_REQUEST'
  | 'UNKNOWN_METHOD'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INTERNAL'
  | 'STORAGE_LOCKED'
  | 'NETWORK_ERROR'
  | 'REQUEST_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'BROWSER_FAILED'

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
  static NETWORK_ERROR (msg: string, cause?: unknown): ShoalError { return new ShoalError('NETWORK_ERROR', msg, { cause }) }
  static REQUEST_TOO_LARGE (msg: string): ShoalError { return new ShoalError('REQUEST_TOO_LARGE', msg) }
  static TOO_MANY_REQUESTS (msg: string): ShoalError { return new ShoalError('TOO_MANY_REQUESTS', msg) }
  static BROWSER_FAILED (msg: string, cause?: unknown): ShoalError { return new ShoalError('BROWSER_FAILED', msg, { cause }) }
}
