/**
 * What each CLI command does, given an open node. Each returns the JSON document it prints with
 * --json, and a human rendering of it.
 */
import b4a from 'b4a'
import { ShoalError } from '../errors.js'
import { phraseToSeed } from '../feeds/identity.js'
import { encodeRecord } from '../feeds/schema.js'
import { feedToString, identityToString, parseIdentity, parseRef, refToString, type IdentityKey, type MessageRef } from '../ids.js'
import { DM_CAPS } from '../dm/caps.js'
import { parseRecipients } from '../node/dm-json.js'
import { checkNotBlank } from '../node/input-checks.js'
import type { Shoal } from '../node/shoal.js'
import { parseCursor, type Item } from '../views/queries.js'
import { intFlag, type Parsed } from './args.js'
import { escapeLine, escapeText } from './escape.js'
import { dmCommand, dmPrecheck } from './dm-commands.js'
import { precheckRoom, roomCommand } from './room-commands.js'

export interface Result { json: unknown, text: string }

type Command = (shoal: Shoal, p: Parsed) => Promise<Result>

function str (v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

function written (id: string, what: string): Result {
  return { json: { id }, text: `${what} ${id}` }
}

/** Writes a follow, unfollow, block or unblock and says whom (name when known, and id). */
async function contact (shoal: Shoal, p: Parsed, act: (who: IdentityKey) => Promise<MessageRef>, done: string): Promise<Result> {
  const who = parseIdentity(p.positionals[0])
  // Named before (a block hides their profile) or after (an unblock shows it again).
  const before = (await shoal.profile(who)).name
  const ref = await act(who)
  const name = before ?? (await shoal.profile(who)).name
  const id = identityToString(who)
  return { json: { id: refToString(ref), who: { id, name } }, text: `${done} ${name !== null ? `${escapeLine(name)} (${id})` : id}` }
}

/** Refs and ids are printed whole: they are what the next command takes. */
export function renderItem (item: Item, indent = ''): string {
  const who = item.authorName ? `${escapeLine(item.authorName)} (${item.author})` : item.author
  const when = new Date(item.timestamp).toISOString().replace('T', ' ').slice(0, 16)
  const flags = [item.edited ? 'edited' : '', item.parent ? `reply to ${item.parent}` : ''].filter(Boolean).join(', ')
  const reactions = Object.entries(item.reactions).map(([e, n]) => `${escapeLine(e)} ${n}`).join('  ')
  const body = item.cw ? `[CW: ${escapeLine(item.cw)}]` : escapeText(item.text)
  return [
    `${indent}${who}  ${when}${flags ? `  (${flags})` : ''}`,
    ...body.split('\n').map((l) => `${indent}  ${l}`),
    `${indent}  ${reactions ? reactions + '  ' : ''}id ${item.id}`
  ].join('\n')
}

/** What `shoal init` prints, whether it ran here or through a serving node. */
export function initResult (shoal: Shoal, phrase: string | null, restored: boolean): Result {
  const json: Record<string, string> = { id: shoal.id, feed: feedToString(shoal.feedKey) }
  if (phrase !== null) json.phrase = phrase
  const text = [
    restored ? 'Restored your identity on this device (a new device feed).' : 'Created your identity.',
    `id    ${shoal.id}`,
    `feed  ${json.feed}`,
    ...(phrase !== null
      ? ['', 'Recovery phrase (shown once; write it down and keep it secret, it is your identity):', '', `  ${phrase}`, '']
      : [])
  ].join('\n')
  return { json, text }
}

/**
 * Checks a command's inputs (ids, refs, sizes and shapes of what it would write) before the
 * storage is opened, so a rejected command touches no file. Shoal checks them again itself.
 */
export function precheck (p: Parsed): void {
  const [a, b] = p.positionals
  const at = { timestamp: 0 }
  // As in the app: text that is only whitespace is no post and no edit.
  if ((p.command === 'post' && a.trim() === '') || (p.command === 'edit' && b.trim() === '')) {
    throw ShoalError.USAGE(`TEXT is blank: ${p.command === 'post' ? 'a post' : 'an edit'} needs some text`)
  }
  switch (p.command) {
    case 'init':
      if (typeof p.flags.restore === 'string') phraseToSeed(p.flags.restore)
      if (typeof p.flags.name === 'string') encodeRecord({ type: 'about', ...at, name: p.flags.name, bio: null })
      checkNotBlank(p.flags.name, 'the name')
      return
    case 'post': {
      const reply = str(p.flags.reply)
      const ref = reply !== undefined ? parseRef(reply) : null
      encodeRecord({ type: 'post', ...at, text: a, root: ref, parent: ref, cw: str(p.flags.cw) ?? null, mentions: [] })
      checkNotBlank(p.flags.cw, 'the content warning')
      return
    }
    case 'react':
      encodeRecord({ type: 'reaction', ...at, target: parseRef(a), emoji: b, remove: p.flags.remove === true })
      checkNotBlank(b, 'the emoji')
      return
    case 'edit': encodeRecord({ type: 'edit', ...at, target: parseRef(a), text: b }); return
    case 'delete': parseRef(a); return
    case 'thread':
      parseRef(a)
      intFlag(p.flags.limit, 'limit')
      if (str(p.flags.before) !== undefined) parseCursor(str(p.flags.before) as string)
      return
    case 'follow': case 'unfollow': case 'block': case 'unblock': parseIdentity(a); return
    case 'profile': {
      if (a !== undefined) parseIdentity(a)
      const name = str(p.flags.name)
      const bio = str(p.flags.bio)
      if (name !== undefined || bio !== undefined) encodeRecord({ type: 'about', ...at, name: name ?? null, bio: bio ?? null })
      checkNotBlank(name, 'the name')
      return
    }
    case 'feed':
      intFlag(p.flags.limit, 'limit')
      if (str(p.flags.before) !== undefined) parseCursor(str(p.flags.before) as string)
      if (str(p.flags.author) !== undefined) parseIdentity(str(p.flags.author) as string)
      return
    case 'mentions': intFlag(p.flags.limit, 'limit'); return
    case 'sync': intFlag(p.flags.timeout, 'timeout'); intFlag(p.flags.hops, 'hops'); return
    case 'dht': dhtHost(p); return
  }
  if (p.command.startsWith('dm ')) dmPrecheck(p)
  if (p.command.startsWith('room ')) precheckRoom(p)
}

/**
 * The checks of precheck that need my identity (`me`, from the identity file), so that a command
 * aimed at myself is refused before the storage is opened too; Shoal checks them again itself.
 */
export function precheckAs (p: Parsed, me: IdentityKey): void {
  const [a] = p.positionals
  switch (p.command) {
    case 'follow': case 'unfollow': case 'block': case 'unblock':
      if (b4a.equals(parseIdentity(a), me)) throw ShoalError.INVALID_ARGUMENT(`you cannot ${p.command} yourself`)
      return
    case 'profile':
      if (a !== undefined && (str(p.flags.name) !== undefined || str(p.flags.bio) !== undefined) && !b4a.equals(parseIdentity(a), me)) {
        throw ShoalError.USAGE('--name and --bio set your own profile only')
      }
      return
    case 'dm send': {
      const to = parseRecipients(a)
      if (to.every((k) => b4a.equals(k, me))) throw ShoalError.INVALID_ARGUMENT('a DM needs at least one recipient besides yourself')
      const participants = new Set([...to, me].map((k) => b4a.toString(k, 'hex'))).size
      if (participants > DM_CAPS.recipients) throw ShoalError.DM_TOO_MANY_RECIPIENTS(`${participants} identities, the cap is ${DM_CAPS.recipients} (you included)`)
    }
  }
}

/** The IPv4 address `shoal dht` binds (--host, default 127.0.0.1), or a USAGE error. */
export function dhtHost (p: Parsed): string {
  const host = typeof p.flags.host === 'string' ? p.flags.host : '127.0.0.1'
  const ok = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(host) && host.split('.').every((n) => Number(n) <= 255) && host !== '0.0.0.0'
  if (!ok) throw ShoalError.USAGE('--host must be the IPv4 address peers will reach (default 127.0.0.1)')
  return host
}

export const commands: Record<string, Command> = {
  'dm send': dmCommand,
  'dm list': dmCommand,
  'dm read': dmCommand,
  'dm requests': dmCommand,
  'dm accept': dmCommand,
  'dm decline': dmCommand,
  'room create': roomCommand,
  'room list': roomCommand,
  'room invite': roomCommand,
  'room join': roomCommand,
  'room post': roomCommand,
  'room react': roomCommand,
  'room edit': roomCommand,
  'room delete': roomCommand,
  'room read': roomCommand,
  'room members': roomCommand,
  'room status': roomCommand,
  'room role': roomCommand,
  'room remove': roomCommand,
  'room mute': roomCommand,
  'room leave': roomCommand,

  async whoami (shoal) {
    const w = await shoal.whoami()
    return { json: { id: w.id, name: w.name, feeds: w.feeds }, text: `${w.name !== null ? escapeLine(w.name) : '(no name)'}\nid    ${w.id}\nfeeds ${w.feeds.join('\n      ')}` }
  },

  async post (shoal, p) {
    const reply = str(p.flags.reply)
    const r = await shoal.post({ text: p.positionals[0], reply: reply ? parseRef(reply) : null, cw: str(p.flags.cw) ?? null })
    return written(refToString(r), 'posted')
  },

  async react (shoal, p) {
    const remove = p.flags.remove === true
    const r = await shoal.react(parseRef(p.positionals[0]), p.positionals[1], { remove })
    return written(refToString(r), remove ? 'removed my reaction' : 'reacted')
  },

  async edit (shoal, p) {
    return written(refToString(await shoal.edit(parseRef(p.positionals[0]), p.positionals[1])), 'edited')
  },

  async delete (shoal, p) {
    return written(refToString(await shoal.delete(parseRef(p.positionals[0]))), 'deleted')
  },

  async follow (shoal, p) { return contact(shoal, p, (who) => shoal.follow(who), 'following') },
  async unfollow (shoal, p) { return contact(shoal, p, (who) => shoal.unfollow(who), 'unfollowed') },
  async block (shoal, p) { return contact(shoal, p, (who) => shoal.block(who), 'blocked') },
  async unblock (shoal, p) { return contact(shoal, p, (who) => shoal.unblock(who), 'unblocked') },

  async profile (shoal, p) {
    const who = p.positionals[0] !== undefined ? parseIdentity(p.positionals[0]) : shoal.identity
    const name = str(p.flags.name)
    const bio = str(p.flags.bio)
    if (name !== undefined || bio !== undefined) {
      if (p.positionals[0] !== undefined && p.positionals[0] !== shoal.id) throw ShoalError.USAGE('--name and --bio set your own profile only')
      await shoal.setProfile({ name: name ?? null, bio: bio ?? null })
    }
    const prof = await shoal.profile(who)
    return {
      json: prof,
      text: `${prof.name !== null ? escapeLine(prof.name) : '(no name)'}\nid        ${prof.id}\nbio       ${escapeLine(prof.bio ?? '')}\nfollowing ${prof.following}\nfollowers ${prof.followers}`
    }
  },

  async feed (shoal, p) {
    const author = str(p.flags.author)
    const page = await shoal.timeline({
      limit: intFlag(p.flags.limit, 'limit'),
      before: str(p.flags.before) ?? null,
      author: author ? parseIdentity(author) : null
    })
    const text = page.items.length === 0 ? '(nothing yet)' : page.items.map((i) => renderItem(i)).join('\n\n')
    return { json: page, text: text + (page.next ? `\n\nmore: shoal feed --before ${page.next}` : '') }
  },

  async thread (shoal, p) {
    const t = await shoal.thread(parseRef(p.positionals[0]), { limit: intFlag(p.flags.limit, 'limit'), before: str(p.flags.before) ?? null })
    const lines = [t.root ? renderItem(t.root) : '(the first post is not known here or was deleted)']
    for (const r of t.replies) lines.push(renderItem(r, '    '))
    if (t.next) lines.push(`more replies: shoal thread ${p.positionals[0]} --before ${t.next}`)
    return { json: t, text: lines.join('\n\n') }
  },

  async mentions (shoal, p) {
    const m = await shoal.mentions({ limit: intFlag(p.flags.limit, 'limit') })
    return { json: m, text: m.items.length === 0 ? '(no mentions)' : m.items.map((i) => renderItem(i)).join('\n\n') }
  },

  async sync (shoal, p) {
    const seconds = intFlag(p.flags.timeout, 'timeout') ?? 60
    const r = await shoal.sync({ timeout: seconds * 1000 })
    const lines = [`synced with ${r.peers} peer(s): ${r.identities} identities, ${r.feeds} feeds, ${r.blocks} new blocks, ${r.uploaded} uploaded`]
    for (const d of r.drops) lines.push(`  dropped peer ${d.publicKey ?? '?'}: ${d.reason} ${d.detail}`)
    if (shoal.health.rolledBack === null) return { json: r, text: lines.join('\n') }
    // My feed lost blocks in a crash: the peers just synced with may hold them.
    const restored = await shoal.restoreFeed()
    lines.push(restored ? 'restored the lost blocks of my feed; writing works again' : 'my feed\'s lost blocks were not found on these peers; writing stays paused')
    return { json: { ...r, restored }, text: lines.join('\n') }
  },

  async status (shoal) {
    const s = await shoal.status()
    const health = shoal.health
    // Through a serving node the replicator runs; opened here for this one command, it does not.
    const running = shoal.replicator !== null
    const lines = [running ? `${s.peers.length} peer(s) connected` : 'no node is running on this storage (start one with "shoal serve" or "shoal desktop"); showing local state']
    if (health.rolledBack !== null) lines.push(`warning: my feed has ${health.rolledBack.length} blocks but had ${health.rolledBack.expected}; writing is paused until the lost blocks are restored from a peer`)
    if (health.viewsRebuilt !== null) lines.push('warning: the views were damaged and have been rebuilt from the feeds')
    for (const p of s.peers) lines.push(`  peer ${p.identity ?? '(unknown identity)'}`)
    for (const id of s.identities) {
      lines.push(`${id.id}`)
      for (const f of id.feeds) {
        lines.push(`  feed ${f.key}  ${f.local}/${f.remote}`)
        for (const i of f.issues) lines.push(`    ${i.flag}: ${i.detail}`)
      }
    }
    if (s.drops.length > 0) lines.push(`${s.drops.length} recent drop(s)`)
    for (const d of s.drops) lines.push(`  dropped peer ${d.publicKey ?? '?'} at ${new Date(d.at).toISOString()}: ${d.reason} ${d.detail}`)
    return { json: { running, ...s, storage: health }, text: lines.join('\n') }
  },

  async reindex (shoal) {
    const t = await shoal.reindex()
    const skipped = t.malformed + t.unknown
    return {
      json: { messages: t.messages, skipped, malformed: t.malformed, unknown: t.unknown },
      text: `reindexed ${t.messages} messages, skipped ${skipped} (${t.malformed} malformed, ${t.unknown} of unknown type)`
    }
  }
}
