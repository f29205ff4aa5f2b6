/** Boundary checks of Room's public methods: a bad argument is a coded error, not a silent no-op in apply. */
import { ShoalError } from '../errors.js'
import { isRole } from './room-caps.js'
import type { MessageId } from './room-schema.js'

/** A 32-byte key (identity, writer, invite id). */
export function checkKey (what: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== 32) throw ShoalError.INVALID_ARGUMENT(what + ' must be 32 bytes')
}

/** A message id: a 32-byte writer key and a positive length. */
export function checkId (id: MessageId): void {
  checkKey('message writer', id.writer)
  if (!Number.isInteger(id.length) || id.length < 1) throw ShoalError.INVALID_ARGUMENT('message length must be a positive integer')
}

/** A known role number. */
export function checkRole (role: number): void {
  if (!isRole(role)) throw ShoalError.INVALID_ARGUMENT('unknown role ' + role)
}
