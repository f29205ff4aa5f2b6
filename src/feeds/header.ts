/**
 * Block 0 of every device feed: names the identity and carries its signature over the feed key.
 * Views attribute a feed's messages to that identity only if this header checks out.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import type { FeedKey, IdentityKey } from '../ids.js'
import { signDeviceFeed, verifyDeviceFeed, type IdentityKeyPair } from './identity.js'
import { decodeRecord, type HeaderRecord } from './schema.js'

export function createHeader (identity: IdentityKeyPair, feed: FeedKey, device: string, timestamp: number): HeaderRecord {
  return { type: 'header', timestamp, identity: identity.publicKey, feed, signature: signDeviceFeed(identity, feed), device }
}

/** Decodes and verifies block 0 of the feed `feed`; throws INVALID_FEED_HEADER when it does not check out. */
export function readHeader (block: Uint8Array, feed: Uint8Array): HeaderRecord & { identity: IdentityKey } {
  let rec
  try {
    rec = decodeRecord(block)
  } catch (err) {
    throw ShoalError.INVALID_FEED_HEADER('block 0 is not a valid record', err)
  }
  if (rec.type !== 'header') throw ShoalError.INVALID_FEED_HEADER('block 0 is not a feed header')
  if (!b4a.equals(rec.feed, feed)) throw ShoalError.INVALID_FEED_HEADER('header names a different feed')
  if (!verifyDeviceFeed(rec.identity, rec.feed, rec.signature)) throw ShoalError.INVALID_FEED_HEADER('identity signature over the feed key does not verify')
  return rec
}
