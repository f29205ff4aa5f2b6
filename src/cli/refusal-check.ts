/**
 * A one-shot command that the stored state may refuse first runs on the storage opened read-only
 * (ShoalOptions.readOnly), so that a refusal changes no file: a read-write open rewrites RocksDB's
 * housekeeping files and the open record even when the command then writes nothing. Only the
 * refusals below are reported from that run; anything else (the first write, which fails with
 * READ_ONLY, a read-only open that cannot decide, any other failure) sends the command down the
 * read-write path as before, which then answers for itself.
 */
import { ShoalError, type ShoalErrorCode } from '../errors.js'
import { Shoal } from '../node/shoal.js'
import type { Parsed } from './args.js'
import type { Result } from './commands.js'

/** Commands with checks of the stored state before they write (the rest only read, or need the network or indexing). */
const CHECKED = new Set([
  'post', 'react', 'edit', 'delete', 'follow', 'unfollow', 'block', 'unblock',
  'dm send', 'dm accept', 'dm decline', 'dm read',
  'room invite', 'room join', 'room post', 'room react', 'room edit', 'room delete', 'room read',
  'room members', 'room role', 'room remove', 'room mute', 'room leave'
])

/** The codes of those checks: a read-only run that ends in one is the command's answer. */
const REFUSALS = new Set<ShoalErrorCode>([
  'USAGE', 'INVALID_ID', 'INVALID_ARGUMENT', 'INVALID_MESSAGE', 'MESSAGE_TOO_LARGE',
  'UNKNOWN_MESSAGE', 'NOT_OWN_MESSAGE', 'NOT_REACTED', 'BLOCKED', 'FEED_ROLLED_BACK',
  'DM_TOO_MANY_RECIPIENTS', 'DM_NO_DEVICES',
  'UNKNOWN_ROOM', 'NOT_MEMBER', 'NOT_PERMITTED', 'LAST_ADMIN', 'INVITE_INVALID', 'ROOM_VERSION_UNSUPPORTED'
])

/** Whether `p` runs read-only first (a profile only when it sets my name or bio). */
export function checkedFirst (p: Parsed): boolean {
  if (p.command === 'profile') return typeof p.flags.name === 'string' || typeof p.flags.bio === 'string'
  return CHECKED.has(p.command)
}

/**
 * Runs `command` on `storage` opened read-only; resolves to the refusal it ended in, or null when
 * the read-write path must run it (it got as far as a write, or the read-only run could not decide).
 */
export async function refusalOf (storage: string, command: (shoal: Shoal) => Promise<Result>): Promise<ShoalError | null> {
  const shoal = new Shoal(storage, { readOnly: true })
  shoal.on('error', () => {}) // a room whose write failed read-only closes itself: the read-write run follows
  try {
    await shoal.ready()
    await command(shoal)
    return null
  } catch (err) {
    return err instanceof ShoalError && REFUSALS.has(err.code) ? err : null
  } finally {
    await shoal.close().catch(() => {}) // nothing was written: a failed close changes nothing either
  }
}
