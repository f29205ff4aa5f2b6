/**
 * The JSON shapes of DMs that the CLI and the local API share: conversations with participant
 * names, and pages of DMs with author names, ids as z-base32 strings.
 */
import z32 from 'z32'
import { ShoalError } from '../errors.js'
import { identityToString, parseIdentity, refToString, type IdentityKey } from '../ids.js'
import type { DmConversation, DmMessage, DmRequest } from '../api/protocol.js'
import type { StoredDm } from './dm-store.js'
import type { Shoal } from './shoal.js'

export type { DmConversation, DmMessage }

/** A conversation id as z-base32 (52 characters). */
export function conversationToString (id: Uint8Array): string {
  return z32.encode(id)
}

/** Parses a conversation id; INVALID_ID when it is not 32 bytes of z-base32. */
export function parseConversation (s: string): Uint8Array {
  try {
    return parseIdentity(s)
  } catch (err) {
    throw new ShoalError('INVALID_ID', `not a conversation id: ${String(s).slice(0, 80)}`, { cause: err })
  }
}

/** Parses `ID[,ID…]` recipients (z-base32 identities); INVALID_ID for a bad one. */
export function parseRecipients (s: string): IdentityKey[] {
  if (typeof s !== 'string' || s.length === 0) throw ShoalError.INVALID_ID('recipients must be ID[,ID…]')
  return s.split(',').map((x) => parseIdentity(x.trim()))
}

async function messageJson (shoal: Shoal, m: StoredDm): Promise<DmMessage> {
  return {
    id: refToString(m.ref),
    author: identityToString(m.author),
    authorName: await shoal.views.nameOf(m.author),
    text: m.text,
    timestamp: m.timestamp,
    parent: m.parent !== null ? refToString(m.parent) : null,
    reactions: m.reactions ?? {}
  }
}

/** `shoal dm list`: conversations, the latest first. */
export async function dmList (shoal: Shoal): Promise<{ items: DmConversation[] }> {
  const items: DmConversation[] = []
  for (const c of await shoal.dm.conversations()) {
    const participants = []
    for (const p of c.participants) participants.push({ id: identityToString(p), name: await shoal.views.nameOf(p) })
    items.push({ conversation: conversationToString(c.id), participants, last: c.lastDm !== null ? await messageJson(shoal, c.lastDm) : null, unread: c.unread })
  }
  return { items }
}

/** `shoal dm read`: one page of a conversation, newest first; marks it read. */
export async function dmRead (shoal: Shoal, conversation: string, opts: { limit?: number, before?: string | null } = {}): Promise<{ items: DmMessage[], next: string | null }> {
  const id = parseConversation(conversation)
  if (await shoal.dm.conversation(id) === null) throw ShoalError.UNKNOWN_MESSAGE(`no conversation ${conversation} here`)
  const page = await shoal.dm.read(id, opts)
  const items = []
  for (const m of page.items) items.push(await messageJson(shoal, m))
  if (opts.before == null) await shoal.dm.markRead(id)
  return { items, next: page.next }
}


/** `shoal dm requests`: pending message requests, one item per (sender, conversation). */
export async function dmRequestList (shoal: Shoal): Promise<{ items: DmRequest[] }> {
  const items: DmRequest[] = []
  for (const r of await shoal.dmRequests.pending()) {
    const id = identityToString(r.identity)
    const name = await shoal.views.nameOf(r.identity)
    for (const c of r.conversations) items.push({ id, name, conversation: conversationToString(c) })
  }
  return { items }
}
