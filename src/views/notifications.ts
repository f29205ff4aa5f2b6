/**
 * What happened to the local identity, derived from the views on every call: replies to and
 * reactions on my NOTIFY_OWN_POSTS newest posts, mentions of me and people following me, newest
 * first. Nothing is stored; the "seen" marker lives in the node state (src/node/node-state.ts).
 */
import b4a from 'b4a'
import { identityToString, refBytes, refFromBytes, refToString, toHex, type IdentityKey, type MessageRef } from '../ids.js'
import { TAG, key, keys, prefixEnd } from './keys.js'
import { decode, reactionSummary, storedContact, storedPost } from './records.js'
import type { Views } from './queries.js'
import type { Notification } from './types.js'
import type { ScanRange, ViewDb } from './view-db.js'

/** My newest posts whose replies and reactions are notifications. */
const NOTIFY_OWN_POSTS = 100
/** Newest replies read per thread when looking for replies to me. */
const NOTIFY_THREAD_SCAN = 500
/** Characters of a post shown in a notification. */
const EXCERPT_CHARS = 140

/** Notifications newest first, at most `limit` (checked by the caller); identities I block are left out. */
export async function listNotifications (db: ViewDb, views: Views, me: IdentityKey, limit: number): Promise<Notification[]> {
  const blocked = hexSet(await views.blocking(me))
  const out: Array<Omit<Notification, 'whoName'> & { whoKey: Uint8Array }> = []
  // byAuthor and thread rows hold their posts (covering rows): the scans read the posts too.
  const mine: MessageRef[] = []
  const myPosts: Uint8Array[] = []
  const own = await db.entriesIn(prefixRange(key(TAG.byAuthor, me), { reverse: true, limit: NOTIFY_OWN_POSTS }))
  for (let i = 0; i < own.keys.length; i++) {
    mine.push(refFromBytes(own.keys[i], own.keys[i].byteLength - 40))
    myPosts.push(own.values[i])
  }
  const mineSet = new Set(mine.map((r) => refToString(r)))
  // Replies: the threads my posts are in, replies whose parent is mine.
  const roots = new Map<string, MessageRef>()
  myPosts.forEach((raw, i) => {
    const root = decode(storedPost, raw).root ?? mine[i]
    roots.set(refToString(root), root)
  })
  for (const root of roots.values()) {
    const rows = await db.entriesIn(prefixRange(key(TAG.thread, refBytes(root)), { reverse: true, limit: NOTIFY_THREAD_SCAN }))
    rows.values.forEach((value, i) => {
      const p = decode(storedPost, value)
      if (p.parent === null || !mineSet.has(refToString(p.parent)) || b4a.equals(p.author, me) || blocked.has(toHex(p.author))) return
      out.push({ kind: 'reply', at: p.timestamp, who: identityToString(p.author), whoKey: p.author, post: refToString(refFromBytes(rows.keys[i], rows.keys[i].byteLength - 40)), emoji: null, text: excerpt(p.text) })
    })
  }
  // Reactions on my posts that have any.
  // (A summary row with no counts is there for its edit mark only.)
  const reacted = (await db.getMany(mine.map((r) => keys.reactionSummary(r)))).map((raw) => {
    const entries = raw === null ? [] : decode(reactionSummary, raw).entries
    return entries === null || entries.length > 0
  })
  const notMe = new Set([toHex(me)])
  for (let i = 0; i < mine.length; i++) {
    if (!reacted[i]) continue
    const text = excerpt(decode(storedPost, myPosts[i]).text)
    for (const r of await views.reactors(mine[i], notMe)) {
      out.push({ kind: 'reaction', at: r.at, who: identityToString(r.who), whoKey: r.who, post: refToString(mine[i]), emoji: r.emoji, text })
    }
  }
  // Mentions (the mention index already skips nothing: blocked authors are dropped here).
  const mentionRefs: MessageRef[] = []
  for await (const { key: k, value } of db.scanPrefix(key(TAG.mention, me), { reverse: true, limit })) {
    if (!blocked.has(toHex(value)) && !b4a.equals(value, me)) mentionRefs.push(refFromBytes(k, k.byteLength - 40))
  }
  const mentionRaws = await db.getMany(mentionRefs.map((r) => keys.message(r)))
  mentionRaws.forEach((raw, i) => {
    if (raw === null) return
    const p = decode(storedPost, raw)
    // A reply to me that also mentions me is one notification: the reply.
    if (p.parent !== null && mineSet.has(refToString(p.parent))) return
    out.push({ kind: 'mention', at: p.timestamp, who: identityToString(p.author), whoKey: p.author, post: refToString(mentionRefs[i]), emoji: null, text: excerpt(p.text) })
  })
  // New followers, when they followed.
  const followers = (await views.followers(me)).filter((f) => !blocked.has(toHex(f)))
  const contacts = await db.getMany(followers.map((f) => keys.contact(f, me)))
  contacts.forEach((raw, i) => {
    if (raw === null) return
    const c = decode(storedContact, raw)
    out.push({ kind: 'follow', at: c.followStamp?.ts ?? 0, who: identityToString(followers[i]), whoKey: followers[i], post: null, emoji: null, text: null })
  })
  out.sort((a, b) => b.at - a.at)
  const page = out.slice(0, limit)
  const names = new Map<string, string | null>()
  for (const n of page) if (!names.has(n.who)) names.set(n.who, await views.nameOf(n.whoKey))
  return page.map(({ whoKey: _k, ...n }) => ({ ...n, whoName: names.get(n.who) ?? null }))
}

function excerpt (text: string): string {
  if (text.length <= EXCERPT_CHARS) return text
  return `${Array.from(text.slice(0, EXCERPT_CHARS + 1)).slice(0, -1).join('')}…` // whole code points
}

function prefixRange (prefix: Uint8Array, opts: { reverse: boolean, limit: number }): ScanRange {
  return { gte: prefix, lt: prefixEnd(prefix), ...opts }
}

function hexSet (list: Uint8Array[]): Set<string> {
  return new Set(list.map(toHex))
}
