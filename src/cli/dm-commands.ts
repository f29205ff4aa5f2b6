/**
 * `shoal dm SUBCOMMAND …`: send, list and read direct messages. Runs on an open node, or through
 * the serving node's socket like every other command.
 */
import { ShoalError } from '../errors.js'
import { parseIdentity, parseRef, refToString } from '../ids.js'
import { conversationToString, dmList, dmRead, dmRequestList, parseConversation, parseRecipients, type DmMessage } from '../node/dm-json.js'
import type { Shoal } from '../node/shoal.js'
import { intFlag, type Parsed } from './args.js'
import { checkTyped } from '../node/input-checks.js'
import { DM_CAPS } from '../dm/caps.js'
import { escapeLine, escapeText } from './escape.js'
import type { Result } from './commands.js'

export const DM_SUBCOMMANDS = ['send', 'list', 'read', 'requests', 'accept', 'decline'] as const

function str (v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** The subcommand of a `dm …` table entry ("dm send" → "send") and its positionals. */
function dmArgs (p: Parsed): string[] {
  return [p.command.slice('dm '.length), ...p.positionals]
}

/** Checks a `dm` command's arguments before any storage is opened (USAGE, INVALID_ID). */
export function dmPrecheck (p: Parsed): void {
  const [sub, arg, text] = dmArgs(p)
  switch (sub) {
    case 'send':
      if (arg === undefined || text === undefined) throw ShoalError.USAGE('usage: shoal dm send ID[,ID…] TEXT [--reply ID]')
      parseRecipients(arg)
      checkTyped(text, DM_CAPS.text, 'a DM')
      if (str(p.flags.reply) !== undefined) parseRef(str(p.flags.reply) as string)
      return
    case 'list': case 'requests':
      if (arg !== undefined) throw ShoalError.USAGE(`usage: shoal dm ${sub}`)
      return
    case 'accept': case 'decline':
      if (arg === undefined || text !== undefined) throw ShoalError.USAGE(`usage: shoal dm ${sub} ID`)
      parseIdentity(arg)
      return
    case 'read':
      if (arg === undefined || text !== undefined) throw ShoalError.USAGE('usage: shoal dm read CONVERSATION [--limit N] [--before CURSOR]')
      parseConversation(arg)
      intFlag(p.flags.limit, 'limit')
      return
    default:
      throw ShoalError.USAGE(`unknown dm subcommand "${String(sub ?? '')}" (${DM_SUBCOMMANDS.join(', ')})`)
  }
}

function render (m: DmMessage): string {
  const who = m.authorName !== null ? `${escapeLine(m.authorName)} (${m.author.slice(0, 8)})` : m.author.slice(0, 8)
  const when = new Date(m.timestamp).toISOString().replace('T', ' ').slice(0, 16)
  return `${who}  ${when}${m.parent !== null ? `  (reply to ${m.parent.slice(0, 10)}…)` : ''}\n  ${escapeText(m.text).split('\n').join('\n  ')}\n  id ${m.id}`
}

/** Runs `shoal dm …` on an open node. */
export async function dmCommand (shoal: Shoal, p: Parsed): Promise<Result> {
  dmPrecheck(p)
  const [sub, arg, text] = dmArgs(p)
  if (sub === 'send') {
    const reply = str(p.flags.reply)
    const r = await shoal.dm.send({ to: parseRecipients(arg), text, parent: reply !== undefined ? parseRef(reply) : null })
    const json = { id: refToString(r.ref), conversation: conversationToString(r.conversation) }
    return { json, text: `sent ${json.id}\nconversation ${json.conversation}` }
  }
  if (sub === 'list') {
    const list = await dmList(shoal)
    const lines = list.items.map((c) => {
      const names = c.participants.map((x) => x.name !== null ? escapeLine(x.name) : x.id.slice(0, 8)).join(', ')
      return `${c.unread > 0 ? `[${c.unread} new] ` : ''}${names}\n  ${c.last !== null ? escapeLine(c.last.text).slice(0, 80) : ''}\n  conversation ${c.conversation}`
    })
    return { json: list, text: lines.length === 0 ? '(no direct messages)' : lines.join('\n\n') }
  }
  if (sub === 'requests') {
    const { items } = await dmRequestList(shoal)
    const lines = items.map((i) => `${i.name !== null ? escapeLine(i.name) + ' ' : ''}${i.id}\n  conversation ${i.conversation}`)
    return { json: { items }, text: lines.length === 0 ? '(no message requests)' : lines.join('\n') + '\n\naccept: shoal dm accept ID   decline: shoal dm decline ID' }
  }
  if (sub === 'accept' || sub === 'decline') {
    const who = parseIdentity(arg)
    if (sub === 'accept') await shoal.dmRequests.accept(who)
    else await shoal.dmRequests.decline(who)
    return { json: { id: arg }, text: `${sub === 'accept' ? 'accepted' : 'declined'} ${arg}` }
  }
  const page = await dmRead(shoal, arg, { limit: intFlag(p.flags.limit, 'limit'), before: str(p.flags.before) ?? null })
  const body = page.items.length === 0 ? '(nothing yet)' : page.items.map(render).join('\n\n')
  return { json: page, text: body + (page.next !== null ? `\n\nmore: shoal dm read ${arg} --before ${page.next}` : '') }
}
