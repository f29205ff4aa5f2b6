/**
 * `shoal room SUBCOMMAND ...`: group rooms from the command line (src/node/room-service.ts).
 * Every subcommand prints one JSON document with --json; while `serve` runs they go through it.
 */
import { ShoalError } from '../errors.js'
import type { Shoal } from '../node/shoal.js'
import { parseInviteCode, parseRole, parseRoomMessageId, shortId, type RoomMessageItem } from '../node/room-service.js'
import { checkTyped } from '../node/input-checks.js'
import { ROOM_CAPS } from '../groups/room-caps.js'
import { parseIdentity } from '../ids.js'
import { intFlag, type Parsed } from './args.js'
import { escapeLine, escapeText } from './escape.js'
import type { Result } from './commands.js'

/** Subcommands with their positionals (after the subcommand itself). */
export const ROOM_SUBCOMMANDS: Record<string, string[]> = {
  create: ['NAME'],
  list: [],
  invite: ['ROOM'],
  join: ['CODE'],
  post: ['ROOM', 'TEXT'],
  react: ['ROOM', 'ID', 'EMOJI'],
  edit: ['ROOM', 'ID', 'TEXT'],
  delete: ['ROOM', 'ID'],
  read: ['ROOM'],
  members: ['ROOM'],
  status: ['ROOM'],
  role: ['ROOM', 'ID', 'ROLE'],
  remove: ['ROOM', 'ID'],
  mute: ['ROOM', 'ID'],
  leave: ['ROOM']
}

