/**
 * Checks of what a person types (a room name, a room message, an emoji, a DM), shared by the
 * node's methods and the CLI's precheck, so both refuse the same input before anything is written.
 * Caps are UTF-8 bytes, not characters.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { hasLoneSurrogate } from '../feeds/schema.js'

/**
 * `s` as typed text of at most `cap` UTF-8 bytes: a string (INVALID_ARGUMENT otherwise), not empty
 * or only whitespace (INVALID_ARGUMENT), well-formed Unicode (INVALID_MESSAGE for a lone
 * surrogate, which would be stored as U+FFFD), within the cap (MESSAGE_TOO_LARGE).
 */
export function checkTyped (s: unknown, cap: number, what: string): string {
  if (typeof s !== 'string') throw ShoalError.INVALID_ARGUMENT(`${what} must be text`)
  if (s.trim() === '') throw ShoalError.INVALID_ARGUMENT(`${what} is blank`)
  if (hasLoneSurrogate(s)) throw ShoalError.INVALID_MESSAGE(`${what} is not valid Unicode (a lone surrogate)`)
  const n = b4a.byteLength(s)
  if (n > cap) throw ShoalError.MESSAGE_TOO_LARGE(`${what} is ${n} bytes, the cap is ${cap}`)
  return s
}

/** As checkTyped, but only a blank (whitespace-only, not empty) string is refused here (a post's text, a name, a content warning): schemas refuse '' with their own error. */
export function checkNotBlank (s: unknown, what: string): void {
  if (typeof s === 'string' && s.length > 0 && s.trim() === '') throw ShoalError.INVALID_ARGUMENT(`${what} is blank`)
}
