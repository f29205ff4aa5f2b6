/**
 * Message requests on the `shoal/feeds` channel (type 4, docs/SYNC.md): checking a request from
 * an identified peer. A request names the conversations in which the sender wrote DMs for the
 * receiver and carries the sender's device feed headers, so that on accept the receiver can
 * replicate those feeds. Requests travel only between peers that both identified.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { readHeader } from '../feeds/header.js'
import { decodeRecord } from '../feeds/schema.js'
import type { FeedKey, IdentityKey } from '../ids.js'
import type { Request } from './messages.js'

/** A checked message request: who sent it, the conversations it names, and their device feeds. */
export interface MessageRequest { identity: IdentityKey, conversations: Uint8Array[], feeds: FeedKey[] }

/**
 * Checks a request against the identity its sender proved, cheap to expensive: every header
 * decodes, names that identity, and carries its valid signature. Throws INVALID_FEED_HEADER.
 */
export function checkRequest (req: Request, sender: IdentityKey): MessageRequest {
  const feeds: FeedKey[] = []
  for (const block of req.headers) {
    const rec = decodeRecord(block)
    if (rec.type !== 'header') throw ShoalError.INVALID_FEED_HEADER('request entry is not a header')
    if (!b4a.equals(rec.identity, sender)) throw ShoalError.INVALID_FEED_HEADER('request names a feed of another identity')
    readHeader(block, rec.feed)
    if (!feeds.some((f) => b4a.equals(f, rec.feed))) feeds.push(rec.feed)
  }
  return { identity: sender, conversations: req.conversations, feeds }
}