const DURATION = /^([0-9]+)(s|m|h|d)$/
const UNIT = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** The longest invite lifetime (as the API's `expires`): 365 days. */
const MAX_DURATION = 365 * UNIT.d

/** A duration like 30m, 12h or 7d, in ms, from 1 s to 365 d; USAGE otherwise (0m would make an invite expired at once). */
export function parseDuration (s: string): number {
  const m = DURATION.exec(s)
  if (m === null) throw ShoalError.USAGE('--expires is a duration like 30m, 12h or 7d')
  const ms = Number(m[1]) * UNIT[m[2] as keyof typeof UNIT]
  if (!(ms >= 1000 && ms <= MAX_DURATION)) throw ShoalError.USAGE('--expires is from 1s to 365d')
  return ms
}

function str (v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** The subcommand of a `room …` table entry ("room post" → "post") and its positionals. */
function roomArgs (p: Parsed): string[] {
  return [p.command.slice('room '.length), ...p.positionals]
}

/** Checks the subcommand, its arity and the shape of its arguments before anything opens. */
export function precheckRoom (p: Parsed): void {
  const [sub, ...args] = roomArgs(p)
  const spec = sub === undefined ? undefined : ROOM_SUBCOMMANDS[sub]
  if (sub === undefined || spec === undefined) throw ShoalError.USAGE('usage: shoal room ' + Object.keys(ROOM_SUBCOMMANDS).join('|') + ' ...')
  if (args.length !== spec.length) throw ShoalError.USAGE(`usage: shoal room ${sub} ${spec.join(' ')} (quote text that has spaces)`)
  if (['react', 'edit', 'delete'].includes(sub)) parseRoomMessageId(args[1]!)
  if (sub === 'create') checkTyped(args[0], ROOM_CAPS.name, 'a room name')
  if (sub === 'join') parseInviteCode(args[0]!)
  if (sub === 'post') checkTyped(args[1], ROOM_CAPS.text, 'a room message')
  if (sub === 'edit') checkTyped(args[2], ROOM_CAPS.text, 'a room message')
  if (sub === 'react') checkTyped(args[2], ROOM_CAPS.emoji, 'an emoji')
  if (['role', 'remove', 'mute'].includes(sub)) parseIdentity(args[1]!)
  if (sub === 'role') parseRole(args[2]!)
  if (typeof p.flags.role === 'string') parseRole(p.flags.role)
  if (typeof p.flags.expires === 'string') parseDuration(p.flags.expires)
  if (typeof p.flags.reply === 'string') parseRoomMessageId(p.flags.reply)
  intFlag(p.flags.uses, 'uses')
  intFlag(p.flags.limit, 'limit')
  intFlag(p.flags.before, 'before')
  intFlag(p.flags.timeout, 'timeout')
}

function renderMessage (m: RoomMessageItem): string {
  const who = m.authorName === shortId(m.author) ? m.authorName : `${escapeLine(m.authorName)} (${m.author.slice(0, 8)})`
  const when = m.timestamp === null ? '' : new Date(m.timestamp).toISOString().replace('T', ' ').slice(0, 16)
  const flags = [m.edited ? 'edited' : '', m.parent !== null ? `reply to ${m.parent.slice(0, 10)}…` : ''].filter(Boolean).join(', ')
  const reactions = Object.entries(m.reactions).map(([e, n]) => `${escapeLine(e)} ${n}`).join('  ')
  const body = m.text === null ? '(deleted or unreadable)' : escapeText(m.text)
  return [`${who}  ${when}${flags ? `  (${flags})` : ''}`, ...body.split('\n').map((l) => `  ${l}`), `  ${reactions ? reactions + '  ' : ''}id ${m.id}`].join('\n')
}

function done (what: string): Result {
  return { json: {}, text: what }
}

/** Runs one room subcommand on an open node. */
export async function roomCommand (shoal: Shoal, p: Parsed): Promise<Result> {
  precheckRoom(p)
  const [sub, a, b, c] = roomArgs(p) as [string, string, string, string]
  const rooms = shoal.rooms
  switch (sub) {
    case 'create': {
      const r = await rooms.create(a)
      return { json: r, text: `created room ${r.id}` }
    }
    case 'list': {
      const r = await rooms.list()
      return { json: r, text: r.items.length === 0 ? '(no rooms)' : r.items.map((i) => `${escapeLine(i.name)}  ${i.role}${i.unread > 0 ? `  ${i.unread} unread` : ''}\n  id ${i.id}`).join('\n') }
    }
    case 'invite': {
      const expires = str(p.flags.expires)
      const r = await rooms.invite(a, {
        ...(typeof p.flags.role === 'string' ? { role: parseRole(p.flags.role) } : {}),
        ...(p.flags.uses !== undefined ? { uses: intFlag(p.flags.uses, 'uses') } : {}),
        ...(expires !== undefined ? { expires: Date.now() + parseDuration(expires) } : {})
      })
      return { json: r, text: `invite code (a secret: share it only with who should join):\n${r.code}` }
    }
    case 'join': {
      const timeout = intFlag(p.flags.timeout, 'timeout')
      const r = await rooms.join(a, timeout === undefined ? {} : { timeout: timeout * 1000 })
      return { json: r, text: `joined ${escapeLine(r.name)} (${r.id})` }
    }
    case 'post': {
      const reply = str(p.flags.reply)
      const r = await rooms.post(a, b, reply === undefined ? {} : { reply })
      return { json: r, text: `posted ${r.id}` }
    }
    case 'react': await rooms.react(a, b, c); return done('reacted')
    case 'edit': await rooms.edit(a, b, c); return done('edited')
    case 'delete': await rooms.delete(a, b); return done('deleted')
    case 'read': {
      const limit = intFlag(p.flags.limit, 'limit')
      const before = intFlag(p.flags.before, 'before')
      const r = await rooms.read(a, { ...(limit === undefined ? {} : { limit }), ...(before === undefined ? {} : { before }) })
      return { json: r, text: r.items.length === 0 ? '(no messages)' : [...r.items].reverse().map(renderMessage).join('\n\n') + (r.next !== null ? `\n\nolder: --before ${r.next}` : '') }
    }
    case 'members': {
      const r = await rooms.members(a)
      return { json: r, text: r.items.map((m) => `${escapeLine(m.name)}  ${m.role}${m.muted ? '  muted' : ''}\n  id ${m.id}`).join('\n') }
    }
    case 'status': {
      const r = await rooms.status(a)
      const lines = [`${escapeLine(r.name)}  ${r.members} member(s), ${r.messages} message(s); each device's log kept up to ${r.storagePerWriter % 1048576 === 0 ? `${r.storagePerWriter / 1048576} MiB` : `${r.storagePerWriter} bytes`}`]
      if (r.writers.length === 0) lines.push('no device broke the room\'s caps')
      for (const w of r.writers) {
        lines.push(`device ${w.writer}  of ${w.member === null ? '(no member)' : `${escapeLine(w.memberName ?? '')} ${w.member}`}`)
        lines.push(`  ${w.bytes} bytes stated, ${w.kept ? 'kept (an admin device: Autobase needs its blocks)' : `${w.clearedBlocks} block(s) cleared here`}`)
        for (const i of w.issues) lines.push(`  ${i.flag}: ${escapeLine(i.detail)}`)
      }
      return { json: r, text: lines.join('\n') }
    }
    case 'role': await rooms.setRole(a, b, parseRole(c)); return done('role changed')
    case 'remove': await rooms.remove(a, b); return done('removed')
    case 'mute': await rooms.mute(a, b); return done('muted')
    case 'leave': {
      const r = await rooms.leave(a)
      return { json: r, text: r.delivered ? 'left the room' : 'left the room here; no peer has received the leave yet, so the others still count you as a member' }
    }
  }
  throw ShoalError.USAGE(`unknown room subcommand "${sub}"`)
}
